"""The users table family: profiles, and the reservations that keep names unique.

Cognito cannot make a username unique case-insensitively in one atomic step, so a name (and
an email) is first reserved here with a conditional write, then registered with Cognito, then
made the account's along with the profile. A reservation's ``state``:

- ``pending``: a sign-up is between those steps; one stuck there (the process died) may be
  reclaimed after ``STALE_RESERVATION_SECONDS``. The clean-up also holds an account's
  reservations as pending (with the account's ``user_id``) while it removes the account.
- ``unconfirmed``: the account waits for its emailed code (``SIGNUP_CONFIRMATION``); after
  ``confirm_by`` a newer sign-up may take the name over. Its profile is invisible meanwhile.
- ``taken``: a confirmed account's, for good.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
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
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import epoch_seconds, from_epoch_seconds
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
from chalicelib.media import repository as media
from chalicelib.media.domain import AttachedMedia, Holder, MediaNotAttachable
from chalicelib.media.repository import (
    AttachedMediaAttribute,
    attached_attribute,
    attached_from_attribute,
)
from chalicelib.users.domain import AvatarChanged, UnconfirmedAccount, User

STALE_RESERVATION_SECONDS = 15 * 60
PENDING, UNCONFIRMED, TAKEN = "pending", "unconfirmed", "taken"
# ``UserItem.unconfirmed`` of every account waiting for its code: the sparse index's one key.
AWAITING_CONFIRMATION = "awaiting"


class UnconfirmedByDeadline(GlobalSecondaryIndex["UserItem"]):
    """Sparse: only accounts waiting for their emailed code carry its keys, so the clean-up
    finds those past their grace with one Query, never a Scan."""

    class Meta:
        index_name = "unconfirmed_by_deadline"
        projection = IncludeProjection(["username", "email"])

    unconfirmed = UnicodeAttribute(hash_key=True)
    confirm_by = NumberAttribute(range_key=True)


class UserItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("users_table")

    user_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    full_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    # The avatar's photo, as posts keep theirs: every rendering of the user needs no more.
    avatar = AttachedMediaAttribute(null=True)
    is_private = BooleanAttribute(default=False)
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    post_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    # Set once follower_count reaches the fan-out threshold: posts are merged at read time.
    is_celebrity = BooleanAttribute(null=True)
    # While the account waits for its emailed code: the end of its grace (epoch seconds), the
    # email it reserved and the sparse index's key. Confirming removes the three.
    confirm_by = NumberAttribute(null=True)
    email = UnicodeAttribute(null=True)
    unconfirmed = UnicodeAttribute(null=True)
    unconfirmed_by_deadline = UnconfirmedByDeadline()


class UniqueValueItem(Model):
    """One reserved unique value: ``username#alice`` or ``email#alice@example.com``."""

    class Meta(BaseMeta):
        table_name = FromSettings("uniques_table")

    value_key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    reserved_at = NumberAttribute()
    user_id = UnicodeAttribute(null=True)
    # An unconfirmed account's: when a newer sign-up may take the value over (epoch seconds).
    confirm_by = NumberAttribute(null=True)


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
        avatar=attached_from_attribute(item.avatar) if item.avatar is not None else None,
        is_private=item.is_private,
        follower_count=int(item.follower_count),
        following_count=int(item.following_count),
        post_count=int(item.post_count),
        created_at=item.created_at,
        is_celebrity=bool(item.is_celebrity),
        confirm_by=from_epoch_seconds(int(item.confirm_by)) if item.confirm_by else None,
    )


def _reclaimable(now_epoch: int) -> Any:
    """A reservation a sign-up may take over: a stalled sign-up's, or an unconfirmed
    account's past its grace."""
    stalled = (UniqueValueItem.state == PENDING) & (
        UniqueValueItem.reserved_at < now_epoch - STALE_RESERVATION_SECONDS
    )
    expired = (UniqueValueItem.state == UNCONFIRMED) & (UniqueValueItem.confirm_by <= now_epoch)
    return stalled | expired


def _is_reclaimable(item: UniqueValueItem, now_epoch: int) -> bool:
    """``_reclaimable``, judged on an item read."""
    if item.state == PENDING:
        return int(item.reserved_at) < now_epoch - STALE_RESERVATION_SECONDS
    return item.state == UNCONFIRMED and int(item.confirm_by or 0) <= now_epoch


def _taken(kind: str, username: str) -> AlreadyExists:
    if kind == "username":
        return AlreadyExists(f"the username {username!r} is taken")
    return AlreadyExists("an account with that email already exists")


