"""What search indexes and how a query is read: pure functions, no I/O.

Both adapters index exactly what this module derives, so they agree on what matches:

- **Users** are found by a prefix of their username, of their whole full name, or of any
  word of it (``ali``, ``alice sm``, ``smi`` all find "Alice Smith"). Text is compared as NFC
  lower case, the way hashtags already are (``posts.captions.normalise_tag``), so a query
  typed any way finds the stored text; no accent folding (``jose`` does not find "José").
- **Hashtags** are found by a prefix of the tag, with the number of posts carrying it.
- **Posts** are found by every word of the query in their caption or place (``sunset
  lisbon``), by ``#tag`` (the post's parsed hashtags), or both (``#sunset lisbon``). Words are
  runs of letters, digits, underscores and combining marks (what a hashtag is made of), so
  ``#sunset`` in a caption is also the word ``sunset``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

from chalicelib.core.errors import InvalidInput
from chalicelib.posts.captions import MAX_HASHTAG_LENGTH, is_tag_character, normalise_tag
from chalicelib.posts.domain import PostView
from chalicelib.users.domain import User, normalise_username

MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8
# A caption holds up to 2,200 characters; its first 100 distinct words (with the place's)
# are indexed, which bounds what indexing one post writes.
MAX_WORDS_PER_POST = 100
# Longer runs are not words people search for (and would not fit a DynamoDB key).
MAX_WORD_LENGTH = 100
_HASH_SIGNS = "#\uff03"  # as captions.py: '#' and the full-width number sign
_MENTION_SIGN = "@"


class SearchType(StrEnum):
    USERS = "users"
    HASHTAGS = "hashtags"
    POSTS = "posts"


def normalise(text: str) -> str:
    """NFC lower case, whitespace runs made one space, trimmed."""
    return " ".join(normalise_tag(text).split())


def words(text: str) -> list[str]:
    """The words of ``text``, normalised, each once, in order of first appearance."""
    found: dict[str, None] = {}
    current: list[str] = []
    for char in normalise_tag(text) + " ":
        if is_tag_character(char):
            current.append(char)
        elif current:
            found.setdefault("".join(current), None)
            current = []
    return list(found)


# Documents: what the index holds -------------------------------------------------------------


@dataclass(frozen=True)
class UserDocument:
    user_id: str
    username: str
    full_name: str = ""

    @property
    def name_terms(self) -> tuple[str, ...]:
        """What a prefix is matched against: the username, the whole full name and each of
        its words, normalised, each once."""
        terms = [normalise_username(self.username)]
        full_name = normalise(self.full_name)
        if full_name:
            terms.append(full_name)
            terms.extend(words(full_name))
        return tuple(dict.fromkeys(term for term in terms if term))

    @classmethod
    def from_image(cls, image: Mapping[str, Any]) -> UserDocument:
        """From a users-table item (a stream image)."""
        return cls(
            user_id=_text(image, "user_id"),
            username=_text(image, "username"),
            full_name=str(image.get("full_name") or ""),
        )

    @staticmethod
    def findable(image: Mapping[str, Any]) -> bool:
        """Whether a users-table item is an account search may find: not one still waiting
        for its emailed code (it carries ``confirm_by`` until confirmed)."""
        return image.get("confirm_by") is None


@dataclass(frozen=True)
class PostDocument:
    post_id: str
    author_id: str
    created_at: str  # ISO-8601 with milliseconds and Z: sorts as time does
    caption: str = ""
    hashtags: tuple[str, ...] = ()
    location: str | None = None

    @property
    def post_key(self) -> str:
        """The post's place in a newest-first list: its time, then its id."""
        return f"{self.created_at}#{self.post_id}"

    @property
    def words(self) -> tuple[str, ...]:
        """The caption's and the place's words, at most ``MAX_WORDS_PER_POST`` of at most
        ``MAX_WORD_LENGTH`` characters."""
        both = dict.fromkeys([*words(self.caption), *words(self.location or "")])
        return tuple([word for word in both if len(word) <= MAX_WORD_LENGTH][:MAX_WORDS_PER_POST])

    @classmethod
    def from_image(cls, image: Mapping[str, Any]) -> PostDocument:
        """From a posts-table item (a stream image); tags are stored parsed, lower-cased."""
        return cls(
            post_id=_text(image, "post_id"),
            author_id=_text(image, "author_id"),
            created_at=_text(image, "created_at"),
            caption=str(image.get("caption") or ""),
            hashtags=tuple(dict.fromkeys(str(tag) for tag in image.get("hashtags") or ())),
            location=str(image["location"]) if image.get("location") else None,
        )


