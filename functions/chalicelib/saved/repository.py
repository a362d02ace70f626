"""The saved-posts table: one item per (user, post), listed newest first by an LSI.

A saved post that is later deleted or hidden from the saver stays here; reads skip it (see
``service.saved_posts``), so it vanishes from ``GET /saved`` at once.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.indexes import KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.clock import iso
from chalicelib.core.dynamodb import BaseMeta, FromSettings, page_of
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.core.pagination import Page, PageRequest


class SavedByTime(LocalSecondaryIndex["SavedPostItem"]):
    class Meta:
        index_name = "saved_by_time"
        projection = KeysOnlyProjection()

    user_id = UnicodeAttribute(hash_key=True)
    saved_key = UnicodeAttribute(range_key=True)


class SavedPostItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("saved_posts_table")

    user_id = UnicodeAttribute(hash_key=True)
    post_id = UnicodeAttribute(range_key=True)
    # "<saved_at>#<post_id>": unique, and sorts by when it was saved.
    saved_key = UnicodeAttribute()

    by_time = SavedByTime()


def save(user_id: str, post_id: str, at: datetime) -> bool:
    """Save the post for the user; False when it already was (its first time is kept)."""
    item = SavedPostItem(user_id, post_id, saved_key=f"{iso(at)}#{post_id}")
    try:
        item.save(condition=SavedPostItem.post_id.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not save the post; retry shortly") from exc


def unsave(user_id: str, post_id: str) -> None:
    try:
        SavedPostItem(user_id, post_id).delete()
    except DeleteError as exc:
        raise DependencyUnavailable("could not unsave the post; retry shortly") from exc


def saved_page(user_id: str, page: PageRequest) -> Page[str]:
    """Post ids the user saved, most recently saved first."""
    results = SavedPostItem.by_time.query(
        user_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(
        results,
        lambda item: item.saved_key.split("#", 1)[1],
        "could not list saved posts; retry shortly",
    )
