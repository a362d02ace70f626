"""The search routes' query in and results out."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from chalicelib.core.schema import WHITESPACE, Output, QueryInput
from chalicelib.posts.captions import MAX_HASHTAG_LENGTH
from chalicelib.posts.domain import PostView
from chalicelib.posts.schemas import PostOut, render_post
from chalicelib.search.domain import (
    MAX_QUERY_LENGTH,
    Found,
    HashtagCount,
    SearchType,
    checked_query,
)
from chalicelib.users.schemas import UserSummaryOut, render_summary

_CC = r"\x00-\x1f\x7f-\x9f"  # Unicode's control characters (Cc), tabs included


class SearchQuery(QueryInput):
    q: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="users: a username or name prefix (a leading @ is fine); hashtags: "
            "a tag prefix (a leading # is fine); posts: caption words, #tags and places.",
        ),
        AfterValidator(checked_query),
        # What checked_query checks, for the document: something besides whitespace, and
        # no control character.
        Field(json_schema_extra={"pattern": f"^[^{_CC}]*[^{WHITESPACE}{_CC}][^{_CC}]*$"}),
    ]
    type: SearchType


# A tag as a path names it (/hashtags/{tag}/posts): search.domain.hashtag is the rule; the
# pattern says it to the document (letters, digits, underscores and combining marks, an
# optional leading number sign, plain or full-width).
# Its length is held by the contract layer before the rule runs: a tag may arrive
# percent-encoded (each of its characters up to four UTF-8 bytes, three characters each).
_LONGEST_TAG_IN_PATH = (MAX_HASHTAG_LENGTH + 1) * 4 * 3
TagInPath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=_LONGEST_TAG_IN_PATH),
    Field(
        json_schema_extra={
            "pattern": rf"^[#\uff03]?[\w\u0300-\u036f]{{1,{MAX_HASHTAG_LENGTH}}}$",
        }
    ),
]


class HashtagOut(Output):
    tag: str = Field(description="Lower-cased, without its #.")
    post_count: int


# What a search lists, by its ``type``: users, hashtags or posts.
SearchResult = UserSummaryOut | HashtagOut | PostOut


def render_hashtag(tag: HashtagCount) -> HashtagOut:
    return HashtagOut(tag=tag.tag, post_count=tag.post_count)


def render_result(found: Found) -> SearchResult:
    if isinstance(found, HashtagCount):
        return render_hashtag(found)
    if isinstance(found, PostView):
        return render_post(found)
    return render_summary(found)