class UnreadableImage(ValueError):
    """A stream image lacks what indexing needs; the record is reported failed."""


def _text(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    if not isinstance(value, str) or not value:
        raise UnreadableImage(f"the item has no {name}")
    return value


@dataclass(frozen=True)
class HashtagCount:
    tag: str
    post_count: int


# What a search lists, by its type: users, hashtags with their counts, or posts as the
# viewer sees them.
Found = User | HashtagCount | PostView


# Queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostQuery:
    """Posts carrying every tag and every word (at least one of either)."""

    tags: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @property
    def cursor_scope(self) -> str:
        return " ".join([*(f"#{tag}" for tag in self.tags), *self.words])


def checked_query(q: str | None) -> str:
    """``?q=``: required, at most ``MAX_QUERY_LENGTH`` characters, printable."""
    if q is None or not q.strip():
        raise InvalidInput("q is required: what to search for")
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"q: at most {MAX_QUERY_LENGTH} characters")
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in q):
        # Control characters and lone surrogates (no UTF-8 store or AWS API takes them).
        raise InvalidInput("q must be text without control characters")
    return q


def search_type(raw: str | None) -> SearchType:
    choices = ", ".join(kind.value for kind in SearchType)
    if raw is None or raw not in {kind.value for kind in SearchType}:
        raise InvalidInput(f"type must be one of {choices}")
    return SearchType(raw)


def user_prefix(q: str) -> str | None:
    """The normalised prefix users are matched on (a leading ``@`` is allowed); None when
    nothing is left to match."""
    return normalise(q.strip().removeprefix(_MENTION_SIGN)) or None


def hashtag_prefix(q: str) -> str | None:
    """The normalised tag prefix (a leading ``#`` is allowed); None when it cannot start any
    tag (empty, or holding a character tags never hold), so nothing is looked up."""
    text = q.strip()
    if text[:1] in _HASH_SIGNS:
        text = text[1:]
    prefix = normalise_tag(text)
    if not prefix or len(prefix) > MAX_HASHTAG_LENGTH:
        return None
    if not all(is_tag_character(char) for char in prefix):
        return None
    return prefix


def hashtag(raw: str) -> str:
    """A hashtag named in a path (``/hashtags/{tag}/posts``), with or without its ``#``.

    Gateways differ in whether path parameters arrive percent-decoded (``%23sunset``,
    ``%E6%9D%B1``); no tag holds a ``%``, so decoding once more is always safe.
    """
    tag = hashtag_prefix(unquote(raw))
    if tag is None:
        raise InvalidInput(
            "not a hashtag: letters, digits and underscores, at most "
            f"{MAX_HASHTAG_LENGTH} characters"
        )
    return tag


def post_query(q: str) -> PostQuery | None:
    """Tags (words right after ``#``) and words of the query; None when it has neither."""
    tags: dict[str, None] = {}
    found: dict[str, None] = {}
    text = normalise_tag(q) + " "
    start = None
    for index, char in enumerate(text):
        if is_tag_character(char):
            if start is None:
                start = index
            continue
        if start is not None:
            token = text[start:index]
            tagged = start > 0 and text[start - 1] in _HASH_SIGNS
            if tagged and len(token) <= MAX_HASHTAG_LENGTH:
                tags.setdefault(token, None)
            elif not tagged:
                found.setdefault(token, None)
            start = None
    if len(tags) + len(found) > MAX_QUERY_WORDS:
        raise InvalidInput(f"q: at most {MAX_QUERY_WORDS} words and #tags")
    if not tags and not found:
        return None
    return PostQuery(tuple(tags), tuple(found))
