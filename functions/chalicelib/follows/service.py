"""Following and unfollowing, and the lists of followers and followed accounts."""

from __future__ import annotations

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import repository as follows
from chalicelib.users import repository as users
from chalicelib.users.domain import User

FOLLOWING, NONE = "following", "none"


def follow(follower_id: str, followee_id: str) -> str:
    """Idempotent: following someone you already follow changes nothing."""
    if follower_id == followee_id:
        raise InvalidInput("you cannot follow yourself")
    if follows.add_follow(follower_id, followee_id, utc_now()):
        logger.info("followed", follower_id=follower_id, followee_id=followee_id)
        metrics.add_metric(name="Follows", unit="Count", value=1)
    return FOLLOWING


def unfollow(follower_id: str, followee_id: str) -> str:
    """Idempotent: unfollowing someone you don't follow changes nothing."""
    if follower_id == followee_id:
        raise InvalidInput("you cannot unfollow yourself")
    if not users.user_exists(followee_id):
        raise NotFound("no user with that id")
    if follows.remove_follow(follower_id, followee_id):
        logger.info("unfollowed", follower_id=follower_id, followee_id=followee_id)
    return NONE


def followers(user_id: str, page: PageRequest) -> Page[User]:
    if not users.user_exists(user_id):
        raise NotFound("no user with that id")
    return _hydrate(follows.followers_page(user_id, page))


def following(user_id: str, page: PageRequest) -> Page[User]:
    if not users.user_exists(user_id):
        raise NotFound("no user with that id")
    return _hydrate(follows.following_page(user_id, page))


def _hydrate(ids: Page[str]) -> Page[User]:
    """Turn a page of ids into profiles with one BatchGetItem, keeping the page's order."""
    found = users.get_users(ids.items)
    return Page([found[user_id] for user_id in ids.items if user_id in found], ids.position)