def reserve_names(username: str, email: str, now_epoch: int) -> set[str]:
    """Reserve a username and an email together, or neither; raise AlreadyExists if taken.

    A value someone else reserved is taken over when their reservation is reclaimable (a
    sign-up that stalled, or an unconfirmed account past its grace): the transaction is
    conditioned on that, so a confirmation racing this one leaves one of the two winning.
    Returns what was taken over ("username", "email"): whoever takes a username over removes
    the Cognito user still registered under it before registering their own.
    """
    keys = {"username": _username_key(username), "email": _email_key(email)}
    try:
        found = {
            item.value_key: item
            for item in UniqueValueItem.batch_get(list(keys.values()), consistent_read=True)
        }
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not reserve the username; retry shortly") from exc
    for kind, key in keys.items():
        if key in found and not _is_reclaimable(found[key], now_epoch):
            raise _taken(kind, username)

    def build(transaction: TransactWrite) -> None:
        for key in keys.values():
            transaction.save(
                UniqueValueItem(key, state=PENDING, reserved_at=now_epoch),
                condition=UniqueValueItem.value_key.does_not_exist() | _reclaimable(now_epoch),
            )

    try:
        transact(build)
    except TransactWriteError as exc:
        failed = failed_items(exc, list(keys))
        for kind in keys:
            if kind in failed:
                raise _taken(kind, username) from exc
        raise DependencyUnavailable("could not reserve the username; retry shortly") from exc
    return {kind for kind, key in keys.items() if key in found}


def release_names(username: str, email: str) -> None:
    """Give back reservations that never became an account (only a sign-up's pending ones)."""
    for key in (_username_key(username), _email_key(email)):
        try:
            UniqueValueItem(key).delete(
                condition=(UniqueValueItem.state == PENDING)
                & UniqueValueItem.user_id.does_not_exist()
            )
        except DeleteError:
            pass  # already released, or it became an account: nothing to undo


def create_user(user: User, email: str) -> None:
    """Store the profile and make both reservations the account's, atomically.

    A user with ``confirm_by`` waits for its emailed code: the profile carries the deadline
    (and so the sparse index's keys) and the email, and the reservations are unconfirmed
    until ``confirm_user``; otherwise they are taken for good.
    """
    item = UserItem(
        user.user_id,
        username=user.username,
        full_name=user.full_name,
        bio=user.bio,
        is_private=user.is_private,
        created_at=user.created_at,
    )
    reservation_actions: list[Action] = [UniqueValueItem.user_id.set(user.user_id)]
    if user.confirm_by is None:
        reservation_actions.append(UniqueValueItem.state.set(TAKEN))
    else:
        deadline = epoch_seconds(user.confirm_by)
        item.confirm_by, item.email, item.unconfirmed = deadline, email, AWAITING_CONFIRMATION
        reservation_actions += [
            UniqueValueItem.state.set(UNCONFIRMED),
            UniqueValueItem.confirm_by.set(deadline),
        ]

    def build(transaction: TransactWrite) -> None:
        transaction.save(item, condition=UserItem.user_id.does_not_exist())
        for key in (_username_key(user.username), _email_key(email)):
            transaction.update(
                UniqueValueItem(key),
                actions=reservation_actions,
                condition=(UniqueValueItem.state == PENDING)
                & UniqueValueItem.user_id.does_not_exist(),
            )

    try:
        transact(build)
    except TransactWriteError as exc:
        raise AlreadyExists("this account was already created") from exc


# Accounts waiting for their emailed code -------------------------------------------------


def unconfirmed_account(username: str) -> UnconfirmedAccount | None:
    """The account waiting for its code under this username, or being removed for not
    confirming in time; None when there is none (no such name, a confirmed account's, or a
    sign-up still in progress)."""
    try:
        reservation = UniqueValueItem.get(_username_key(username), consistent_read=True)
        if reservation.state == TAKEN or not reservation.user_id:
            return None
        item = UserItem.get(reservation.user_id, consistent_read=True)
    except (UniqueValueItem.DoesNotExist, UserItem.DoesNotExist):
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the account; retry shortly") from exc
    if item.confirm_by is None or item.email is None:
        return None
    return UnconfirmedAccount(
        item.user_id, item.username, item.email, from_epoch_seconds(int(item.confirm_by))
    )


