"""Sign-up, log-in, refresh and confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chalicelib.auth import cleanup, cognito
from chalicelib.auth.schemas import ConfirmInput, LogInInput, RefreshInput, SignUpInput
from chalicelib.auth.tokens import token_verifier
from chalicelib.core.clock import epoch_seconds, utc_now
from chalicelib.core.config import get_settings
from chalicelib.core.errors import DomainError, InvalidInput
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
    free for the next person. Where sign-ups wait for their emailed code
    (``SIGNUP_CONFIRMATION``), the account stays invisible until ``confirm``, and its names
    are its own only for ``SIGNUP_CONFIRMATION_GRACE_SECONDS``: a later sign-up takes over
    a name whose grace is over, deleting the Cognito user left under it first.
    """
    settings = get_settings()
    now = utc_now()
    taken_over = users.reserve_names(details.username, details.email, epoch_seconds(now))
    try:
        if "username" in taken_over:
            cognito.remove_if_present(details.username)
        user_id = cognito.register(details.username, details.email, details.password)
    except DomainError:
        users.release_names(details.username, details.email)
        raise
    grace = timedelta(seconds=settings.signup_confirmation_grace_seconds)
    user = User(
        user_id=user_id,
        username=details.username,
        full_name=details.full_name,
        bio="",
        avatar=None,
        is_private=False,
        follower_count=0,
        following_count=0,
        post_count=0,
        created_at=now,
        confirm_by=now + grace if settings.signup_confirmation else None,
    )
    try:
        users.create_user(user, details.email)
    except DomainError:
        cognito.remove(details.username)
        users.release_names(details.username, details.email)
        raise
    logger.info("user signed up", user_id=user_id, taken_over=sorted(taken_over))
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
    """Confirm the sign-up with its emailed code (Cognito), then make the account visible
    and its names its own for good (one transaction).

    A retry after the second step failed finds Cognito's user confirmed already and skips
    the code. Too late (a newer sign-up took one of its names over after the grace period):
    400, and the account is let go of at once, Cognito user included.
    """
    account = users.unconfirmed_account(request.username)
    if account is None or not cognito.is_confirmed(account.username, account.user_id):
        cognito.confirm(request.username, request.code)
    if account is None:
        return  # a confirmed account's name, or Cognito's own (it answered for it)
    if users.confirm_user(account):
        logger.info("sign-up confirmed", user_id=account.user_id)
        return
    if users.find_user_id(account.username) == account.user_id:
        return  # a concurrent request confirmed it
    cleanup.let_go(account, utc_now())
    raise InvalidInput(
        "this sign-up was not confirmed in time and its username or email went to a newer "
        "sign-up; sign up again"
    )
