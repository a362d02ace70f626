"""The users table family: profiles, and the reservations that keep names unique.

Cognito cannot make a username unique case-insensitively in one atomic step, so a name (and
an email) is first reserved here with a conditional write, then registered with Cognito, then
confirmed along with the profile. A reservation stuck in "pending" (the process died between
the steps) may be reclaimed after ``STALE_RESERVATION_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import (
    DeleteError,
    GetError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.dynamodb import (
    BaseMeta,
    BatchRead,
    FromSettings,
    RawItem,
    batch_read,
    failed_items,
    transact,
)
from chalicelib.core.errors import AlreadyExists, DependencyUnavailable, NotFound
from chalicelib.users.domain import User

STALE_RESERVATION_SECONDS = 15 * 60
PENDING, TAKEN = "pending", "taken"


class UserItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("users_table")

    user_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    full_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    avatar_media_id = UnicodeAttribute(null=True)
    is_private = BooleanAttribute(default=False)
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    post_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    # Set once follower_count reaches the fan-out threshold: posts are merged at read time.
    is_celebrity = BooleanAttribute(null=True)


class UniqueValueItem(Model):
    """One reserved unique value: ``username#alice`` or ``email#alice@example.com``."""

    class Meta(BaseMeta):
        table_name = FromSettings("uniques_table")

    value_key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    reserved_at = NumberAttribute()
    user_id = UnicodeAttribute(null=True)


def _username_key(username: str) -> str:
    return f"username#{username}"


def _email_key(email: str) -> str:
    return f"email#{email}"


def _to_user(item: UserItem) -> User:
    return User(
        user_id=item.user_id,
        username=item.username,
        full_name=item.full_name,
        bio=item.bio,
        avatar_media_id=item.avatar_media_id,
        is_private=item.is_private,
        follower_count=int(item.follower_count),
        following_count=int(item.following_count),
        post_count=int(item.post_count),
        created_at=item.created_at,
        is_celebrity=bool(item.is_celebrity),
    )


def reserve_names(username: str, email: str, now_epoch: int) -> None:
    """Reserve a username and an email together, or neither; raise AlreadyExists if taken."""

    def reservation(key: str) -> tuple[UniqueValueItem, Any]:
        reclaimable = (UniqueValueItem.state == PENDING) & (
            UniqueValueItem.reserved_at < now_epoch - STALE_RESERVATION_SECONDS
        )
        condition = UniqueValueItem.value_key.does_not_exist() | reclaimable
        return UniqueValueItem(key, state=PENDING, reserved_at=now_epoch), condition

    def build(transaction: TransactWrite) -> None:
        for key in (_username_key(username), _email_key(email)):
            item, condition = reservation(key)
            transaction.save(item, condition=condition)

    try:
        transact(build)
    except TransactWriteError as exc:
        failed = failed_items(exc, ["username", "email"])
        if "username" in failed:
            raise AlreadyExists(f"the username {username!r} is taken") from exc
        if "email" in failed:
            raise AlreadyExists("an account with that email already exists") from exc
        raise DependencyUnavailable("could not reserve the username; retry shortly") from exc


def release_names(username: str, email: str) -> None:
    """Give back reservations that never became an account (only pending ones)."""
    for key in (_username_key(username), _email_key(email)):
        try:
            UniqueValueItem(key).delete(condition=UniqueValueItem.state == PENDING)
        except DeleteError:
            pass  # already released, or it became an account: nothing to undo


def create_user(user: User, email: str) -> None:
    """Store the profile and turn both reservations into permanent ones, atomically."""
    item = UserItem(
        user.user_id,
        username=user.username,
        full_name=user.full_name,
        bio=user.bio,
        is_private=user.is_private,
        created_at=user.created_at,
    )

    def build(transaction: TransactWrite) -> None:
        transaction.save(item, condition=UserItem.user_id.does_not_exist())
        for key in (_username_key(user.username), _email_key(email)):
            transaction.update(
                UniqueValueItem(key),
                actions=[
                    UniqueValueItem.state.set(TAKEN),
                    UniqueValueItem.user_id.set(user.user_id),
                ],
                condition=UniqueValueItem.state == PENDING,
            )

    try:
        transact(build)
    except TransactWriteError as exc:
        raise AlreadyExists("this account was already created") from exc


def require_user(transaction: TransactWrite, user_id: str) -> None:
    """Make ``transaction`` fail unless the user exists (a ConditionCheck: it is sent before
    the transaction's writes, so its cancellation reason comes first)."""
    transaction.condition_check(UserItem, user_id, condition=UserItem.user_id.exists())


