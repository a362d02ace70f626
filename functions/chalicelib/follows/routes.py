from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.operations import operation
from chalicelib.api.requests import caller, list_body, page_request
from chalicelib.core.lazy import lazy_module
from chalicelib.follows.domain import FollowStatus

if TYPE_CHECKING:
    from chalicelib.core import schema
    from chalicelib.follows import schemas, service
    from chalicelib.users import schemas as users_schemas
else:
    schema = lazy_module("chalicelib.core.schema")
    schemas = lazy_module("chalicelib.follows.schemas")
    service = lazy_module("chalicelib.follows.service")
    users_schemas = lazy_module("chalicelib.users.schemas")

follows_api = Blueprint(__name__)


@follows_api.route("/users/{user_id}/follow", methods=["POST"])
@operation(rate_limit="follows", errors=(403,))
def follow(user_id: str) -> schemas.FollowStateOut:
    """Follow an account, or ask to follow a private one; idempotent. Yourself: 400."""
    me = caller(follows_api.current_request)
    return schemas.FollowStateOut(status=FollowStatus(service.follow(me.user_id, user_id)))


@follows_api.route("/users/{user_id}/follow", methods=["DELETE"])
def unfollow(user_id: str) -> schemas.FollowStateOut:
    """Stop following an account, or withdraw a request; idempotent."""
    me = caller(follows_api.current_request)
    return schemas.FollowStateOut(status=FollowStatus(service.unfollow(me.user_id, user_id)))


@follows_api.route("/users/{user_id}/followers", methods=["GET"])
@operation(errors=(403,))
def followers(user_id: str) -> schema.ListOf[users_schemas.UserSummaryOut]:
    """Who follows an account (a private one's: its approved followers only, else 403)."""
    request = follows_api.current_request
    paging = page_request(request)
    page = service.followers(caller(request).user_id, user_id, paging)
    return list_body(page, paging, users_schemas.render_summary)


@follows_api.route("/users/{user_id}/following", methods=["GET"])
@operation(errors=(403,))
def following(user_id: str) -> schema.ListOf[users_schemas.UserSummaryOut]:
    """Whom an account follows (a private one's: its approved followers only, else 403)."""
    request = follows_api.current_request
    paging = page_request(request)
    page = service.following(caller(request).user_id, user_id, paging)
    return list_body(page, paging, users_schemas.render_summary)


@follows_api.route("/follow-requests", methods=["GET"])
def follow_requests() -> schema.ListOf[users_schemas.UserSummaryOut]:
    """Who asked to follow you (a private account), newest first."""
    request = follows_api.current_request
    paging = page_request(request)
    page = service.pending_requests(caller(request).user_id, paging)
    return list_body(page, paging, users_schemas.render_summary)


@follows_api.route("/follow-requests/{user_id}/approve", methods=["POST"])
def approve_follow_request(user_id: str) -> schemas.ApprovedOut:
    """Approve a request: the requester now follows you."""
    me = caller(follows_api.current_request)
    service.approve(me.user_id, user_id)
    return schemas.ApprovedOut(user_id=user_id)


@follows_api.route("/follow-requests/{user_id}", methods=["DELETE"])
def decline_follow_request(user_id: str) -> None:
    """Decline a request; idempotent."""
    me = caller(follows_api.current_request)
    service.decline(me.user_id, user_id)


@follows_api.route("/users/{user_id}/block", methods=["POST"])
def block(user_id: str) -> schemas.BlockStatusOut:
    """Block an account: follows end both ways, and it sees nothing of yours (404)."""
    me = caller(follows_api.current_request)
    service.block(me.user_id, user_id)
    return schemas.BlockStatusOut()


@follows_api.route("/users/{user_id}/block", methods=["DELETE"])
def unblock(user_id: str) -> None:
    """Unblock an account; idempotent. Follows the block ended stay ended."""
    me = caller(follows_api.current_request)
    service.unblock(me.user_id, user_id)


@follows_api.route("/blocks", methods=["GET"])
def blocked_accounts() -> schema.ListOf[users_schemas.UserSummaryOut]:
    """The accounts you blocked, newest first."""
    request = follows_api.current_request
    paging = page_request(request)
    page = service.blocked_accounts(caller(request).user_id, paging)
    return list_body(page, paging, users_schemas.render_summary)
