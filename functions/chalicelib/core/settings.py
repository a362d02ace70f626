"""The configuration's shape: every setting, its type, default and checks (pydantic-settings).

Read it through ``chalicelib.core.config.get_settings()``, which validates the environment
once, on first use; importing this module costs pydantic and pydantic-settings, which a cold
start that never reads a setting does not pay (``chalicelib/core/lazy.py``).
"""

from __future__ import annotations

import re

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# An allowed web origin: "*", or scheme://host with an optional port, where "*" is any port.
_ALLOWED_ORIGIN = re.compile(r"\*|https?://[a-z0-9.-]+(:(\d{1,5}|\*))?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = "dev"
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # Set only on the local stack and in tests: every AWS client then talks to moto.
    aws_endpoint_url: str | None = None

    users_table: str
    uniques_table: str
    follows_table: str
    follow_requests_table: str
    blocks_table: str
    connections_table: str
    media_table: str
    posts_table: str
    likes_table: str
    comments_table: str
    feeds_table: str
    notifications_table: str
    idempotency_table: str

    # Each table's stream feeds one Lambda that hands every record to all its consumers.
    users_stream_arn: str
    follows_stream_arn: str
    posts_stream_arn: str
    likes_stream_arn: str
    comments_stream_arn: str

    media_bucket: str
    # Its REMOVE records delete the objects of media whose item is gone (chalicelib/media).
    media_stream_arn: str
    # Renditions are served from here when set (a CloudFront distribution in front of the
    # bucket); otherwise clients get presigned S3 GET URLs.
    media_cdn_base_url: str | None = None
    media_url_ttl_seconds: int = 60 * 60
    upload_url_ttl_seconds: int = 15 * 60
    # Pixelfed deletes unattached uploads after 2 h; so does DynamoDB TTL here.
    unattached_media_ttl_seconds: int = 2 * 60 * 60

    user_pool_id: str
    user_pool_client_id: str
    # Cognito emails a code at sign-up when on; the local stack confirms at sign-up instead.
    signup_confirmation: bool = True
    # How long an unconfirmed sign-up keeps its username and email (Cognito's codes last
    # 24 h); after it a newer sign-up may take either, and the clean-up removes the account.
    signup_confirmation_grace_seconds: int = Field(default=24 * 60 * 60, ge=0)

    # Signs list cursors so a client cannot forge a position in someone else's list.
    cursor_secret: str = Field(min_length=16)

    # How long an Idempotency-Key is remembered (Stripe's 24 h): a retry after it runs again.
    idempotency_expiry_seconds: int = 24 * 60 * 60

    websocket_connection_ttl_seconds: int = 2 * 60 * 60
    # Functions that push without a WebSocket event to configure Chalice's client from (the
    # stream handlers) send through this API and stage; live pushes are off when unset.
    websocket_api_id: str | None = None
    websocket_stage: str | None = None
    story_ttl_seconds: int = 24 * 60 * 60
    # Notifications expire (DynamoDB TTL, and every read checks) this long after the event.
    notification_ttl_days: int = 90

    # Authors with at least this many followers are not fanned out: readers merge them in.
    fanout_threshold: int = 10_000
    fanout_queue: str
    fanout_queue_url: str
    # Followers written per fan-out job: one SQS message, one bounded invocation.
    fanout_page_size: int = 1000
    # Feed entries expire (DynamoDB TTL) after this, which caps each feed.
    feed_entry_ttl_days: int = 30
    # A new follow copies this many of the followee's recent posts into the feed.
    follow_backfill_posts: int = 100
    # Read-time merge asks at most this many followed celebrities per page.
    max_celebrities_merged: int = 50

    # Stories (see chalicelib/stories): their tables and stream, and how long things last.
    stories_table: str
    story_trays_table: str
    story_views_table: str
    story_purges_table: str
    stories_stream_arn: str
    # An expired story's media (original and renditions) is deleted this long after expiry.
    story_media_retention_seconds: int = 7 * 24 * 60 * 60
    # Who viewed a story stays listable for its owner this long after it expired.
    story_view_retention_seconds: int = 2 * 24 * 60 * 60
    # The sweeper looks this many expiry hours back; DynamoDB TTL removes anything older.
    story_sweep_lookback_hours: int = 3

    # Direct messages (see chalicelib/messages).
    conversations_table: str
    messages_table: str
    message_sends_table: str
    inboxes_table: str

    # Search (see chalicelib/search): the DynamoDB index's tables are always there; set
    # OPENSEARCH_ENDPOINT (https://search-<domain>-<id>.<region>.es.amazonaws.com) to search
    # on an Amazon OpenSearch domain instead.
    search_names_table: str
    search_hashtags_table: str
    search_terms_table: str
    opensearch_endpoint: str | None = None
    # Names this stage's indexes (several stages can share one domain); default shutter-<stage>.
    opensearch_index_prefix: str | None = None
    # What SigV4 signs for: "es" for a domain, "aoss" for OpenSearch Serverless.
    opensearch_signing_service: str = "es"

    # Saved posts and reports (see chalicelib/saved, chalicelib/reports).
    saved_posts_table: str
    reports_table: str

    # Per-user write limits (see chalicelib/limits): their counters, and overrides of the
    # defaults as "likes=5/60,posts=100/3600" (count per window in seconds).
    rate_limits_table: str
    rate_limits: str = ""

    # Web origins whose pages may call the REST API from a browser (CORS), comma-separated:
    # exact origins ("https://app.example.com"), any port of a host ("http://localhost:*"),
    # or "*" for any origin. Empty (the default): no cross-origin access. Set per stage in
    # chalice.json; the local stack allows any port of localhost and 127.0.0.1.
    cors_allowed_origins: str = ""

    @field_validator("cors_allowed_origins")
    @classmethod
    def _cors_allowed_origins_parse(cls, spec: str) -> str:
        for origin in spec.split(","):
            if origin.strip() and not _ALLOWED_ORIGIN.fullmatch(origin.strip()):
                raise ValueError(
                    f"{origin.strip()!r} is not an origin: use scheme://host[:port], "
                    "scheme://host:* for any port, or *"
                )
        return spec

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.cors_allowed_origins.split(",") if o.strip())

    @field_validator("rate_limits")
    @classmethod
    def _rate_limits_parse(cls, spec: str) -> str:
        from chalicelib.limits.domain import parse_overrides

        parse_overrides(spec)  # a typo fails at start-up, not at the first write
        return spec

    @property
    def token_issuer(self) -> str:
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        # The embedded AWS serves each pool's keys under its own endpoint; Cognito serves
        # them under the issuer URL.
        if self.aws_endpoint_url:
            return f"{self.aws_endpoint_url.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.token_issuer}/.well-known/jwks.json"
