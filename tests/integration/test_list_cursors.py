"""Every list's cursor is its list's and its caller's: a walk over every list route.

The list routes are read from the app's contracts (``is_list``), so a list added later is
walked too: its path parameters and required query parameters are filled by name from one
world, and the world must give each list a second page (a list it cannot fill fails here,
naming what to add). For each list, one user reads the first page; another user replaying
that cursor on the same URL gets 400, as does the first user replaying it on another list.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from local.event_plumbing import EventPlumbing
from tests.support import Account, create_post


@pytest.fixture(scope="module")
def plumbing(chalice_app) -> Iterator[EventPlumbing]:  # type: ignore[no-untyped-def]
    with EventPlumbing(chalice_app, fire_schedules_on_timer=False) as running:
        assert running.wait_until_idle(timeout=60)
        yield running


def list_routes(app) -> list[tuple[str, str, Any]]:  # type: ignore[no-untyped-def]
    """(path, method, contract) of every route that answers a list, from the contracts."""
    from chalicelib.api.operations import contract_of

    found = []
    for path, methods in sorted(app.routes.items()):
        for method, route in sorted(methods.items()):
            contract = contract_of(path, method, route.view_function)
            if contract.is_list:
                found.append((path, method, contract))
    return found


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.body
    return response.json_body


@pytest.fixture
def world(client: Client, make_account, make_ready_media, plumbing) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A reader (``me``) with at least two of everything a list can show, and a second
    user (``other``) who can read every public one of those lists."""
    name = f"walk{uuid.uuid4().hex[:6]}"
    me, other, owner = make_account(name), make_account(name), make_account("owner")
    asking = [make_account(name) for _ in range(2)]  # a search for the name finds four
    blocked = [make_account("blocked") for _ in range(2)]

    def call(method: str, path: str, account: Account, body: Any = None, status: int = 200) -> Any:
        payload = json.dumps(body).encode() if body is not None else b""
        response = client.http.request(method, path, headers=account.auth, body=payload)
        return _ok(response, status)

    for follower in (me, other):
        call("POST", f"/users/{owner.user_id}/follow", follower)
    for followee in asking:
        call("POST", f"/users/{followee.user_id}/follow", owner)
    assert plumbing.wait_until_idle(timeout=60)
    posts = [create_post(client, owner, make_ready_media(owner), f"#{name} walk") for _ in range(2)]
    for text in ("first", "second"):
        call("POST", f"/posts/{posts[0]}/comments", owner, {"text": text}, 201)
    for post_id in posts:
        call("POST", f"/posts/{post_id}/save", me)
    story = call("POST", "/stories", me, {"media_id": make_ready_media(me, "story")}, 201)
    call("POST", "/stories", owner, {"media_id": make_ready_media(owner, "story")}, 201)
    for viewer in (owner, other):
        call("POST", f"/stories/{story['story_id']}/view", viewer, status=204)
    for text in ("one", "two"):
        sent = call(
            "POST", "/messages", me,
            {"to": owner.user_id, "text": text, "client_id": str(uuid.uuid4())}, 201,
        )  # fmt: skip
    call("POST", "/messages", me, {"to": other.user_id, "text": "hi", "client_id": "c"}, 201)
    for account in blocked:
        call("POST", f"/users/{account.user_id}/block", me)
    # Private last: the views above needed a public account; requests need a private one.
    call("PATCH", "/users/me", me, {"is_private": True})
    for asker in asking:
        assert call("POST", f"/users/{me.user_id}/follow", asker) == {"status": "requested"}
    assert plumbing.wait_until_idle(timeout=60)
    return {
        "me": me,
        "other": other,
        "path": {
            "user_id": owner.user_id,
            "post_id": posts[0],
            "story_id": story["story_id"],
            "conversation_id": sent["conversation_id"],
            "tag": name,
        },
        "query": {"q": name, "type": "users"},
    }


def _url(path: str, contract: Any, world: dict[str, Any], **extra: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in world["path"], f"{path}: give the walk's world a {name!r}"
        return str(world["path"][name])

    query: dict[str, str] = {}
    if contract.query is not None:
        for field_name, field in contract.query[1].model_fields.items():
            if field.is_required():
                assert field_name in world["query"], f"{path}: give the world a ?{field_name}="
                query[field_name] = world["query"][field_name]
    query.update(extra)
    return re.sub(r"\{(\w+)\}", fill, path) + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_the_walk_knows_every_list(chalice_app) -> None:  # type: ignore[no-untyped-def]
    walked = {(method, path) for path, method, _ in list_routes(chalice_app)}
    assert {("GET", "/saved"), ("GET", "/stories/feed"), ("GET", "/blocks")} <= walked
    assert len(walked) >= 15


def test_a_cursor_replayed_by_another_user_or_on_another_list_is_400(
    chalice_app, client: Client, world
) -> None:  # type: ignore[no-untyped-def]
    me, other = world["me"], world["other"]
    routes = list_routes(chalice_app)
    cursors = {}
    for path, method, contract in routes:
        first = _ok(
            client.http.request(method, _url(path, contract, world, limit="1"), headers=me.auth)
        )
        assert first["next_cursor"] is not None, f"{path}: give the world a second page of it"
        cursors[path] = first["next_cursor"]

    problems = []
    for index, (path, method, contract) in enumerate(routes):
        cursor = cursors[path]
        own = client.http.request(
            method, _url(path, contract, world, limit="1", cursor=cursor), headers=me.auth
        )
        replayed = client.http.request(
            method, _url(path, contract, world, limit="1", cursor=cursor), headers=other.auth
        )
        elsewhere_path, _, elsewhere = routes[(index + 1) % len(routes)]
        misplaced = client.http.request(
            method, _url(elsewhere_path, elsewhere, world, limit="1", cursor=cursor),
            headers=me.auth,
        )  # fmt: skip
        if own.status_code != 200:
            problems.append(f"{path}: its own cursor answered {own.status_code}")
        if replayed.status_code != 400:
            problems.append(f"{path}: replayed by another user, {replayed.status_code}")
        elif replayed.json_body["Code"] != "BadRequestError":
            problems.append(f"{path}: replayed by another user, {replayed.json_body}")
        if misplaced.status_code != 400:
            problems.append(f"{path}'s cursor on {elsewhere_path}: {misplaced.status_code}")
    assert problems == [], "\n".join(problems)
