"""Sign-up, log-in, refresh and confirmation."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.auth import cognito
from chalicelib.auth.schemas import ConfirmInput, LogInInput, RefreshInput, SignUpInput
from chalicelib.auth.tokens import token_verifier
from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.core.errors import DomainError
from chalicelib.core.observability import logger, metrics
from chalicelib.users import repository as users
from chalicelib.users.domain import User


@dataclass(frozen=True)
class Session:
    token: str
    expires_in: int
    user_id: str
    refresh_token: str | None = None


def sign_up(details: SignUpInput) -> User:
    """Reserve the name, register with Cognito, then store the profile.

    Each step undoes the earlier ones when it fails, so a refused sign-up leaves the name
    free for the next person.
    """
    now = utc_now()
    users.reserve_names(details.username, details.email, epoch_seconds(now))
    try:
        user_id = cognito.register(details.username, details.email, details.password)
    except DomainError:
        users.release_names(details.username, details.email)
        raise
    user = User(
        user_id=user_id,
        username=details.username,
        full_name=details.full_name,
        bio="",
        avatar_media_id=None,
        is_private=False,
        follower_count=0,
        following_count=0,
        post_count=0,
        created_at=now,
    )
    try:
        users.create_user(user, details.email)
    except DomainError:
        cognito.remove(details.username)
        users.release_names(details.username, details.email)
        raise
    logger.info("user signed up", user_id=user_id)
    metrics.add_metric(name="SignUps", unit="Count", value=1)
    return user


def log_in(credentials: LogInInput) -> Session:
    tokens = cognito.authenticate(credentials.username, credentials.password)
    caller = token_verifier().verify(tokens.access_token)
    return Session(tokens.access_token, tokens.expires_in, caller.user_id, tokens.refresh_token)


def refresh(request: RefreshInput) -> Session:
    tokens = cognito.refresh(request.refresh_token)
    caller = token_verifier().verify(tokens.access_token)
    return Session(tokens.access_token, tokens.expires_in, caller.user_id)


def confirm(request: ConfirmInput) -> None:
    cognito.confirm(request.username, request.code)
