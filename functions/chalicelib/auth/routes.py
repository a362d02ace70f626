from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.core.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.auth import schemas, service
else:
    schemas = lazy_module("chalicelib.auth.schemas")
    service = lazy_module("chalicelib.auth.service")

auth_api = Blueprint(__name__)


@auth_api.route("/auth/signup", methods=["POST"])
@operation(status=201, errors=(409,))
def sign_up(details: schemas.SignUpInput) -> schemas.SignedUpOut:
    """Create an account; a username or email already taken: 409."""
    user = service.sign_up(details)
    return schemas.SignedUpOut(user_id=user.user_id, username=user.username)


@auth_api.route("/auth/login", methods=["POST"])
@operation(errors=(401,))
def log_in(details: schemas.LogInInput) -> schemas.SessionOut:
    """Trade a username and password for a token; wrong credentials: 401."""
    session = service.log_in(details)
    if session.refresh_token is None:  # a log-in always has one; a refresh does not
        raise RuntimeError("Cognito answered a log-in without a refresh token")
    return schemas.SessionOut(
        token=session.token,
        refresh_token=session.refresh_token,
        expires_in=session.expires_in,
        user_id=session.user_id,
    )


@auth_api.route("/auth/refresh", methods=["POST"])
@operation(errors=(401,))
def refresh(details: schemas.RefreshInput) -> schemas.RefreshedOut:
    """Trade a refresh token for a new token; an expired or revoked one: 401."""
    session = service.refresh(details)
    return schemas.RefreshedOut(token=session.token, expires_in=session.expires_in)


@auth_api.route("/auth/confirm", methods=["POST"])
def confirm(details: schemas.ConfirmInput) -> schemas.ConfirmedOut:
    """Confirm a sign-up with the emailed code, where sign-up confirmation is on."""
    service.confirm(details)
    return schemas.ConfirmedOut()