def confirm_user(account: UnconfirmedAccount) -> bool:
    """Make the account visible and both its reservations taken for good, all or nothing.

    False when it can no longer be confirmed: a newer sign-up took one of its names over
    after its grace, or the clean-up is removing it (or it was confirmed meanwhile).
    """
    keys = (_username_key(account.username), _email_key(account.email))

    def build(transaction: TransactWrite) -> None:
        transaction.update(
            UserItem(account.user_id),
            actions=[
                UserItem.confirm_by.remove(),
                UserItem.email.remove(),
                UserItem.unconfirmed.remove(),
            ],
            condition=UserItem.confirm_by.exists(),
        )
        for key in keys:
            transaction.update(
                UniqueValueItem(key),
                actions=[UniqueValueItem.state.set(TAKEN), UniqueValueItem.confirm_by.remove()],
                condition=(UniqueValueItem.state == UNCONFIRMED)
                & (UniqueValueItem.user_id == account.user_id),
            )

    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        if failed_items(exc, ["profile", "username", "email"]):
            return False
        raise DependencyUnavailable("could not confirm the account; retry shortly") from exc


def unconfirmed_past(now: datetime, limit: int) -> list[UnconfirmedAccount]:
    """Accounts still unconfirmed at the end of their grace, earliest first: one Query of the
    sparse index, at most ``limit`` of them."""
    try:
        items = UserItem.unconfirmed_by_deadline.query(
            AWAITING_CONFIRMATION,
            UnconfirmedByDeadline.confirm_by <= epoch_seconds(now),
            limit=limit,
        )
        return [
            UnconfirmedAccount(
                item.user_id,
                item.username,
                item.email or "",
                from_epoch_seconds(int(item.confirm_by)),
            )
            for item in items
        ]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read unconfirmed accounts") from exc


def hold_for_removal(account: UnconfirmedAccount, now_epoch: int) -> set[str]:
    """Hold the account's reservations while it is removed: each still the account's (not
    taken over, not confirmed) becomes pending under its ``user_id``, so no sign-up takes it
    meanwhile, nor confirms it. Idempotent: one held by an earlier run is held again.
    Returns what is held ("username", "email").
    """
    held = set()
    keys = {"username": _username_key(account.username), "email": _email_key(account.email)}
    for kind, key in keys.items():
        try:
            UniqueValueItem(key).update(
                actions=[
                    UniqueValueItem.state.set(PENDING),
                    UniqueValueItem.reserved_at.set(now_epoch),
                    UniqueValueItem.confirm_by.remove(),
                ],
                condition=(UniqueValueItem.user_id == account.user_id)
                & UniqueValueItem.state.is_in(UNCONFIRMED, PENDING),
            )
            held.add(kind)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise DependencyUnavailable("could not hold the account's names") from exc
    return held


def release_held(account: UnconfirmedAccount) -> None:
    """Delete the reservations ``hold_for_removal`` held for this account; idempotent."""
    for key in (_username_key(account.username), _email_key(account.email)):
        try:
            UniqueValueItem(key).delete(
                condition=(UniqueValueItem.state == PENDING)
                & (UniqueValueItem.user_id == account.user_id)
            )
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise DependencyUnavailable("could not release the account's names") from exc


def delete_unconfirmed_user(user_id: str) -> None:
    """Delete the profile of an account that never confirmed; idempotent, and a confirmed
    account's is left alone."""
    try:
        UserItem(user_id).delete(condition=UserItem.confirm_by.exists())
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("could not delete the unconfirmed account") from exc


# Profiles -------------------------------------------------------------------------------


def _visible() -> Any:
    """The condition of an account anyone may see: it exists and is confirmed."""
    return UserItem.user_id.exists() & UserItem.confirm_by.does_not_exist()


def require_user(transaction: TransactWrite, user_id: str) -> None:
    """Make ``transaction`` fail unless the user exists and is confirmed (a ConditionCheck:
    it is sent before the transaction's writes, so its cancellation reason comes first)."""
    transaction.condition_check(UserItem, user_id, condition=_visible())


def require_private(transaction: TransactWrite, user_id: str) -> None:
    """Make ``transaction`` fail unless the account exists and is private (a ConditionCheck):
    a follow request is stored only while its target is private."""
    transaction.condition_check(
        UserItem,
        user_id,
        condition=_visible() & (UserItem.is_private == True),  # noqa: E712
    )


def get_user(user_id: str, consistent: bool = False) -> User:
    """The profile; NotFound for an unknown account and for one awaiting confirmation."""
    try:
        user = _to_user(UserItem.get(user_id, consistent_read=consistent))
    except UserItem.DoesNotExist as exc:
        raise NotFound("no user with that id") from exc
    except GetError as exc:
        raise DependencyUnavailable("could not read the user; retry shortly") from exc
    if not user.confirmed:
        raise NotFound("no user with that id")
    return user


def user_exists(user_id: str) -> bool:
    """True for a confirmed account."""
    try:
        item = UserItem.get(user_id, attributes_to_get=["user_id", "confirm_by"])
    except UserItem.DoesNotExist:
        return False
    except GetError as exc:
        raise DependencyUnavailable("could not read the user; retry shortly") from exc
    return item.confirm_by is None


