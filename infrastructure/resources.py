"""Every AWS resource the app needs beyond what Chalice creates, declared once.

The provisioner (``infrastructure.provision``) makes them exist, idempotently, in AWS or in
the embedded AWS; the app finds them through the environment variables named here.
A test checks that each PynamoDB model matches its table's keys and indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

APP_NAME = "shutter"

AttributeType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttributeType = "S"


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: Attribute
    range_key: Attribute | None = None
    projection: Literal["KEYS_ONLY", "INCLUDE", "ALL"] = "KEYS_ONLY"
    # With projection INCLUDE: the non-key attributes the index carries.
    included: tuple[str, ...] = ()
    local: bool = False


@dataclass(frozen=True)
class Table:
    family: str
    hash_key: Attribute
    range_key: Attribute | None = None
    indexes: tuple[Index, ...] = ()
    stream: StreamView | None = None
    ttl_attribute: str | None = None
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"{self.family.upper()}_TABLE"

    @property
    def stream_env_var(self) -> str:
        return f"{self.family.upper()}_STREAM_ARN"


@dataclass(frozen=True)
class UserPool:
    family: str = "users"
    password_min_length: int = 8
    # Cognito sends its code by email on AWS; the local stack confirms at sign-up.
    auto_verified_attributes: tuple[str, ...] = ("email",)
    client_auth_flows: tuple[str, ...] = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
    access_token_minutes: int = 60
    refresh_token_days: int = 30


@dataclass(frozen=True)
class Bucket:
    family: str
    # Browsers send the presigned POST straight to S3, so the bucket must allow it.
    cors_methods: tuple[str, ...] = ("GET", "POST")
    # Objects under these prefixes are deleted after the given days (lifecycle rules).
    expire_after_days: tuple[tuple[str, int], ...] = ()
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"{self.family.upper()}_BUCKET"


@dataclass(frozen=True)
class Queue:
    family: str
    # Longer than the consuming function's timeout, or SQS hands a message out twice at once.
    visibility_timeout_seconds: int = 180
    # After this many failed receives a message moves to the dead-letter queue.
    max_receives: int = 5
    purpose: str = ""

    @property
    def env_var(self) -> str:
        return f"{self.family.upper()}_QUEUE"


@dataclass(frozen=True)
class Stack:
    tables: tuple[Table, ...]
    user_pool: UserPool
    buckets: tuple[Bucket, ...] = field(default=())
    queues: tuple[Queue, ...] = field(default=())


@dataclass(frozen=True)
class SearchDomain:
    """An Amazon OpenSearch Service domain for search, optional: without one, search runs on
    the DynamoDB tables above. Not made by the provisioner (a domain takes 15-30 minutes
    and bills by the hour whether used or not); ops create it from this description and set
    ``OPENSEARCH_ENDPOINT`` on the functions. The app creates its indexes on first write.
    """

    family: str = "search"
    engine_version: str = "OpenSearch_2.19"
    # The smallest size worth running in production: two nodes in two Availability Zones,
    # so an index's replica survives losing one. t3.small.search is for trying it out only.
    instance_type: str = "m6g.large.search"
    instance_count: int = 2
    zone_awareness: bool = True
    volume_type: str = "gp3"
    volume_size_gb: int = 20
    # Requests must be SigV4-signed by the functions' role; nothing else reaches it.
    https_only: bool = True
    encryption_at_rest: bool = True
    node_to_node_encryption: bool = True
    # The functions' role needs these on arn:aws:es:<region>:<account>:domain/<name>/*.
    actions: tuple[str, ...] = ("es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut")
    env_var: str = "OPENSEARCH_ENDPOINT"


OPENSEARCH_DOMAIN = SearchDomain()


def resource_name(stage: str, family: str) -> str:
    return f"{APP_NAME}-{stage}-{family}"


def bucket_name(stage: str, family: str, account_id: str, region: str) -> str:
    """Bucket names are global across AWS accounts, so the account and region are in it."""
    return f"{resource_name(stage, family)}-{account_id}-{region}"


STACK = Stack(
    tables=(
        Table(
            family="users",
            hash_key=Attribute("user_id"),
            indexes=(
                # Sparse: only accounts waiting for their emailed code carry the keys, so the
                # clean-up finds those past their grace with one Query.
                Index(
                    "unconfirmed_by_deadline",
                    hash_key=Attribute("unconfirmed"),
                    range_key=Attribute("confirm_by", "N"),
                    projection="INCLUDE",
                    included=("username", "email"),
                ),
            ),
            stream="NEW_AND_OLD_IMAGES",
            purpose="profiles and their counters; the stream feeds search indexing",
        ),
        Table(
            family="uniques",
            hash_key=Attribute("value_key"),
            purpose="reserved usernames and emails, unique case-insensitively",
        ),
        Table(
            family="follows",
            hash_key=Attribute("follower_id"),
            range_key=Attribute("followee_id"),
            indexes=(
                Index(
                    "followers_by_time",
                    hash_key=Attribute("followee_id"),
                    range_key=Attribute("followed_at"),
                ),
                Index(
                    "following_by_time",
                    hash_key=Attribute("follower_id"),
                    range_key=Attribute("followed_at"),
                    local=True,
                ),
                # Sparse: only edges to accounts at or over the fan-out threshold carry the
                # key, so "which celebrities do I follow" is one small Query.
                Index(
                    "celebrities_followed",
                    hash_key=Attribute("celebrity_follower_id"),
                    range_key=Attribute("followee_id"),
                ),
            ),
            stream="NEW_AND_OLD_IMAGES",
            purpose="the follow graph; the stream drives feed backfill and notifications",
        ),
        Table(
            family="follow_requests",
            hash_key=Attribute("target_id"),  # the private account asked
            range_key=Attribute("requester_id"),
            indexes=(
                # A target's pending requests by time: newest first for the list, oldest
                # first when an account going public approves them. Local, so it can be
                # read consistently.
                Index(
                    "requests_by_time",
                    hash_key=Attribute("target_id"),
                    range_key=Attribute("requested_at"),
                    local=True,
                ),
            ),
            # No stream: the request's notification is written in the request's own
            # transaction (a stream would need a Lambda of its own in chalice.json).
            purpose="pending requests to follow private accounts; approval makes the edge",
        ),
        Table(
            family="blocks",
            hash_key=Attribute("blocker_id"),
            range_key=Attribute("blocked_id"),
            indexes=(
                # The blocker's own list (GET /blocks), most recently blocked first.
                Index(
                    "blocks_by_time",
                    hash_key=Attribute("blocker_id"),
                    range_key=Attribute("blocked_at"),
                    local=True,
                ),
            ),
            # No stream: a block removes the follows itself, and their stream does the rest.
            purpose="who blocked whom; read with every page and checked in follows and sends",
        ),
        Table(
            family="connections",
            hash_key=Attribute("connection_id"),
            indexes=(
                Index(
                    "connections_by_user",
                    hash_key=Attribute("user_id"),
                    range_key=Attribute("connection_id"),
                    # A push reads a user's open connections from the index alone.
                    projection="INCLUDE",
                    included=("expires_at",),
                ),
            ),
            ttl_attribute="expires_at",
            purpose="open WebSocket connections, expiring with API Gateway's 2 h limit",
        ),
        Table(
            family="posts",
            hash_key=Attribute("post_id"),
            indexes=(
                Index(
                    "posts_by_author",
                    hash_key=Attribute("author_id"),
                    range_key=Attribute("created_at"),
                ),
            ),
            stream="NEW_AND_OLD_IMAGES",
            purpose="posts with their counters; the stream drives fan-out, mentions and search",
        ),
        Table(
            family="likes",
            hash_key=Attribute("post_id"),
            range_key=Attribute("user_id"),
            stream="NEW_AND_OLD_IMAGES",
            purpose="one item per like; counted on the post in the same transaction",
        ),
        Table(
            family="comments",
            hash_key=Attribute("post_id"),
            range_key=Attribute("comment_id"),
            stream="NEW_AND_OLD_IMAGES",
            purpose="comments, oldest first by a time-ordered id",
        ),
        Table(
            family="feeds",
            hash_key=Attribute("owner_id"),
            range_key=Attribute("entry_key"),
            indexes=(
                Index(
                    "feed_by_author",
                    hash_key=Attribute("owner_id"),
                    range_key=Attribute("author_entry_key"),
                    local=True,
                ),
            ),
            ttl_attribute="expires_at",
            purpose="each user's home feed, newest first; fan-out writes it, TTL caps it",
        ),
        Table(
            family="notifications",
            hash_key=Attribute("recipient_id"),
            range_key=Attribute("notification_key"),
            ttl_attribute="expires_at",
            purpose="notifications per recipient, newest first, and a read-up-to marker",
        ),
        Table(
            family="idempotency",
            hash_key=Attribute("id"),
            ttl_attribute="expiration",
            purpose="Powertools idempotency records for Idempotency-Key requests",
        ),
        Table(
            family="media",
            hash_key=Attribute("media_id"),
            # A removed item's REMOVE record deletes its objects from the bucket.
            stream="NEW_AND_OLD_IMAGES",
            ttl_attribute="expires_at",
            purpose="uploads and their renditions; unattached ones expire after 2 h; the "
            "stream deletes the objects of media that is gone",
        ),
        Table(
            family="stories",
            hash_key=Attribute("owner_id"),
            range_key=Attribute("story_id"),  # "<ULID>_<owner_id>": sorts by time
            indexes=(
                # The sweeper's way in: stories by the hour they expire, never a Scan.
                Index(
                    "stories_by_expiry",
                    hash_key=Attribute("expiry_hour"),
                    range_key=Attribute("expires_at", "N"),
                ),
            ),
            stream="NEW_AND_OLD_IMAGES",
            ttl_attribute="expires_at",
            purpose="active stories per owner; the stream drives tray fan-out and media clean-up",
        ),
        Table(
            family="story_trays",
            hash_key=Attribute("viewer_id"),
            range_key=Attribute("tray_key"),  # "<owner_id>#<created_at>#<story_id>"
            ttl_attribute="expires_at",
            purpose="each user's story tray, fanned out on write; expires with the stories",
        ),
        Table(
            family="story_views",
            hash_key=Attribute("story_id"),
            range_key=Attribute("viewer_id"),
            indexes=(
                Index(
                    "views_by_time",
                    hash_key=Attribute("story_id"),
                    range_key=Attribute("viewed_at"),
                    local=True,
                ),
            ),
            ttl_attribute="expires_at",
            purpose="one view per (story, viewer); kept a while after the story expires",
        ),
        Table(
            family="story_purges",
            hash_key=Attribute("due_hour"),
            range_key=Attribute("purge_key"),  # "<due_at>#<media_id>"
            purpose="expired stories' media to delete, bucketed by the hour it falls due",
        ),
        # Search's DynamoDB index (chalicelib/search/dynamodb_adapter.py), the default; a
        # stage with OPENSEARCH_ENDPOINT set searches on Amazon OpenSearch instead (see
        # OPENSEARCH_DOMAIN below) and leaves these empty.
        Table(
            family="search_names",
            hash_key=Attribute("user_id"),
            range_key=Attribute("term"),
            indexes=(
                # "<term>\n<user_id>" keyed by the term's first character: a username or
                # full-name prefix is one begins_with Query.
                Index(
                    "names_by_prefix",
                    hash_key=Attribute("name_bucket"),
                    range_key=Attribute("name_key"),
                    projection="ALL",
                ),
            ),
            purpose="one item per (user, name term): username, full name and its words",
        ),
        Table(
            family="search_hashtags",
            hash_key=Attribute("tag"),
            indexes=(
                Index(
                    "hashtags_by_prefix",
                    hash_key=Attribute("tag_bucket"),
                    range_key=Attribute("tag"),
                    projection="ALL",
                ),
            ),
            purpose="hashtags and their post counts, found by prefix",
        ),
        Table(
            family="search_terms",
            hash_key=Attribute("term"),  # "tag:<tag>" or "word:<word>"
            range_key=Attribute("post_key"),  # "<created_at>#<post_id>": newest first
            purpose="posts by hashtag and by caption or place word: hashtag pages, post search",
        ),
        Table(
            family="saved_posts",
            hash_key=Attribute("user_id"),
            range_key=Attribute("post_id"),
            indexes=(
                Index(
                    "saved_by_time",
                    hash_key=Attribute("user_id"),
                    range_key=Attribute("saved_key"),  # "<saved_at>#<post_id>"
                    local=True,
                ),
            ),
            purpose="posts each user saved, listed most recently saved first",
        ),
        Table(
            family="reports",
            hash_key=Attribute("report_key"),  # "<target_type>#<target_id>#<reporter_id>"
            indexes=(
                Index(
                    "open_reports",
                    hash_key=Attribute("queue"),
                    range_key=Attribute("queued_key"),  # "<created_at>#<report_id>"
                    projection="ALL",
                ),
            ),
            purpose="reports of posts, comments, users and messages; open ones form the queue",
        ),
        Table(
            family="rate_limits",
            hash_key=Attribute("counter_key"),  # "<user_id>#<action>#<window start>"
            ttl_attribute="expires_at",
            purpose="per-user write counters, one per action and window (chalicelib/limits)",
        ),
        Table(
            family="conversations",
            hash_key=Attribute("conversation_id"),
            purpose="direct-message conversations: members and last_seq, the seq counter",
        ),
        Table(
            family="messages",
            hash_key=Attribute("conversation_id"),
            range_key=Attribute("seq", "N"),
            purpose="direct messages per conversation, oldest first by seq",
        ),
        Table(
            family="message_sends",
            hash_key=Attribute("send_key"),  # "<conversation_id>#<sender_id>#<client_id>"
            purpose="the seq each (conversation, sender, client_id) got: resends store nothing",
        ),
        Table(
            family="inboxes",
            hash_key=Attribute("user_id"),
            range_key=Attribute("conversation_id"),
            indexes=(
                Index(
                    "inbox_by_activity",
                    hash_key=Attribute("user_id"),
                    range_key=Attribute("activity_key"),  # "<sent_at>#<conversation_id>"
                    projection="ALL",
                    local=True,
                ),
            ),
            purpose="each member's conversations: last message, last_seq, read pointer",
        ),
    ),
    user_pool=UserPool(),
    buckets=(
        Bucket(
            family="media",
            # An upload whose processing never finished leaves its original behind.
            expire_after_days=(("uploads/", 30),),
            purpose="originals under uploads/ (never served), renditions under renditions/",
        ),
    ),
    queues=(
        Queue(
            family="fanout",
            purpose="pages of a big fan-out, so no invocation writes more than one page",
        ),
    ),
)
