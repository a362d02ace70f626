"""Who may see whose stories: the posts' rule (``posts.visibility``), asked from here.

Every story read and the view route ask here, and this module asks the one rule every
account's content is decided by: the owner; nobody the owner blocked (404, as if the
account did not exist); approved followers for a private account (403 to others); anyone
for a public one.
"""

from __future__ import annotations

from chalicelib.posts import visibility
from chalicelib.users.domain import User


def may_see_stories(
    viewer_id: str, owner: User, viewer_follows_owner: bool, blocked_by_owner: bool = False
) -> bool:
    """The decision itself, over facts the caller has read (so a tray decides for many
    owners from one BatchGetItem)."""
    return visibility.may_see_posts(viewer_id, owner, viewer_follows_owner, blocked_by_owner)


def ensure_may_see_stories(viewer_id: str, owner_id: str) -> User:
    """The owner's profile, after checking the viewer may see their stories (one
    BatchGetItem of the facts).

    Unknown owner, or one who blocked the viewer: NotFound. Private and not followed:
    NotAllowed (403, as the contract says of private accounts).
    """
    return visibility.ensure_may_see(viewer_id, owner_id, "stories")
