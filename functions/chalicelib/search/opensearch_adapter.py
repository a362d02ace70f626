"""The search index on Amazon OpenSearch Service, used when ``OPENSEARCH_ENDPOINT`` is set.

Three indexes, named ``<prefix>-users-v1``, ``<prefix>-posts-v1`` and
``<prefix>-hashtag-posts-v1`` (the prefix defaults to ``shutter-<stage>``; a mapping change
means a new version and a reindex):

- users: ``username`` (keyword) with an edge-n-gram subfield, so a username prefix is one
  term lookup; ``full_name`` as ``search_as_you_type``, queried ``bool_prefix``, so "ali",
  "alice sm" and "smi" find "Alice Smith". Sorted by username.
- posts: ``caption`` and ``location`` analysed (standard analyser) and copied into ``text``,
  which a query's words must all match; ``hashtags`` keyword. Newest first.
- hashtag-posts: one document per (tag, post), so a tag prefix with post counts is one
  composite aggregation (paged by its ``after`` key), and a repeated or late stream record
  can never count a post twice: ids are ``<tag>|<post_id>``, so writing one again replaces it.

Requests are signed with SigV4 (``AWSV4SignerAuth``, service ``es``; ``aoss`` for
OpenSearch Serverless) with the function's own credentials: the domain's access policy must
allow its role ``es:ESHttpGet``, ``es:ESHttpHead``, ``es:ESHttpPost`` and ``es:ESHttpPut``.
``opensearch-py`` is imported on first use, so functions that never search do not load it.

The mapping and query bodies are module-level builders, checked in tests; the tests run this
adapter against ``tests/fakes/opensearch_server.py`` (see there what a fake cannot confirm).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from chalicelib.core.errors import DependencyUnavailable, InvalidInput
from chalicelib.core.observability import logger
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.search.domain import HashtagCount, PostDocument, PostQuery, UserDocument

INDEX_VERSION = "v1"
USERNAME_MAX_GRAM = 30  # usernames are at most 30 characters
REQUEST_TIMEOUT_SECONDS = 5

_SETTINGS: dict[str, Any] = {"index": {"number_of_shards": 1, "number_of_replicas": 1}}

USERS_INDEX: dict[str, Any] = {
    "settings": {
        **_SETTINGS,
        "analysis": {
            "filter": {
                "username_edges": {
                    "type": "edge_ngram",
                    "min_gram": 1,
                    "max_gram": USERNAME_MAX_GRAM,
                }
            },
            "analyzer": {
                # "alice_w" -> a, al, ali, ... alice_w: every prefix is one indexed term.
                "username_prefixes": {
                    "type": "custom",
                    "tokenizer": "keyword",
                    "filter": ["lowercase", "username_edges"],
                },
                "username_exact": {
                    "type": "custom",
                    "tokenizer": "keyword",
                    "filter": ["lowercase"],
                },
            },
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "user_id": {"type": "keyword"},
            "username": {
                "type": "keyword",
                "fields": {
                    "prefixes": {
                        "type": "text",
                        "analyzer": "username_prefixes",
                        "search_analyzer": "username_exact",
                    }
                },
            },
            "full_name": {"type": "search_as_you_type"},
        },
    },
}

POSTS_INDEX: dict[str, Any] = {
    "settings": _SETTINGS,
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "post_id": {"type": "keyword"},
            "author_id": {"type": "keyword"},
            "created_at": {"type": "date", "format": "strict_date_optional_time"},
            "caption": {"type": "text", "copy_to": "text"},
            "location": {"type": "text", "copy_to": "text"},
            "hashtags": {"type": "keyword"},
            "text": {"type": "text"},
        },
    },
}

HASHTAG_POSTS_INDEX: dict[str, Any] = {
    "settings": _SETTINGS,
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "tag": {"type": "keyword"},
            "post_id": {"type": "keyword"},
            "created_at": {"type": "date", "format": "strict_date_optional_time"},
        },
    },
}

_NEWEST_FIRST = [{"created_at": {"order": "desc"}}, {"post_id": {"order": "desc"}}]


# Documents ----------------------------------------------------------------------------------


def user_source(user: UserDocument) -> dict[str, Any]:
    return {"user_id": user.user_id, "username": user.username, "full_name": user.full_name}


def post_source(post: PostDocument) -> dict[str, Any]:
    return {
        "post_id": post.post_id,
        "author_id": post.author_id,
        "created_at": post.created_at,
        "caption": post.caption,
        "location": post.location,
        "hashtags": list(post.hashtags),
    }


def hashtag_post_id(tag: str, post_id: str) -> str:
    return f"{tag}|{post_id}"


# Queries ------------------------------------------------------------------------------------


def users_query(prefix: str, limit: int, after: list[Any] | None) -> dict[str, Any]:
    """Users whose username starts with ``prefix``, or whose full name does (word by word:
    every word but the last whole, the last as a prefix), by username."""
    body: dict[str, Any] = {
        "size": limit,
        "_source": ["user_id"],
        "query": {
            "bool": {
                "should": [
                    {"term": {"username.prefixes": prefix}},
                    {
                        "multi_match": {
                            "query": prefix,
                            "type": "bool_prefix",
                            "operator": "and",
                            "fields": ["full_name", "full_name._2gram", "full_name._3gram"],
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        },
        "sort": [{"username": {"order": "asc"}}],
    }
    if after is not None:
        body["search_after"] = after
    return body


def hashtags_query(prefix: str, limit: int, after: str | None) -> dict[str, Any]:
    """Tags starting with ``prefix`` in tag order, each with its number of posts."""
    composite: dict[str, Any] = {
        "size": limit,
        "sources": [{"tag": {"terms": {"field": "tag"}}}],
    }
    if after is not None:
        composite["after"] = {"tag": after}
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"prefix": {"tag": prefix}}]}},
        "aggs": {"tags": {"composite": composite}},
    }


def posts_query(query: PostQuery, limit: int, after: list[Any] | None) -> dict[str, Any]:
    """Posts carrying every tag and every word (in the caption or the place), newest first."""
    filters: list[dict[str, Any]] = [{"term": {"hashtags": tag}} for tag in query.tags]
    if query.words:
        filters.append({"match": {"text": {"query": " ".join(query.words), "operator": "and"}}})
    body: dict[str, Any] = {
        "size": limit,
        "_source": ["post_id"],
        "query": {"bool": {"filter": filters}},
        "sort": _NEWEST_FIRST,
    }
    if after is not None:
        body["search_after"] = after
    return body


# The adapter --------------------------------------------------------------------------------


class OpenSearchIndex:
    """``SearchIndex`` on an OpenSearch domain (see the module's docstring).

    Parameters
    ----------
    endpoint:
        The domain's URL, ``https://search-<name>-<id>.<region>.es.amazonaws.com``.
    index_prefix:
        Names this stage's indexes, so stages can share a domain.
    region, service:
        What SigV4 signs for: the domain's region, ``es`` (``aoss`` for Serverless).
    client:
        An ``opensearchpy.OpenSearch`` to use instead of one made from the above.
    """

    name = "opensearch"

    def __init__(
        self,
        endpoint: str,
        index_prefix: str,
        region: str,
        service: str = "es",
        client: Any = None,
    ) -> None:
        self._endpoint = endpoint
        self._region = region
        self._service = service
        self._given_client = client
        self._indexes_ready = False
        self.users_index = f"{index_prefix}-users-{INDEX_VERSION}"
        self.posts_index = f"{index_prefix}-posts-{INDEX_VERSION}"
        self.hashtag_posts_index = f"{index_prefix}-hashtag-posts-{INDEX_VERSION}"

    @cached_property
    def client(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        import boto3
        from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

        credentials = boto3.session.Session().get_credentials()
        return OpenSearch(
            hosts=[self._endpoint],
            http_auth=AWSV4SignerAuth(credentials, self._region, self._service),
            connection_class=RequestsHttpConnection,
            timeout=REQUEST_TIMEOUT_SECONDS,
            max_retries=2,
            retry_on_timeout=True,
        )

    @property
    def index_bodies(self) -> dict[str, dict[str, Any]]:
        return {
            self.users_index: USERS_INDEX,
            self.posts_index: POSTS_INDEX,
            self.hashtag_posts_index: HASHTAG_POSTS_INDEX,
        }

    def ensure_indexes(self) -> None:
        """Create the indexes that do not exist yet; safe to run twice, or at once from two
        functions (the loser of a race gets ``resource_already_exists_exception``)."""
        if self._indexes_ready:
            return
        from opensearchpy.exceptions import RequestError

        try:
            for name, body in self.index_bodies.items():
                if self.client.indices.exists(index=name):
                    continue
                try:
                    self.client.indices.create(index=name, body=body)
                    logger.info("search index created", index=name)
                except RequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
        except Exception as exc:
            raise _unavailable(exc, "could not create the search indexes") from exc
        self._indexes_ready = True

    # Writes ---------------------------------------------------------------------------------

    def index_user(self, user: UserDocument) -> None:
        self._bulk([_index(self.users_index, user.user_id, user_source(user))])

    def remove_user(self, user_id: str) -> None:
        self._bulk([_delete(self.users_index, user_id)])

    def index_post(self, post: PostDocument, previous: PostDocument | None = None) -> None:
        actions = self._post_actions(post)
        for tag in set(previous.hashtags if previous else ()) - set(post.hashtags):
            doc_id = hashtag_post_id(tag, post.post_id)
            actions.append(_delete(self.hashtag_posts_index, doc_id))
        self._bulk(actions)

    def bulk_index(self, users: Sequence[UserDocument], posts: Sequence[PostDocument]) -> None:
        actions = [_index(self.users_index, user.user_id, user_source(user)) for user in users]
        for post in posts:
            actions += self._post_actions(post)
        self._bulk(actions)

    def _post_actions(self, post: PostDocument) -> list[dict[str, Any]]:
        actions = [_index(self.posts_index, post.post_id, post_source(post))]
        for tag in post.hashtags:
            doc_id = hashtag_post_id(tag, post.post_id)
            source = {"tag": tag, "post_id": post.post_id, "created_at": post.created_at}
            actions.append(_index(self.hashtag_posts_index, doc_id, source))
        return actions

    def remove_post(self, post: PostDocument) -> None:
        actions = [_delete(self.posts_index, post.post_id)]
        for tag in post.hashtags:
            actions.append(_delete(self.hashtag_posts_index, hashtag_post_id(tag, post.post_id)))
        self._bulk(actions)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        """Bulk requests of up to 500 actions (one, for a stream record); deleting what is
        not there is fine (a repeated record), any other failed action fails the stream
        record, which is then delivered again. Rejected (429) actions are retried twice."""
        self.ensure_indexes()
        from opensearchpy import helpers

        try:
            _, errors = helpers.bulk(
                self.client, actions, raise_on_error=False, max_retries=2, initial_backoff=1
            )
        except Exception as exc:
            raise _unavailable(exc, "could not write to the search index") from exc
        failed = [
            item
            for error in errors
            for kind, item in error.items()
            if not (kind == "delete" and item.get("status") == 404)
        ]
        if failed:
            logger.warning("search index writes failed", failures=failed[:5])
            raise DependencyUnavailable(f"{len(failed)} search index writes failed")

    # Reads ----------------------------------------------------------------------------------

    def search_users(self, prefix: str, page: PageRequest) -> Page[str]:
        body = users_query(prefix, page.limit, _after_list(page, 1))
        hits = self._search(self.users_index, body)["hits"]["hits"]
        return Page([hit["_id"] for hit in hits], _next_position(hits, page.limit))

    def search_hashtags(self, prefix: str, page: PageRequest) -> Page[HashtagCount]:
        after = page.position.get("after") if page.position else None
        if after is not None and not isinstance(after, str):
            raise _invalid_cursor()
        found = self._search(self.hashtag_posts_index, hashtags_query(prefix, page.limit, after))
        buckets = (found.get("aggregations") or {}).get("tags", {}).get("buckets", [])
        tags = [HashtagCount(bucket["key"]["tag"], int(bucket["doc_count"])) for bucket in buckets]
        position = {"after": tags[-1].tag} if len(tags) == page.limit else None
        return Page(tags, position)

    def search_posts(self, query: PostQuery, page: PageRequest) -> Page[str]:
        body = posts_query(query, page.limit, _after_list(page, 2))
        hits = self._search(self.posts_index, body)["hits"]["hits"]
        return Page([hit["_id"] for hit in hits], _next_position(hits, page.limit))

    def hashtag_posts(self, tag: str, page: PageRequest) -> Page[str]:
        return self.search_posts(PostQuery(tags=(tag,)), page)

    def _search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        from opensearchpy.exceptions import NotFoundError

        try:
            return self.client.search(index=index, body=body)
        except NotFoundError:
            # Nothing was ever indexed here (indexes are made on the first write).
            return {"hits": {"hits": []}, "aggregations": {}}
        except Exception as exc:
            raise _unavailable(exc, "search is unavailable; retry shortly") from exc


def _index(index: str, doc_id: str, source: dict[str, Any]) -> dict[str, Any]:
    return {"_op_type": "index", "_index": index, "_id": doc_id, "_source": source}


def _delete(index: str, doc_id: str) -> dict[str, Any]:
    return {"_op_type": "delete", "_index": index, "_id": doc_id}


def _after_list(page: PageRequest, length: int) -> list[Any] | None:
    """The ``search_after`` values a cursor carries, checked for the list's sort."""
    if page.position is None:
        return None
    after = page.position.get("after")
    if not isinstance(after, list) or len(after) != length:
        raise _invalid_cursor()
    return after


def _next_position(hits: list[dict[str, Any]], limit: int) -> dict[str, Any] | None:
    return {"after": hits[-1]["sort"]} if hits and len(hits) == limit else None


def _invalid_cursor() -> InvalidInput:
    return InvalidInput("cursor is not valid for this list: start again without it")


def _unavailable(exc: Exception, message: str) -> DependencyUnavailable:
    logger.warning("opensearch request failed", error=type(exc).__name__, detail=str(exc)[:300])
    return DependencyUnavailable(message)