def require_private(transaction: TransactWrite, user_id: str) -> None:
    """Make ``transaction`` fail unless the account exists and is private (a ConditionCheck):
    a follow request is stored only while its target is private."""
    transaction.condition_check(
        UserItem,
        user_id,
        condition=UserItem.user_id.exists() & (UserItem.is_private == True),  # noqa: E712
    )


def get_user(user_id: str, consistent: bool = False) -> User:
    try:
        return _to_user(UserItem.get(user_id, consistent_read=consistent))
    except UserItem.DoesNotExist as exc:
        raise NotFound("no user with that id") from exc
    except GetError as exc:
        raise DependencyUnavailable("could not read the user; retry shortly") from exc


def user_exists(user_id: str) -> bool:
    try:
        UserItem.get(user_id, attributes_to_get=["user_id"])
        return True
    except UserItem.DoesNotExist:
        return False


def find_user_id(username: str) -> str | None:
    try:
        item = UniqueValueItem.get(_username_key(username))
    except UniqueValueItem.DoesNotExist:
        return None
    return item.user_id if item.state == TAKEN else None


def get_users(user_ids: Iterable[str]) -> dict[str, User]:
    """Many profiles in one BatchGetItem (up to 100 ids); missing ids are left out."""
    keys = list(dict.fromkeys(user_ids))
    if not keys:
        return {}
    try:
        return {item.user_id: _to_user(item) for item in UserItem.batch_get(keys)}
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read users; retry shortly") from exc


def update_profile(user_id: str, changes: dict[str, Any]) -> User:
    """Set the given profile fields; a None value removes an optional one."""
    if not changes:
        return get_user(user_id)
    actions = []
    for field, value in changes.items():
        attribute = getattr(UserItem, field)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    item = UserItem(user_id)
    try:
        item.update(actions=actions, condition=UserItem.user_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no user with that id") from exc
        raise DependencyUnavailable("could not update the profile; retry shortly") from exc
    return _to_user(item)


def add_count_changes(
    transaction: TransactWrite, user_id: str, *, while_public: bool = False, **deltas: int
) -> None:
    """Add counter changes on a user to another family's transaction (follows, posts).

    The user must exist: a transaction naming a deleted or unknown user fails its condition.
    With ``while_public``, the account must also still be public: a follow counted here fails
    if the account went private after it was read. (A transaction cannot hold a
    ConditionCheck and an update of the same item, so the condition rides on the update.)
    """
    actions = [getattr(UserItem, counter).add(delta) for counter, delta in deltas.items()]
    condition = UserItem.user_id.exists()
    if while_public:
        condition &= UserItem.is_private.does_not_exist() | (UserItem.is_private == False)  # noqa: E712
    transaction.update(UserItem(user_id), actions=actions, condition=condition)


def mark_celebrity(user_id: str) -> bool:
    """Flag the account as over the fan-out threshold; True only for the call that flagged it."""
    try:
        UserItem(user_id).update(
            actions=[UserItem.is_celebrity.set(True)],
            condition=UserItem.user_id.exists()
            & (UserItem.is_celebrity.does_not_exist() | (UserItem.is_celebrity == False)),  # noqa: E712
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise DependencyUnavailable("could not flag the account") from exc


def find_user_ids(usernames: Iterable[str]) -> dict[str, str]:
    """User ids of the given (normalised) usernames in one BatchGetItem (up to 100);
    names nobody has, or that are only reserved, are left out."""
    names = list(dict.fromkeys(usernames))
    if not names:
        return {}
    try:
        items = UniqueValueItem.batch_get([_username_key(name) for name in names])
        return {
            item.value_key.removeprefix("username#"): item.user_id
            for item in items
            if item.state == TAKEN and item.user_id
        }
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read users; retry shortly") from exc


def user_reads(user_ids: Iterable[str]) -> BatchRead:
    """Profiles as one table's part of another family's multi-table BatchGetItem."""
    return batch_read(UserItem, dict.fromkeys(user_ids))


def user_from_raw(raw: RawItem) -> User:
    """A profile from an item that ``user_reads`` fetched."""
    return _to_user(UserItem.from_raw_data(raw))


def all_users(page_size: int = 500) -> Iterator[User]:
    """Every profile, by a Scan: for one-off jobs (the search backfill), never a request."""
    try:
        for item in UserItem.scan(page_size=page_size):
            yield _to_user(item)
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read users; retry shortly") from exc
