"""The search index on DynamoDB: the default, for the local stack and small deployments.

The search table family, three tables:

- ``search_names``: one item per (user, name term): the username, the whole full name and
  each of its words. The ``names_by_prefix`` GSI keys them by the term's first character,
  sorted by ``<term>\\n<user id>``, so a prefix is one ``begins_with`` Query. A user matching
  on several terms (``ali`` is a prefix of "alice" and of "alice smith") is kept only at the
  first of them in index order: every item carries all of its user's terms, so the check
  needs no state, and a cursor never brings a user back.
- ``search_hashtags``: one item per tag with its ``post_count``; the ``hashtags_by_prefix``
  GSI keys tags by their first character, so a tag prefix is one Query.
- ``search_terms``: one item per (term, post), sorted by ``<created_at>#<post_id>``: terms
  are ``tag:<tag>`` (the hashtag page, newest first, is one Query) and ``word:<word>`` for
  the caption's and the place's words. A query of several terms pages through the first
  (a tag, else the longest word) and checks the others for those posts in one BatchGetItem.

Counts stay exact however often a stream record is delivered: a ``tag:`` item and its
hashtag's count change in one transaction, conditioned on the item's (non-)existence.

Fit for small deployments: every name starting with one letter is one GSI partition, and a
common word is one partition of ``search_terms`` (DynamoDB adapts partitions to hot keys,
up to about 3,000 reads and 1,000 writes a second each). Past that, use OpenSearch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, QueryError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.dynamodb import BaseMeta, FromSettings, failed_items, transact
from chalicelib.core.errors import DependencyUnavailable, InvalidInput
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.search.domain import HashtagCount, PostDocument, PostQuery, UserDocument

# A page whose items the adapter drops (a user seen at an earlier term, a post lacking a
# word) asks again, up to this many Queries; the cursor carries on where they stopped.
MAX_QUERIES_PER_PAGE = 4
_TERM_SEPARATOR = "\n"  # never in a normalised term, and sorts before every character in one


class NamesByPrefix(GlobalSecondaryIndex["NameTermItem"]):
    class Meta:
        index_name = "names_by_prefix"
        projection = AllProjection()

    name_bucket = UnicodeAttribute(hash_key=True)
    name_key = UnicodeAttribute(range_key=True)


class NameTermItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("search_names_table")

    user_id = UnicodeAttribute(hash_key=True)
    term = UnicodeAttribute(range_key=True)
    name_bucket = UnicodeAttribute()  # the term's first character
    name_key = UnicodeAttribute()  # "<term>\n<user_id>"
    terms = ListAttribute(of=UnicodeAttribute, default=list)  # all of the user's terms

    by_prefix = NamesByPrefix()


class HashtagsByPrefix(GlobalSecondaryIndex["HashtagItem"]):
    class Meta:
        index_name = "hashtags_by_prefix"
        projection = AllProjection()

    tag_bucket = UnicodeAttribute(hash_key=True)
    tag = UnicodeAttribute(range_key=True)


class HashtagItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("search_hashtags_table")

    tag = UnicodeAttribute(hash_key=True)
    tag_bucket = UnicodeAttribute(null=True)  # the tag's first character
    post_count = NumberAttribute(default=0)

    by_prefix = HashtagsByPrefix()


class TermItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("search_terms_table")

    term = UnicodeAttribute(hash_key=True)  # "tag:<tag>" or "word:<word>"
    post_key = UnicodeAttribute(range_key=True)  # "<created_at>#<post_id>": sorts by time
    post_id = UnicodeAttribute()


def _tag_term(tag: str) -> str:
    return f"tag:{tag}"


def _word_term(word: str) -> str:
    return f"word:{word}"


def _name_key(term: str, user_id: str) -> str:
    return f"{term}{_TERM_SEPARATOR}{user_id}"


def _first_match(item: NameTermItem, prefix: str) -> bool:
    """Whether ``item`` is the first of its user's items a Query for ``prefix`` meets."""
    user_id = str(item.user_id)
    terms = [str(term) for term in item.terms or ()]
    matching = [_name_key(term, user_id) for term in terms if term.startswith(prefix)]
    return not matching or min(matching) == item.name_key


