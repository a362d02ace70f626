"""Who may call what: every registered route, every kind of caller, one declared answer each.

OWASP's first API risk is a caller reaching an object that is not theirs, so this builds a
private account's world (a post with comments, a story, unattached media, a conversation,
follow requests) and calls every route as each actor:

- OWNER: the private account itself;
- FOLLOWER: approved;
- REQUESTER: asked to follow, not approved;
- STRANGER: no relation;
- BLOCKED: blocked by the owner;
- ANONYMOUS: no token.

A row per (method, route) declares the status each actor gets. A route the app registers
without a row fails ``test_every_registered_route_has_a_row``, so a new route cannot ship
without its authorization being decided here. Rows run in order and actors in the order
above, owner last: a row that changes something names targets of its own (``{spare_*}``) or
comes after every row that relies on what it changes.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client

from tests.support import Account, DocumentedResponses, create_post

OWNER, FOLLOWER, REQUESTER, STRANGER, BLOCKED, ANONYMOUS = (
    "owner", "follower", "requester", "stranger", "blocked", "anonymous",
)  # fmt: skip
ACTORS = (ANONYMOUS, BLOCKED, STRANGER, REQUESTER, FOLLOWER, OWNER)


def everyone(status: int) -> dict[str, int]:
    """Any signed-in caller gets ``status``; no token, 401."""
    return {OWNER: status, FOLLOWER: status, REQUESTER: status, STRANGER: status,
            BLOCKED: status, ANONYMOUS: 401}  # fmt: skip


def private_content(ok: int) -> dict[str, int]:
    """A private account's content: the owner and approved followers only; the blocked
    user is told it does not exist."""
    return {OWNER: ok, FOLLOWER: ok, REQUESTER: 403, STRANGER: 403, BLOCKED: 404,
            ANONYMOUS: 401}  # fmt: skip


def only_owner(ok: int, others: int, blocked: int | None = None) -> dict[str, int]:
    return {OWNER: ok, FOLLOWER: others, REQUESTER: others, STRANGER: others,
            BLOCKED: others if blocked is None else blocked, ANONYMOUS: 401}  # fmt: skip


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    query: str = ""
    # Placeholders filled from the world; by default each {name} in the route.
    targets: dict[str, str] = field(default_factory=dict)


ROWS: tuple[Row, ...] = (
    # The caller's own things: anyone signed in.
    Row("GET", "/users/me", everyone(200)),
    Row("PATCH", "/users/me", everyone(200), body={"bio": "hello"}),
    Row("GET", "/feed", everyone(200)),
    Row("GET", "/stories/feed", everyone(200)),
    Row("GET", "/notifications", everyone(200)),
    # Marking read up to the owner's notification: nobody else has it (404 for them).
    Row("POST", "/notifications/read", only_owner(204, 404), body={"until": "{notification}"}),
    Row("GET", "/conversations", everyone(200)),
    Row("GET", "/saved", everyone(200)),
    Row("GET", "/blocks", everyone(200)),
    Row("GET", "/follow-requests", everyone(200)),
    Row("GET", "/search", everyone(200), query="?q=matrix&type=posts"),
    Row("GET", "/hashtags/{tag}/posts", everyone(200)),
    Row("POST", "/media/uploads", everyone(201),
        body={"content_type": "image/jpeg", "size_bytes": 1000, "purpose": "post"}),
    # Someone else's media cannot be posted: 403 to all but its owner.
    Row("POST", "/posts", only_owner(201, 403), body={"media_ids": ["{spare_post_media}"]}),
    Row("POST", "/stories", only_owner(201, 403), body={"media_id": "{spare_story_media}"}),
    Row("GET", "/media/{media_id}", only_owner(200, 404)),
    # The owner as a person: the profile is public, the rest is for followers.
    Row("GET", "/users/{user_id}", {**private_content(200), REQUESTER: 200, STRANGER: 200}),
    Row("GET", "/users/by-username/{username}",
        {**private_content(200), REQUESTER: 200, STRANGER: 200}),
    Row("GET", "/users/{user_id}/posts", private_content(200)),
    Row("GET", "/users/{user_id}/followers", private_content(200)),
    Row("GET", "/users/{user_id}/following", private_content(200)),
    Row("GET", "/users/{user_id}/stories", private_content(200)),
    # The owner's post, its comments, likes and saves.
    Row("GET", "/posts/{post_id}", private_content(200)),
    Row("GET", "/posts/{post_id}/comments", private_content(200)),
    Row("POST", "/posts/{post_id}/comments", private_content(201), body={"text": "nice"}),
    Row("POST", "/posts/{post_id}/like", private_content(200)),
    Row("DELETE", "/posts/{post_id}/like", private_content(200)),
    Row("POST", "/posts/{post_id}/save", private_content(200)),
    # Unsaving touches only the caller's own list.
    Row("DELETE", "/posts/{post_id}/save", everyone(204)),
    Row("POST", "/reports", private_content(202),
        body={"target_type": "post", "target_id": "{post_id}", "reason": "spam"}),
    Row("DELETE", "/posts/{post_id}", {**private_content(204), FOLLOWER: 403},
        targets={"post_id": "spare_post"}),
    Row("DELETE", "/posts/{post_id}/comments/{comment_id}",
        {**private_content(204), FOLLOWER: 403}, targets={"comment_id": "spare_comment"}),
    # The owner's story.
    Row("POST", "/stories/{story_id}/view", private_content(204)),
    Row("GET", "/stories/{story_id}/viewers", {**only_owner(200, 403), BLOCKED: 404}),
    # The owner's conversation with the follower: its members only.
    Row("GET", "/conversations/{conversation_id}/messages",
        {**only_owner(200, 403), FOLLOWER: 200}),
    Row("POST", "/messages", {**everyone(201), OWNER: 400, BLOCKED: 404},
        body={"to": "{user_id}", "text": "hi", "client_id": "{fresh}"}),
    # Blocking a bystander: anyone may; yourself is the only refusal.
    Row("POST", "/users/{user_id}/block", everyone(200), targets={"user_id": "bystander"}),
    Row("DELETE", "/users/{user_id}/block", everyone(204), targets={"user_id": "bystander"}),
    # Requests to the owner: only the owner decides them (others have none from that user).
    Row("POST", "/follow-requests/{user_id}/approve", only_owner(200, 404),
        targets={"user_id": "spare_requester"}),
    Row("DELETE", "/follow-requests/{user_id}", everyone(204),
        targets={"user_id": "spare_requester"}),
    # Last, as they change who follows whom: following and unfollowing the owner.
    Row("POST", "/users/{user_id}/follow", {**everyone(200), OWNER: 400, BLOCKED: 404}),
    Row("DELETE", "/users/{user_id}/follow", {**everyone(200), OWNER: 400, BLOCKED: 404}),
)  # fmt: skip

PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/confirm"),
}


def test_every_registered_route_has_a_row(chalice_app) -> None:  # type: ignore[no-untyped-def]
    registered = {
        (method, path) for path, methods in chalice_app.routes.items() for method in methods
    }
    declared = {(row.method, row.route) for row in ROWS}
    assert registered - PUBLIC_ROUTES - declared == set(), "declare who may call these"
    assert declared - registered == set(), "rows for routes the app no longer has"
    assert len(declared) == len(ROWS), "one row per route"
    for row in ROWS:
        assert set(row.expect) == set(ACTORS), (row.method, row.route)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    return response.json_body


@pytest.fixture
def world(client: Client, make_account, make_ready_media) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    actors = {name: make_account(name[:6]) for name in ACTORS if name != ANONYMOUS}
    owner = actors[OWNER]
    extra = {name: make_account(name[:6]) for name in ("bystander", "spare_requester")}

    def call(method: str, path: str, account: Account, body: Any = None) -> Any:
        payload = json.dumps(body) if body is not None else None
        return getattr(client.http, method.lower())(path, headers=account.auth, body=payload)

    _ok(call("PATCH", "/users/me", owner, {"is_private": True}))
    for asker in (actors[FOLLOWER], actors[REQUESTER], extra["spare_requester"]):
        assert _ok(call("POST", f"/users/{owner.user_id}/follow", asker)) == {"status": "requested"}
    _ok(call("POST", f"/follow-requests/{actors[FOLLOWER].user_id}/approve", owner))
    _ok(call("POST", f"/users/{actors[BLOCKED].user_id}/block", owner))

    post_id = create_post(client, owner, make_ready_media(owner), "a #matrix post")
    spare_post = create_post(client, owner, make_ready_media(owner))
    comment = _ok(call("POST", f"/posts/{post_id}/comments", owner, {"text": "mine"}), 201)
    spare_comment = _ok(call("POST", f"/posts/{post_id}/comments", owner, {"text": "x"}), 201)
    story = _ok(
        call("POST", "/stories", owner, {"media_id": make_ready_media(owner, "story")}), 201
    )
    sent = _ok(
        call("POST", "/messages", owner,
             {"to": actors[FOLLOWER].user_id, "text": "hi", "client_id": "m1"}),
        201,
    )  # fmt: skip
    notification = _ok(call("GET", "/notifications", owner))["items"][0]["notification_id"]
    return {
        "actors": actors,
        "call": call,
        "user_id": owner.user_id,
        "username": owner.username,
        "post_id": post_id,
        "spare_post": spare_post,
        "comment_id": comment["comment_id"],
        "spare_comment": spare_comment["comment_id"],
        "story_id": story["story_id"],
        "media_id": make_ready_media(owner),
        "spare_post_media": make_ready_media(owner),
        "spare_story_media": make_ready_media(owner, "story"),
        "conversation_id": sent["conversation_id"],
        "tag": "matrix",
        "notification": notification,
        "bystander": extra["bystander"].user_id,
        "spare_requester": extra["spare_requester"].user_id,
    }


def _fill(template: Any, world: dict[str, Any], targets: dict[str, str]) -> Any:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "fresh":
            return str(uuid.uuid4())
        return str(world[targets.get(name, name)])

    return json.loads(re.sub(r"\{(\w+)\}", value, json.dumps(template)))


def test_each_actor_gets_the_declared_answer_on_every_route(
    chalice_app, client: Client, world
) -> None:  # type: ignore[no-untyped-def]
    """Every answer is also one the OpenAPI document describes: a documented status, and a
    body its schema accepts."""
    from chalicelib.api.openapi import openapi_document

    documented = DocumentedResponses(openapi_document(chalice_app))
    mismatches = []
    for row in ROWS:
        path = _fill(row.route, world, row.targets) + row.query
        for actor in ACTORS:
            body = _fill(row.body, world, row.targets) if row.body is not None else None
            if actor == ANONYMOUS:
                headers = {"Content-Type": "application/json"}
                payload = json.dumps(body) if body is not None else None
                got = getattr(client.http, row.method.lower())(path, headers=headers, body=payload)
            else:
                got = world["call"](row.method, path, world["actors"][actor], body)
            if got.status_code != row.expect[actor]:
                mismatches.append(
                    f"{row.method} {row.route} as {actor}: {got.status_code}, "
                    f"declared {row.expect[actor]} ({got.body[:120]!r})"
                )
            body = json.loads(got.body) if got.body else None
            mismatches += documented.problems(row.method, row.route, got.status_code, body)
    assert mismatches == [], "\n".join(mismatches)