def find_user_id(username: str) -> str | None:
    try:
        item = UniqueValueItem.get(_username_key(username))
    except UniqueValueItem.DoesNotExist:
        return None
    return item.user_id if item.state == TAKEN else None


def get_users(user_ids: Iterable[str]) -> dict[str, User]:
    """Many profiles in one BatchGetItem (up to 100 ids); missing and unconfirmed ids are
    left out."""
    keys = list(dict.fromkeys(user_ids))
    if not keys:
        return {}
    try:
        found = [_to_user(item) for item in UserItem.batch_get(keys)]
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read users; retry shortly") from exc
    return {user.user_id: user for user in found if user.confirmed}


def _profile_actions(changes: dict[str, Any]) -> list[Any]:
    """Update actions for profile fields; a None value removes an optional one."""
    actions = []
    for field, value in changes.items():
        attribute = getattr(UserItem, field)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    return actions


def update_profile(user_id: str, changes: dict[str, Any]) -> User:
    """Set the given profile fields; a None value removes an optional one."""
    if not changes:
        return get_user(user_id)
    item = UserItem(user_id)
    try:
        item.update(actions=_profile_actions(changes), condition=_visible())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("no user with that id") from exc
        raise DependencyUnavailable("could not update the profile; retry shortly") from exc
    return _to_user(item)


def change_avatar(
    user_id: str,
    changes: dict[str, Any],
    avatar: AttachedMedia | None,
    previous: str | None,
    now: datetime,
) -> User:
    """Make ``avatar`` the user's avatar (None: no avatar) in place of ``previous``, with
    other profile ``changes``, in one transaction: the profile, the new photo attached
    (``media.attach``, held as the user's avatar) and the previous one released
    (``release_from_avatar``: it goes, with its objects).

    Raises AvatarChanged when the avatar is no longer ``previous`` (a concurrent change),
    MediaNotAttachable when the new photo's condition failed. A previous photo that is no
    longer the user's (its item is gone) is left out of the retry rather than blocking it.
    """
    actions = _profile_actions(changes)
    actions.append(
        UserItem.avatar.set(attached_attribute(avatar))
        if avatar is not None
        else UserItem.avatar.remove()
    )
    unchanged = (
        UserItem.avatar.media_id == previous
        if previous is not None
        else UserItem.avatar.does_not_exist()
    )

    def attempt(release_previous: bool) -> set[str]:
        labels = ["profile"]
        labels += ["new"] if avatar is not None else []
        labels += ["previous"] if previous is not None and release_previous else []

        def build(transaction: TransactWrite) -> None:
            transaction.update(UserItem(user_id), actions=actions, condition=_visible() & unchanged)
            if avatar is not None:
                media.attach(transaction, avatar.media_id, user_id, Holder.avatar(user_id), now)
            if previous is not None and release_previous:
                media.release_from_avatar(transaction, previous, user_id)

        try:
            transact(build)
            return set()
        except TransactWriteError as exc:
            failed = failed_items(exc, labels)
            if not failed:
                raise DependencyUnavailable("could not change the avatar; retry shortly") from exc
            return failed

    failed = attempt(release_previous=True)
    if failed == {"previous"}:
        failed = attempt(release_previous=False)
    if "profile" in failed:
        raise AvatarChanged()
    if "new" in failed and avatar is not None:  # only a new photo is labelled "new"
        raise MediaNotAttachable({avatar.media_id})
    return get_user(user_id, consistent=True)


def add_count_changes(
    transaction: TransactWrite, user_id: str, *, while_public: bool = False, **deltas: int
) -> None:
    """Add counter changes on a user to another family's transaction (follows, posts).

    The user must exist and be confirmed: a transaction naming a deleted, unknown or
    unconfirmed user fails its condition. With ``while_public``, the account must also still
    be public: a follow counted here fails if the account went private after it was read. (A
    transaction cannot hold a ConditionCheck and an update of the same item, so the condition
    rides on the update.)
    """
    actions = [getattr(UserItem, counter).add(delta) for counter, delta in deltas.items()]
    condition = _visible()
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
    """A profile from an item that ``user_reads`` fetched (see ``User.confirmed``)."""
    return _to_user(UserItem.from_raw_data(raw))


def all_users(page_size: int = 500) -> Iterator[User]:
    """Every confirmed profile, by a Scan: for one-off jobs (the search backfill), never a
    request."""
    try:
        for item in UserItem.scan(page_size=page_size):
            if item.confirm_by is None:
                yield _to_user(item)
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read users; retry shortly") from exc
