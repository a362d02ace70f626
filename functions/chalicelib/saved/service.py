"""Saving posts to come back to: only posts the saver may see, listed as they are now."""

from __future__ import annotations

from chalicelib.core.clock import utc_now
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.posts import service as posts
from chalicelib.posts.domain import PostView
from chalicelib.saved import repository


def save(user_id: str, post_id: str) -> None:
    """Save a post the user may see (404 unknown, 403 a private account's); idempotent."""
    posts.ensure_post_visible(user_id, post_id)
    repository.save(user_id, post_id, utc_now())


def unsave(user_id: str, post_id: str) -> None:
    """Forget a saved post; idempotent, and fine for a post that is gone."""
    repository.unsave(user_id, post_id)


def saved_posts(user_id: str, page: PageRequest) -> Page[PostView]:
    """The user's saved posts, most recently saved first, as they see them now.

    Posts deleted since, or no longer visible to the user (an account that went private),
    are left out, decided in the same request that reads the rest; a page can so hold
    fewer than ``limit`` items while ``next_cursor`` still leads on.
    """
    post_ids = repository.saved_page(user_id, page)
    return Page(posts.hydrate(user_id, post_ids.items, visible_only=True), post_ids.position)
