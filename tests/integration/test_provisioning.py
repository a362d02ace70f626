"""The provisioner is idempotent, repairs what a table lacks, and matches the data layer."""

from __future__ import annotations

import boto3
import pytest
from pynamodb.indexes import GlobalSecondaryIndex, LocalSecondaryIndex

from infrastructure.provision import Provisioner, provision
from infrastructure.resources import STACK, Attribute, Index, Table, resource_name
from local.embedded_aws import EmbeddedAws


def test_provisioning_twice_changes_nothing(embedded_aws: EmbeddedAws) -> None:
    first = provision("twice")
    tables_before = boto3.client("dynamodb").list_tables()["TableNames"]
    pools_before = boto3.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    second = provision("twice")
    assert second == first
    assert boto3.client("dynamodb").list_tables()["TableNames"] == tables_before
    assert boto3.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"] == pools_before


def test_a_table_missing_its_stream_index_and_ttl_is_repaired(embedded_aws: EmbeddedAws) -> None:
    spec = Table(
        family="repair",
        hash_key=Attribute("pk"),
        indexes=(Index("by_owner", hash_key=Attribute("owner")),),
        stream="NEW_IMAGE",
        ttl_attribute="expires_at",
    )
    name = resource_name("repair", "repair")
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    outputs = Provisioner("repair").ensure_table(spec)

    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_owner"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    assert outputs["REPAIR_STREAM_ARN"] == table["LatestStreamArn"]


def _models():  # type: ignore[no-untyped-def]
    from chalicelib.feed.repository import FeedEntryItem
    from chalicelib.follows.blocks_repository import BlockItem
    from chalicelib.follows.repository import FollowItem
    from chalicelib.follows.requests_repository import FollowRequestItem
    from chalicelib.limits.repository import RateCounterItem
    from chalicelib.media.repository import MediaItem
    from chalicelib.messages.repository import (
        ConversationItem,
        InboxItem,
        MessageItem,
        MessageSendItem,
    )
    from chalicelib.notifications.repository import NotificationItem
    from chalicelib.posts.repository import CommentItem, LikeItem, PostItem
    from chalicelib.reports.repository import ReportItem
    from chalicelib.saved.repository import SavedPostItem
    from chalicelib.search.dynamodb_adapter import HashtagItem, NameTermItem, TermItem
    from chalicelib.stories.repository import PurgeItem, StoryItem, StoryViewItem, TrayEntryItem
    from chalicelib.users.repository import UniqueValueItem, UserItem
    from chalicelib.websocket.repository import ConnectionItem

    return {
        "users": UserItem,
        "uniques": UniqueValueItem,
        "follows": FollowItem,
        "follow_requests": FollowRequestItem,
        "blocks": BlockItem,
        "connections": ConnectionItem,
        "media": MediaItem,
        "feeds": FeedEntryItem,
        "notifications": NotificationItem,
        "posts": PostItem,
        "likes": LikeItem,
        "comments": CommentItem,
        "stories": StoryItem,
        "story_trays": TrayEntryItem,
        "story_views": StoryViewItem,
        "story_purges": PurgeItem,
        "conversations": ConversationItem,
        "messages": MessageItem,
        "message_sends": MessageSendItem,
        "inboxes": InboxItem,
        "rate_limits": RateCounterItem,
        "saved_posts": SavedPostItem,
        "reports": ReportItem,
        "search_names": NameTermItem,
        "search_hashtags": HashtagItem,
        "search_terms": TermItem,
    }


# Tables whose items a library writes (Powertools idempotency): checked by their own test.
_LIBRARY_TABLES = {"idempotency"}


def test_the_idempotency_store_matches_its_declared_table(embedded_aws: EmbeddedAws) -> None:
    from chalicelib.api.idempotency import persistence_store

    table = next(t for t in STACK.tables if t.family == "idempotency")
    store = persistence_store()
    assert store.table_name == resource_name("test", table.family)
    assert (store.key_attr, store.sort_key_attr) == (table.hash_key.name, None)
    assert table.range_key is None
    assert store.expiry_attr == table.ttl_attribute


@pytest.mark.parametrize(
    "table", [t for t in STACK.tables if t.family not in _LIBRARY_TABLES], ids=lambda t: t.family
)
def test_each_model_matches_its_declared_table(embedded_aws: EmbeddedAws, table: Table) -> None:
    model = _models()[table.family]
    assert model.Meta.table_name == resource_name("test", table.family)
    assert model._hash_key_attribute().attr_name == table.hash_key.name
    range_key = model._range_key_attribute()
    assert (range_key.attr_name if range_key else None) == (
        table.range_key.name if table.range_key else None
    )

    declared = {
        index.name: (
            index.hash_key.name,
            index.range_key.name if index.range_key else None,
            index.local,
        )
        for index in table.indexes
    }
    modelled = {}
    for index in model._indexes.values():
        keys = {a.attr_name: a for a in index.Meta.attributes.values()}
        hash_key = next(name for name, a in keys.items() if a.is_hash_key)
        range_key_name = next((name for name, a in keys.items() if a.is_range_key), None)
        modelled[index.Meta.index_name] = (
            hash_key,
            range_key_name,
            isinstance(index, LocalSecondaryIndex),
        )
        assert isinstance(index, GlobalSecondaryIndex | LocalSecondaryIndex)
    assert modelled == declared
