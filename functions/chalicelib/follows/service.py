"""Following and unfollowing, follow requests to private accounts, blocks, and the lists of
followers, followed and blocked accounts."""

from __future__ import annotations

import time

from chalicelib.core.clock import iso, utc_now
from chalicelib.core.errors import DependencyUnavailable, InvalidInput, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import blocks_repository as blocks
from chalicelib.follows import repository as follows
from chalicelib.follows import requests_repository as requests
from chalicelib.follows.domain import FollowOutcome, FollowRequest, FollowStatus, RequestOutcome
from chalicelib.notifications import service as notifications
from chalicelib.notifications.consumers import notification_pusher
from chalicelib.notifications.domain import Notification, follow_request_notifications
from chalicelib.posts import visibility
from chalicelib.users import repository as users
from chalicelib.users.domain import User

FOLLOWING, NONE = FollowStatus.FOLLOWING.value, FollowStatus.NONE.value
BLOCKED = "blocked"
REQUESTED = FollowStatus.REQUESTED.value
# Reads of a request that keeps changing under us (withdrawn and made again) before giving up.
_SETTLE_ATTEMPTS = 3
# Requests an account going public approves per read, and for how long one record may run
# (the users stream's Lambda has 60 s): the rest on the record's next delivery.
_APPROVE_PAGE = 100
APPROVE_ALL_BUDGET_SECONDS = 40.0


def follow(follower_id: str, followee_id: str) -> str:
    """Follow a public account at once; ask to follow a private one.

    Idempotent: following someone you follow changes nothing ("following"), and asking
    again while a request is pending stores and notifies nothing ("requested"). The privacy
    read here decides which transaction to try, and that transaction checks the privacy
    again (a follow only while public, a request only while private), so an account that
    changes its mind in between is asked or followed as it is now, never followed without
    approval. Across a block (checked in the same transactions): an account that blocked the
    caller is NotFound, as an unknown one; one the caller blocked is NotAllowed until
    unblocked.
    """
    if follower_id == followee_id:
        raise InvalidInput("you cannot follow yourself")
    for attempt in range(_SETTLE_ATTEMPTS):
        # After a transaction found the other privacy, read it again as it is now.
        if users.get_user(followee_id, consistent=attempt > 0).is_private:
            outcome = _ask_to_follow(follower_id, followee_id)
            if outcome is not RequestOutcome.NOT_PRIVATE:
                return FOLLOWING if outcome is RequestOutcome.FOLLOWING else REQUESTED
            continue  # the account went public since it was read
        followed = follows.add_follow(follower_id, followee_id, utc_now())
        if followed is FollowOutcome.DONE:
            logger.info("followed", follower_id=follower_id, followee_id=followee_id)
            metrics.add_metric(name="Follows", unit="Count", value=1)
        if followed is not FollowOutcome.PRIVATE:
            return FOLLOWING
        # The account went private since it was read: ask instead.
    raise DependencyUnavailable("the account keeps changing its privacy; retry shortly")


def _ask_to_follow(follower_id: str, followee_id: str) -> RequestOutcome:
    request = FollowRequest(followee_id, follower_id, iso(utc_now()))
    notice = _notice(request)
    outcome = follows.request_follow(request, notice, notifications.notification_ttl())
    if outcome is RequestOutcome.DONE:
        logger.info("follow requested", follower_id=follower_id, followee_id=followee_id)
        metrics.add_metric(name="FollowRequests", unit="Count", value=1)
        notifications.deliver([notice], notification_pusher())
    return outcome


def unfollow(follower_id: str, followee_id: str) -> str:
    """Idempotent: unfollowing someone you don't follow changes nothing. Also withdraws a
    pending request to follow them. An account that blocked the caller is NotFound, as an
    unknown one (its profile and the block are one BatchGetItem)."""
    if follower_id == followee_id:
        raise InvalidInput("you cannot unfollow yourself")
    followee, relationship = follows.profile_and_relationship(follower_id, followee_id)
    if followee is None or relationship.blocks_me:
        raise NotFound("no user with that id")
    if follows.remove_follow(follower_id, followee_id):
        logger.info("unfollowed", follower_id=follower_id, followee_id=followee_id)
    if _discard(followee_id, follower_id):
        logger.info("follow request withdrawn", follower_id=follower_id, followee_id=followee_id)
    return NONE


def followers(viewer_id: str, user_id: str, page: PageRequest) -> Page[User]:
    _ensure_may_see_lists(viewer_id, user_id)
    return _hydrate(follows.followers_page(user_id, page))


def following(viewer_id: str, user_id: str, page: PageRequest) -> Page[User]:
    _ensure_may_see_lists(viewer_id, user_id)
    return _hydrate(follows.following_page(user_id, page))


def _ensure_may_see_lists(viewer_id: str, user_id: str) -> None:
    """A private account's lists are for the account and its approved followers, and an
    account's lists are not there for anyone it blocked, as its posts: the posts' decision
    (``posts/visibility.py``) decides the lists too."""
    visibility.ensure_may_see(viewer_id, user_id, "followers and following")


def _hydrate(ids: Page[str]) -> Page[User]:
    """Turn a page of ids into profiles with one BatchGetItem, keeping the page's order."""
    found = users.get_users(ids.items)
    return Page([found[user_id] for user_id in ids.items if user_id in found], ids.position)


# --- blocks -----------------------------------------------------------------------------


