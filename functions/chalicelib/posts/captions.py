"""Hashtags and mentions in text people write (captions, comments), Instagram's way.

- A hashtag is ``#`` then letters, digits, underscores or combining marks, in any script
  (``#café``, ``#東京``, ``#हिन्दी``, ``#2024``); it ends at the first other character. Tags
  are compared as NFC lower case, so ``#Café`` and ``#CAFÉ`` are one tag.
- A mention is ``@`` then a username's characters (``[a-z0-9._]``, any case, 1..30); a
  trailing period ends the sentence, not the name (``thanks @alice.``).
- Neither counts after a letter, digit or underscore (``mail@example.com``, ``a#b``), nor
  a hashtag after ``&`` (an HTML entity such as ``&#39;``).

Both come back deduplicated, in order of first appearance. Pure functions: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

MAX_HASHTAG_LENGTH = 100
_HASH_SIGNS = "#\uff03"  # '#' and the full-width number sign of CJK keyboards
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._]{1,30})(?![\w.])")


def is_tag_character(char: str) -> bool:
    """Letters, digits, underscores and combining marks, in any script: what a tag (and a
    searchable word) is made of."""
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def normalise_tag(text: str) -> str:
    """How tags are compared and stored (NFC lower case); search normalises queries the same
    way, so a tag typed any way finds the stored one."""
    return unicodedata.normalize("NFC", text).lower()


def hashtags(text: str) -> list[str]:
    """The tags in ``text``, lower-cased, without the ``#``; over-long runs are not tags."""
    found: dict[str, None] = {}
    index, end = 0, len(text)
    while index < end:
        if text[index] not in _HASH_SIGNS:
            index += 1
            continue
        before = text[index - 1] if index else ""
        start = stop = index + 1
        while stop < end and is_tag_character(text[stop]):
            stop += 1
        index = max(stop, index + 1)
        if before and (is_tag_character(before) or before == "&"):
            continue
        tag = normalise_tag(text[start:stop])
        if tag and len(tag) <= MAX_HASHTAG_LENGTH:
            found.setdefault(tag, None)
    return list(found)


def mentions(text: str) -> list[str]:
    """The usernames mentioned in ``text``, lower-cased, without the ``@``."""
    found: dict[str, None] = {}
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".").lower()
        if name:
            found.setdefault(name, None)
    return list(found)
