"""Request bodies of the /auth routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from chalicelib.core.schema import StrictInput
from chalicelib.users.domain import USERNAME_PATTERN, normalise_username
from chalicelib.users.schemas import FullName


def _valid_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValueError("use 1 to 30 characters: letters, digits, '.' or '_'")
    return username


Username = Annotated[str, StringConstraints(max_length=64), AfterValidator(_valid_username)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class SignUpInput(StrictInput):
    username: Username
    email: Email
    password: Password
    full_name: FullName = ""


class LogInInput(StrictInput):
    username: Username
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RefreshInput(StrictInput):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ConfirmInput(StrictInput):
    username: Username
    code: Annotated[str, StringConstraints(min_length=1, max_length=16)]