def block(blocker_id: str, blocked_id: str) -> str:
    """Block an account: it can no longer see the blocker's profile, posts, stories or lists
    (404), follow them, ask to, or message them, and the follows between the two go both ways.

    The block is stored first; from then on every follow, request, approval and send between
    the two fails its transaction's ConditionCheck on it, so removing what exists (each
    direction's edge with its counters, as an unfollow does; each pending request with its
    notification, as a withdrawal does) leaves nothing, however requests race. The follows
    stream then takes the posts out of both feeds, and tray reads leave stories out.
    Idempotent: blocking again runs the removal again (finishing a block a crash
    interrupted) and changes nothing else. Yourself: 400. Unknown account: 404.
    """
    if blocker_id == blocked_id:
        raise InvalidInput("you cannot block yourself")
    if blocks.add_block(blocker_id, blocked_id, utc_now()):
        logger.info("blocked", blocker_id=blocker_id, blocked_id=blocked_id)
        metrics.add_metric(name="Blocks", unit="Count", value=1)
    for follower_id, followee_id in ((blocked_id, blocker_id), (blocker_id, blocked_id)):
        if follows.remove_follow(follower_id, followee_id):
            logger.info("follow ended by a block", follower_id=follower_id, followee_id=followee_id)
        if _discard(followee_id, follower_id):
            logger.info(
                "request ended by a block", follower_id=follower_id, followee_id=followee_id
            )
    return BLOCKED


def unblock(blocker_id: str, blocked_id: str) -> None:
    """Idempotent: unblocking someone you have not blocked changes nothing. Follows ended by
    the block stay ended. Yourself: 400. Unknown account: 404."""
    if blocker_id == blocked_id:
        raise InvalidInput("you cannot unblock yourself")
    if blocks.remove_block(blocker_id, blocked_id):
        logger.info("unblocked", blocker_id=blocker_id, blocked_id=blocked_id)
    elif not users.user_exists(blocked_id):
        raise NotFound("no user with that id")


def blocked_accounts(blocker_id: str, page: PageRequest) -> Page[User]:
    """The accounts the caller blocked, most recently blocked first."""
    return _hydrate(blocks.blocked_page(blocker_id, page))


# --- follow requests, as their target sees them -------------------------------------------


def pending_requests(target_id: str, page: PageRequest) -> Page[User]:
    """Who asks to follow ``target_id``, newest request first."""
    return _hydrate(requests.requests_page(target_id, page))


def approve(target_id: str, requester_id: str) -> None:
    """The requester follows the target from now on, counted once however often (or however
    concurrently) this is called. Approving someone who already follows you is done already;
    approving a request nobody made is NotFound.
    """
    for _ in range(_SETTLE_ATTEMPTS):
        request = requests.get_request(target_id, requester_id)
        if request is None:
            if follows.is_following(requester_id, target_id, consistent=True):
                return  # approved already, by an earlier or a concurrent call
            raise NotFound("no pending follow request from that user")
        outcome = _approve(request)
        if outcome is RequestOutcome.DONE:
            logger.info("follow request approved", target_id=target_id, requester_id=requester_id)
            metrics.add_metric(name="Follows", unit="Count", value=1)
        if outcome is not RequestOutcome.CHANGED:
            return
    raise DependencyUnavailable("the follow request keeps changing; retry shortly")


def decline(target_id: str, requester_id: str) -> None:
    """Idempotent: declining a request that is not there changes nothing."""
    if _discard(target_id, requester_id):
        logger.info("follow request declined", target_id=target_id, requester_id=requester_id)


def _discard(target_id: str, requester_id: str) -> bool:
    """Delete the pending request and its notification; True when this call deleted it."""
    for _ in range(_SETTLE_ATTEMPTS):
        request = requests.get_request(target_id, requester_id)
        if request is None:
            return False
        if follows.discard_request(request, _notice(request)) is RequestOutcome.DONE:
            return True
    raise DependencyUnavailable("the follow request keeps changing; retry shortly")


def approve_all_pending(target_id: str, budget_seconds: float = APPROVE_ALL_BUDGET_SECONDS) -> int:
    """The account went public: everyone waiting follows it now, as on Instagram.

    Only while it is still public, and only requests made before that was read: an account
    that turned private again keeps the requests made since (and a redelivered record,
    finding none made before, approves nothing twice). Oldest first, each approval its own
    transaction; when ``budget_seconds`` run out, raises DependencyUnavailable so the record
    is delivered again and carries on where this stopped. Returns how many were approved.
    """
    read_at = iso(utc_now())
    if users.get_user(target_id, consistent=True).is_private:
        logger.info("account private again: requests stay pending", target_id=target_id)
        return 0
    deadline = time.monotonic() + budget_seconds
    approved = 0
    while pending := requests.oldest_requests(target_id, read_at, _APPROVE_PAGE):
        for request in pending:
            if time.monotonic() > deadline:
                raise DependencyUnavailable("more follow requests to approve; continuing later")
            try:
                approved += _approve(request) is RequestOutcome.DONE
            except NotFound:
                continue  # the requester's account is gone, and its request with it
    if approved:
        logger.info("account went public: requests approved", target_id=target_id, count=approved)
        metrics.add_metric(name="Follows", unit="Count", value=approved)
    return approved


def _approve(request: FollowRequest) -> RequestOutcome:
    """Approve exactly this request; one from an account that no longer exists is discarded
    (NotFound)."""
    notice = _notice(request)
    try:
        return follows.approve_request(request, notice, utc_now())
    except NotFound:
        follows.discard_request(request, notice)
        raise


def _notice(request: FollowRequest) -> Notification:
    """The notification a request gives its target (derived from the request alone)."""
    (notice,) = follow_request_notifications(request.as_item())
    return notice
