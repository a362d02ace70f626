"""The /auth routes' bodies in and out."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.core.schema import WHITESPACE, Output, StrictInput
from chalicelib.users.domain import USERNAME_PATTERN, normalise_username
from chalicelib.users.schemas import FullName


def _valid_username(raw: str) -> str:
    username = normalise_username(raw)
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValueError("use 1 to 30 characters: letters, digits, '.' or '_'")
    return username


# The validator gives the message; the pattern says the same to the OpenAPI document: 1 to
# 30 letters, digits, "." or "_", in any case (stored lower-cased), spaces around trimmed.
Username = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_valid_username),
    Field(json_schema_extra={"pattern": f"^[{WHITESPACE}]*[A-Za-z0-9._]{{1,30}}[{WHITESPACE}]*$"}),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=f"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\\.[^@{WHITESPACE}]+$",
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


class SignedUpOut(Output):
    user_id: str
    username: str = Field(description="As stored: lower-cased.")


class SessionOut(Output):
    token: str = Field(description="Send as Authorization: Bearer <token>.")
    refresh_token: str = Field(description="Trade for a new token at POST /auth/refresh.")
    expires_in: int = Field(description="Seconds the token stays valid.")
    user_id: str


class RefreshedOut(Output):
    token: str
    expires_in: int


class ConfirmedOut(Output):
    status: Literal["confirmed"] = "confirmed"
