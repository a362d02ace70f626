"""Who may see whose posts, stories and lists: the one place that decides it.

A single post, a profile's grid, its followers and following, stories, search results,
hashtag pages, saved posts and the feed all ask here (``stories.visibility`` delegates to
this rule). The rule: the owner always; nobody the owner blocked (to them the account is as
if it did not exist: 404); approved followers for a private account (a follow edge exists
only once a follow is approved; 403 to others); anyone for a public one.

Blocking is one-way, as on Instagram: the blocker still sees the blocked account as any
stranger does (its profile, to unblock it; its posts if public), while the blocked sees
nothing of the blocker's own. Acting across a block (following, asking to follow, messaging)
is refused inside the write's own transaction (``follows.blocks_repository``); commenting,
liking, saving and reporting posts need the post to be visible, so they are refused here.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.core.errors import NotAllowed, NotFound
from chalicelib.follows import blocks_repository as blocks
from chalicelib.follows import repository as follows
from chalicelib.users import repository as users
from chalicelib.users.domain import User

NO_USER = "no user with that id"


def may_see_posts(
    viewer_id: str, author: User, viewer_follows_author: bool, blocked_by_author: bool = False
) -> bool:
    """The decision itself, over facts the caller has read, so a page of posts by many
    authors is decided from one BatchGetItem. Stories and the lists of followers and
    following are decided by this same rule."""
    if viewer_id == author.user_id:
        return True
    if blocked_by_author:
        return False
    if author.is_private:
        return viewer_follows_author
    return True


def require_may_see(
    viewer_id: str, owner: User, viewer_follows_owner: bool, blocked_by_owner: bool, what: str
) -> None:
    """Raise unless ``may_see_posts`` lets the viewer see the owner's ``what`` (posts,
    stories, followers and following).

    An owner who blocked the viewer: ``NotFound``, the answer for an account that does not
    exist. A private account the viewer does not follow: ``NotAllowed``.
    """
    if may_see_posts(viewer_id, owner, viewer_follows_owner, blocked_by_owner):
        return
    if blocked_by_owner:
        raise NotFound(NO_USER)
    raise NotAllowed(f"this account is private: follow it to see its {what}")


def ensure_may_see(viewer_id: str, owner_id: str, what: str) -> User:
    """The owner's profile, after ``require_may_see``; the facts (the profile, the viewer's
    follow edge and the owner's block of the viewer) come in one BatchGetItem.

    Unknown owner, or one who blocked the viewer: ``NotFound``. Private and not followed:
    ``NotAllowed``.
    """
    if viewer_id == owner_id:
        return users.get_user(owner_id)
    owner, relationship = follows.profile_and_relationship(viewer_id, owner_id)
    if owner is None:
        raise NotFound(NO_USER)
    require_may_see(viewer_id, owner, relationship.followed_by_me, relationship.blocks_me, what)
    return owner


def blockers_of(viewer_id: str, user_ids: Iterable[str]) -> set[str]:
    """The accounts among ``user_ids`` that have blocked the viewer, in one BatchGetItem of
    the block edges (keys (user, viewer); none asked for the viewer themself).

    For lists that are not pages of posts (search's users); a page of posts reads the same
    keys in its own hydration request instead (``posts.repository.read_for_viewer``).
    """
    return blocks.blockers_of(viewer_id, user_ids)
