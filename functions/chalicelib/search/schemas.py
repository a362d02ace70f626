"""The search routes' query in and results out."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from chalicelib.core.schema import Output, QueryInput
from chalicelib.posts.schemas import PostOut
from chalicelib.search.domain import MAX_QUERY_LENGTH, HashtagCount, SearchType, checked_query
from chalicelib.users.schemas import UserSummaryOut


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
    ]
    type: SearchType


class HashtagOut(Output):
    tag: str = Field(description="Lower-cased, without its #.")
    post_count: int


# What a search lists, by its ``type``: users, hashtags or posts.
SearchResult = UserSummaryOut | HashtagOut | PostOut


def render_hashtag(tag: HashtagCount) -> HashtagOut:
    return HashtagOut(tag=tag.tag, post_count=tag.post_count)
