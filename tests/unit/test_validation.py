from __future__ import annotations

import pytest
from chalicelib.auth.schemas import SignUpInput
from chalicelib.core.errors import InvalidInput
from chalicelib.core.schema import validate_input
from chalicelib.users.schemas import UpdateProfileInput

GOOD = {"username": "Alice.B_1", "email": " Alice@Example.COM ", "password": "long enough"}


def test_usernames_and_emails_are_normalised() -> None:
    details = validate_input(SignUpInput, GOOD)
    assert details.username == "alice.b_1"
    assert details.email == "alice@example.com"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "x" * 31}, "username"),
        ({"username": "bad-dash"}, "username"),
        ({"email": "nope"}, "email"),
        ({"password": "short"}, "password"),
        ({"full_name": "a\x00b"}, "full_name"),
        ({"extra": 1}, "extra"),
        ({"username": 7}, "username"),
    ],
)
def test_each_problem_names_its_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_input(SignUpInput, {**GOOD, **change})
    assert caught.value.message.startswith(field)


def test_no_coercion_from_strings_or_numbers() -> None:
    for value in ("true", 1, "1"):
        with pytest.raises(InvalidInput):
            validate_input(UpdateProfileInput, {"is_private": value})


def test_the_message_never_echoes_a_huge_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_input(UpdateProfileInput, {"bio": "x" * 1_000_000})
    assert len(caught.value.message) < 300


@pytest.mark.parametrize("body", [[], None, "text", 3])
def test_only_objects_are_bodies(body: object) -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        validate_input(UpdateProfileInput, body)


def test_bios_keep_line_breaks() -> None:
    assert validate_input(UpdateProfileInput, {"bio": "line one\nline two\t!"}).bio == (
        "line one\nline two\t!"
    )
