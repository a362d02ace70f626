"""The identity provider: Amazon Cognito user pools (moto's on the local stack).

Every Cognito error becomes a domain error here; nothing above this module sees botocore.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clients import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.errors import (
    AlreadyExists,
    DependencyUnavailable,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
)

_WRONG_CREDENTIALS = "wrong username or password"


class _NoSuchUser(DomainError):
    """Cognito has no user of that name (never raised past this module)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def _translate(exc: ClientError, *, on_not_authorized: DomainError) -> DomainError:
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return on_not_authorized
    if code == "UserNotConfirmedException":
        return NotAllowed("confirm your account with the code we sent before logging in")
    if code == "UsernameExistsException":
        return AlreadyExists("that username is taken")
    if code == "InvalidPasswordException":
        return InvalidInput(f"password: {message or 'does not meet the password policy'}")
    if code in ("CodeMismatchException", "ExpiredCodeException"):
        return InvalidInput("the confirmation code is wrong or has expired")
    if code == "InvalidParameterException":
        return InvalidInput(message or "invalid sign-up details")
    if code in (
        "TooManyRequestsException",
        "LimitExceededException",
        "TooManyFailedAttemptsException",
    ):
        return DependencyUnavailable("too many attempts; wait a moment and retry")
    return DependencyUnavailable("the identity service failed; retry shortly")


def _call(operation: str, on_not_authorized: DomainError | None = None, **params: object) -> dict:
    client = aws_client("cognito-idp")
    try:
        return getattr(client, operation)(**params)
    except ClientError as exc:
        raise _translate(
            exc, on_not_authorized=on_not_authorized or NotAuthenticated(_WRONG_CREDENTIALS)
        ) from exc
    except BotoCoreError as exc:
        raise DependencyUnavailable("the identity service is unreachable; retry shortly") from exc


def register(username: str, email: str, password: str) -> str:
    """Create the Cognito user; returns its ``sub``, which is our user id."""
    settings = get_settings()
    response = _call(
        "sign_up",
        ClientId=settings.user_pool_client_id,
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    if not settings.signup_confirmation:
        _call("admin_confirm_sign_up", UserPoolId=settings.user_pool_id, Username=username)
    return response["UserSub"]


def confirm(username: str, code: str) -> None:
    _call(
        "confirm_sign_up",
        on_not_authorized=InvalidInput("this account cannot be confirmed"),
        ClientId=get_settings().user_pool_client_id,
        Username=username,
        ConfirmationCode=code,
    )


def authenticate(username: str, password: str) -> Tokens:
    result = _call(
        "initiate_auth",
        ClientId=get_settings().user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return Tokens(result["AccessToken"], int(result["ExpiresIn"]), result.get("RefreshToken"))


def refresh(refresh_token: str) -> Tokens:
    result = _call(
        "initiate_auth",
        on_not_authorized=NotAuthenticated("the refresh token is invalid or expired; log in again"),
        ClientId=get_settings().user_pool_client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )["AuthenticationResult"]
    return Tokens(result["AccessToken"], int(result["ExpiresIn"]))


def remove(username: str) -> None:
    """Undo a registration whose profile could not be stored."""
    _call("admin_delete_user", UserPoolId=get_settings().user_pool_id, Username=username)


def remove_if_present(username: str) -> None:
    """Delete the user registered under this name, if there is one (idempotent).

    Only for a name whose reservation the caller holds: then no sign-up can be registering
    it meanwhile, and whoever Cognito has under it is left over from an account being removed.
    """
    try:
        _call(
            "admin_delete_user",
            on_not_authorized=_NoSuchUser("gone already"),
            UserPoolId=get_settings().user_pool_id,
            Username=username,
        )
    except _NoSuchUser:
        return


def is_confirmed(username: str, user_id: str) -> bool:
    """Whether Cognito's user of this name is that account (its ``sub``) and confirmed: a
    confirmation whose second step failed is finished without asking for the code again."""
    try:
        found = _call(
            "admin_get_user",
            on_not_authorized=_NoSuchUser("no such user"),
            UserPoolId=get_settings().user_pool_id,
            Username=username,
        )
    except _NoSuchUser:
        return False
    attributes = {a["Name"]: a["Value"] for a in found.get("UserAttributes", [])}
    return attributes.get("sub") == user_id and found.get("UserStatus") == "CONFIRMED"
