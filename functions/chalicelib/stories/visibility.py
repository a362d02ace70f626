"""Who may see whose stories: the one place that decides it.

Every story read and the view route ask here, so the privacy work (follow requests, blocks)
changes this module only. Today: the owner; anyone for a public account; approved followers
for a private one (a follow edge exists only once a follow is approved).
"""

from __future__ import annotations

from chalicelib.core.errors import NotAllowed
from chalicelib.follows import repository as follows
from chalicelib.users import repository as users
from chalicelib.users.domain import User


def may_see_stories(viewer_id: str, owner: User, viewer_follows_owner: bool) -> bool:
    """The decision itself, over facts the caller has read (so a tray decides for many
    owners from one BatchGetItem)."""
    if viewer_id == owner.user_id:
        return True
    if owner.is_private:
        return viewer_follows_owner
    return True


def ensure_may_see_stories(viewer_id: str, owner_id: str) -> User:
    """The owner's profile, after checking the viewer may see their stories.

    Unknown owner: NotFound. Not allowed: NotAllowed (403, as the contract says of private
    accounts; blocks will answer 404 from here).
    """
    owner = users.get_user(owner_id)
    following = (
        owner.is_private and viewer_id != owner_id and follows.is_following(viewer_id, owner_id)
    )
    if not may_see_stories(viewer_id, owner, following):
        raise NotAllowed("this account is private: follow it to see its stories")
    return owner
