"""Open WebSocket connections, by id and by user, expiring with API Gateway's 2 h limit or
the token they were opened with, whichever comes first."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, GetError, PutError, QueryError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.core.clock import epoch_seconds, from_epoch_seconds
from chalicelib.core.dynamodb import BaseMeta, FromSettings
from chalicelib.core.errors import DependencyUnavailable
from chalicelib.websocket.domain import OpenedConnection


class ConnectionsByUser(GlobalSecondaryIndex["ConnectionItem"]):
    class Meta:
        index_name = "connections_by_user"
        # Every push reads a user's connections: carrying the expiry answers it in one Query.
        projection = IncludeProjection(["expires_at"])

    user_id = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)


class ConnectionItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("connections_table")

    connection_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    connected_at = UTCDateTimeAttribute()
    # DynamoDB's TTL attribute: a connection API Gateway has closed after 2 h goes away
    # even when $disconnect never ran. The token's expiry when that is sooner: pushes stop
    # there (``connections_of``), as frames do.
    expires_at = NumberAttribute()
    # The ``exp`` of the token the connection was opened with (absent on connections opened
    # before it was recorded: their ``expires_at`` stands in).
    token_expires_at = NumberAttribute(null=True)

    by_user = ConnectionsByUser()


def save_connection(
    connection_id: str,
    user_id: str,
    at: datetime,
    lifetime: timedelta,
    token_expires_at: datetime,
) -> None:
    """Record an open connection; it ends after ``lifetime`` or at ``token_expires_at``."""
    item = ConnectionItem(
        connection_id,
        user_id=user_id,
        connected_at=at,
        expires_at=epoch_seconds(min(at + lifetime, token_expires_at)),
        token_expires_at=epoch_seconds(token_expires_at),
    )
    try:
        item.save()
    except PutError as exc:
        raise DependencyUnavailable("could not record the connection") from exc


def delete_connection(connection_id: str) -> None:
    try:
        ConnectionItem(connection_id).delete()
    except DeleteError as exc:
        raise DependencyUnavailable("could not forget the connection") from exc


def connections_of(user_id: str, now: datetime) -> list[str]:
    """Open connection ids of a user; expired ones that TTL has not removed yet are left out."""
    try:
        return [
            item.connection_id
            for item in ConnectionItem.by_user.query(user_id)
            if item.expires_at > epoch_seconds(now)
        ]
    except QueryError as exc:
        raise DependencyUnavailable("could not read connections") from exc


def opened_connection(connection_id: str) -> OpenedConnection | None:
    """Who opened the connection and when it expires; None when it is unknown."""
    try:
        item = ConnectionItem.get(connection_id, consistent_read=True)
    except ConnectionItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the connection") from exc
    expires_at = from_epoch_seconds(int(item.expires_at))
    token_expires_at = (
        from_epoch_seconds(int(item.token_expires_at))
        if item.token_expires_at is not None
        else expires_at
    )
    return OpenedConnection(item.user_id, expires_at, token_expires_at)
