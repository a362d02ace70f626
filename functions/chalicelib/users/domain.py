"""Users: who someone is on the service, and how two people relate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chalicelib.media.domain import AttachedMedia

USERNAME_PATTERN = re.compile(r"^[a-z0-9._]{1,30}$")
MAX_FULL_NAME = 64
MAX_BIO = 150


def normalise_username(raw: str) -> str:
    """Usernames are unique case-insensitively, so they are stored lower-cased."""
    return raw.strip().lower()


@dataclass(frozen=True)
class User:
    user_id: str
    username: str
    full_name: str
    bio: str
    avatar: AttachedMedia | None
    is_private: bool
    follower_count: int
    following_count: int
    post_count: int
    created_at: datetime
    is_celebrity: bool = False
    # Set while the account waits for its emailed code (SIGNUP_CONFIRMATION): until then
    # nobody sees it, and after this its names may be taken and the account removed.
    confirm_by: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirm_by is None


@dataclass(frozen=True)
class UnconfirmedAccount:
    """A sign-up waiting for its emailed code: what confirming or removing it needs."""

    user_id: str
    username: str
    email: str
    confirm_by: datetime


@dataclass(frozen=True)
class Relationship:
    """How the viewer relates to a profile they look at."""

    followed_by_me: bool = False
    follows_me: bool = False
    # The viewer asked to follow this private account and has not been approved yet.
    follow_requested_by_me: bool = False
    # The viewer blocked this account (they still see its profile, to unblock it).
    blocked_by_me: bool = False
    # This account blocked the viewer: to them it is as if it did not exist (never rendered).
    blocks_me: bool = False


class AvatarChanged(Exception):
    """An avatar change's transaction found another avatar than the one it replaces: a
    concurrent request changed it. The service reads the profile again and retries."""