class DynamoDBSearchIndex:
    """``SearchIndex`` over the search table family (see the module's docstring)."""

    name = "dynamodb"

    # Users ----------------------------------------------------------------------------------

    def index_user(self, user: UserDocument) -> None:
        wanted = user.name_terms
        try:
            stored = {
                item.term
                for item in NameTermItem.query(user.user_id, attributes_to_get=["user_id", "term"])
            }
            with NameTermItem.batch_write() as batch:
                for term in wanted:
                    batch.save(
                        NameTermItem(
                            user.user_id,
                            term,
                            name_bucket=term[0],
                            name_key=_name_key(term, user.user_id),
                            terms=list(wanted),
                        )
                    )
                for term in stored - set(wanted):
                    batch.delete(NameTermItem(user.user_id, term))
        except PynamoDBException as exc:
            raise DependencyUnavailable("could not index the user") from exc

    def remove_user(self, user_id: str) -> None:
        try:
            items = list(NameTermItem.query(user_id, attributes_to_get=["user_id", "term"]))
            with NameTermItem.batch_write() as batch:
                for item in items:
                    batch.delete(item)
        except PynamoDBException as exc:
            raise DependencyUnavailable("could not unindex the user") from exc

    def bulk_index(self, users: Sequence[UserDocument], posts: Sequence[PostDocument]) -> None:
        # Each post's tags are counted in their own transactions, so one by one it is.
        for user in users:
            self.index_user(user)
        for post in posts:
            self.index_post(post)

    def search_users(self, prefix: str, page: PageRequest) -> Page[str]:
        found: list[str] = []
        position = page.position
        for _ in range(MAX_QUERIES_PER_PAGE):
            results = NameTermItem.by_prefix.query(
                prefix[0],
                NameTermItem.name_key.startswith(prefix),
                limit=page.limit - len(found),
                last_evaluated_key=position,
            )
            with _reading(page):
                found += [item.user_id for item in results if _first_match(item, prefix)]
            position = results.last_evaluated_key
            if position is None or len(found) >= page.limit:
                break
        return Page(found, position)

    # Hashtags -------------------------------------------------------------------------------

    def search_hashtags(self, prefix: str, page: PageRequest) -> Page[HashtagCount]:
        results = HashtagItem.by_prefix.query(
            prefix[0],
            HashtagItem.tag.startswith(prefix),
            filter_condition=HashtagItem.post_count > 0,  # tags whose posts were all deleted
            limit=page.limit,
            last_evaluated_key=page.position,
        )
        with _reading(page):
            tags = [HashtagCount(item.tag, int(item.post_count)) for item in results]
        return Page(tags, results.last_evaluated_key)

    def hashtag_posts(self, tag: str, page: PageRequest) -> Page[str]:
        return self.search_posts(PostQuery(tags=(tag,)), page)

    # Posts ----------------------------------------------------------------------------------

    def index_post(self, post: PostDocument, previous: PostDocument | None = None) -> None:
        gone_words = set(previous.words) - set(post.words) if previous else set()
        try:
            with TermItem.batch_write() as batch:
                for word in post.words:
                    batch.save(TermItem(_word_term(word), post.post_key, post_id=post.post_id))
                for word in gone_words:
                    batch.delete(TermItem(_word_term(word), post.post_key))
        except PynamoDBException as exc:
            raise DependencyUnavailable("could not index the post") from exc
        for tag in post.hashtags:
            self._count_tag(tag, post, counted=True)
        for tag in set(previous.hashtags if previous else ()) - set(post.hashtags):
            self._count_tag(tag, post, counted=False)

    def remove_post(self, post: PostDocument) -> None:
        for tag in post.hashtags:
            self._count_tag(tag, post, counted=False)
        try:
            with TermItem.batch_write() as batch:
                for word in post.words:
                    batch.delete(TermItem(_word_term(word), post.post_key))
        except PynamoDBException as exc:
            raise DependencyUnavailable("could not unindex the post") from exc

    def _count_tag(self, tag: str, post: PostDocument, counted: bool) -> None:
        """Store (or delete) the (tag, post) item and change the tag's count with it, in one
        transaction conditioned on the item, so a repeated record changes nothing."""
        pair = TermItem(_tag_term(tag), post.post_key, post_id=post.post_id)

        def build(transaction: TransactWrite) -> None:
            if counted:
                transaction.save(pair, condition=TermItem.term.does_not_exist())
            else:
                transaction.delete(pair, condition=TermItem.term.exists())
            transaction.update(
                HashtagItem(tag),
                actions=[
                    HashtagItem.post_count.add(1 if counted else -1),
                    HashtagItem.tag_bucket.set(tag[0]),
                ],
            )

        try:
            transact(build)
        except TransactWriteError as exc:
            if "pair" in failed_items(exc, ["pair", "hashtag"]):
                return  # counted (or uncounted) already
            raise DependencyUnavailable("could not count the hashtag") from exc

    def search_posts(self, query: PostQuery, page: PageRequest) -> Page[str]:
        terms = [_tag_term(tag) for tag in query.tags]
        terms += [_word_term(word) for word in sorted(query.words, key=len, reverse=True)]
        driver, others = terms[0], terms[1:]
        found: list[str] = []
        position = page.position
        for _ in range(MAX_QUERIES_PER_PAGE):
            results = TermItem.query(
                driver,
                scan_index_forward=False,
                limit=page.limit - len(found),
                last_evaluated_key=position,
            )
            with _reading(page):
                candidates = [(item.post_key, item.post_id) for item in results]
                found += _having_all(others, candidates)
            position = results.last_evaluated_key
            if position is None or len(found) >= page.limit:
                break
        return Page(found, position)


def _having_all(terms: list[str], candidates: list[tuple[str, str]]) -> list[str]:
    """Ids of the candidate posts that carry every one of ``terms`` (one BatchGetItem per
    hundred keys), in the candidates' order."""
    if not terms or not candidates:
        return [post_id for _, post_id in candidates]
    keys = [(term, post_key) for term in terms for post_key, _ in candidates]
    present: dict[str, int] = {}
    for item in TermItem.batch_get(keys, attributes_to_get=["term", "post_key"]):
        present[item.post_key] = present.get(item.post_key, 0) + 1
    return [post_id for post_key, post_id in candidates if present.get(post_key) == len(terms)]


@contextmanager
def _reading(page: PageRequest) -> Iterator[None]:
    """Turns the SDK's errors while reading results into domain errors."""
    try:
        yield
    except QueryError as exc:
        if exc.cause_response_code == "ValidationException" and page.position is not None:
            raise InvalidInput("cursor is not valid for this list: start again without it") from exc
        raise DependencyUnavailable("search is unavailable; retry shortly") from exc
    except PynamoDBException as exc:
        raise DependencyUnavailable("search is unavailable; retry shortly") from exc
