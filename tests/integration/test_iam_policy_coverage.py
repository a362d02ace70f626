"""Every AWS call each function makes is allowed by its hand-written IAM policy.

The policies in ``infrastructure/iam`` are written by reading the code, and moto checks no
permissions, so a call the code makes that its function's policy does not grant would only
fail on AWS. This test runs the app's flows (REST routes through the test client, stream
records, fan-out jobs and the schedule through the local stack's event plumbing, the resize
function and the WebSocket handlers as Lambda calls them), records every botocore call with
the function it ran in, and checks each against that function's rendered policy.
"""

from __future__ import annotations

import contextvars
import copy
import fnmatch
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import botocore.signers as signers
import pytest
from botocore.client import BaseClient
from chalice import Chalice
from chalice.app import EventSourceHandler, WebsocketEventSourceHandler
from chalice.test import Client

from infrastructure.iam import NO_API, StageTargets, function_names, render_policy
from local.event_plumbing import EventPlumbing
from local.lambda_runtime import LambdaContext
from tests.support import Account, load_event

ACCOUNT, REGION = "123456789012", "us-east-1"
# Registered handler name -> function (the WebSocket handlers' functions are named apart).
FUNCTION_OF_HANDLER = {
    "connect": "websocket_connect",
    "message": "websocket_message",
    "disconnect": "websocket_disconnect",
}
# Cognito's public operations: an app client calls them unsigned, so no policy grants them.
# AdminConfirmSignUp only runs with SIGNUP_CONFIRMATION=false, which only the local stack and
# these tests set: a deployed stage confirms by emailed code, so its policy does not allow it.
NOT_AUTHORISED_BY_IAM = {"SignUp", "ConfirmSignUp", "InitiateAuth", "ResendConfirmationCode"}
LOCAL_ONLY = {"AdminConfirmSignUp"}

PRESIGNED_POST, PRESIGNED_URL = signers.generate_presigned_post, signers.generate_presigned_url
_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    params: dict[str, Any]


class Recorder:
    """Records botocore calls made while a Lambda handler runs, with that handler's function."""

    def __init__(self, app: Chalice) -> None:
        self.calls: list[Call] = []
        self._function_of = {
            id(handler): FUNCTION_OF_HANDLER.get(name, name)
            for name, handler in app.handler_map.items()
        }

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        recorder = self
        make_api_call = BaseClient._make_api_call

        def recorded_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            recorder.note(client.meta.service_model.service_name, operation, params)
            return make_api_call(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", recorded_call)
        # S3 client classes take these when they are made: later ones get the recording ones.
        monkeypatch.setattr(signers, "generate_presigned_post", self.presigned_post)
        monkeypatch.setattr(signers, "generate_presigned_url", self.presigned_url)

        for handler_class in (EventSourceHandler, WebsocketEventSourceHandler):
            monkeypatch.setattr(handler_class, "__call__", self._running_as(handler_class.__call__))
        rest = Chalice.__call__

        def rest_call(app: Any, event: Any, context: Any) -> Any:
            token = _running.set("api_handler")
            try:
                return rest(app, event, context)
            finally:
                _running.reset(token)

        monkeypatch.setattr(Chalice, "__call__", rest_call)
        submit = ThreadPoolExecutor.submit

        def submit_in_context(executor: Any, fn: Callable[..., Any], /, *a: Any, **kw: Any) -> Any:
            # Handlers fan work out to threads; those calls are still the handler's.
            return submit(executor, contextvars.copy_context().run, fn, *a, **kw)

        monkeypatch.setattr(ThreadPoolExecutor, "submit", submit_in_context)

    @property
    def presigned_post(self) -> Callable[..., Any]:
        def presigned_post(client: Any, Bucket: str, Key: str, **kwargs: Any) -> Any:
            self.note("s3", "PutObject", {"Bucket": Bucket, "Key": Key})
            return PRESIGNED_POST(client, Bucket, Key, **kwargs)

        return presigned_post

    @property
    def presigned_url(self) -> Callable[..., Any]:
        def presigned_url(client: Any, ClientMethod: str, Params: Any = None, **kw: Any) -> Any:
            operation = client.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
            self.note("s3", operation, dict(Params or {}))
            return PRESIGNED_URL(client, ClientMethod, Params, **kw)

        return presigned_url

    def _running_as(self, call: Callable[..., Any]) -> Callable[..., Any]:
        function_of = self._function_of

        def running(handler: Any, event: Any, context: Any) -> Any:
            token = _running.set(function_of.get(id(handler), "unknown"))
            try:
                return call(handler, event, context)
            finally:
                _running.reset(token)

        return running

    def note(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = _running.get()
        if function is not None:
            self.calls.append(Call(function, service, operation, params))


# --- what IAM checks for a call --------------------------------------------------------------


def table_arn(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def required(call: Call) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM authorises for ``call``."""
    params, operation = call.params, call.operation
    if call.service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", table_arn(t)) for t in params["RequestItems"]]
        if operation == "TransactWriteItems":
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
            kinds["ConditionCheck"] = "ConditionCheckItem"
            return [
                (f"dynamodb:{kinds[kind]}", table_arn(request["TableName"]))
                for item in params["TransactItems"]
                for kind, request in item.items()
            ]
        if operation == "TransactGetItems":
            return [
                ("dynamodb:GetItem", table_arn(item["Get"]["TableName"]))
                for item in params["TransactItems"]
            ]
        return [(f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")))]
    if call.service == "s3":
        if operation == "DeleteObjects":  # authorised as DeleteObject on each key
            return [
                ("s3:DeleteObject", f"arn:aws:s3:::{params['Bucket']}/{item['Key']}")
                for item in params["Delete"]["Objects"]
            ]
        action = {"HeadObject": "GetObject"}.get(operation, operation)
        return [(f"s3:{action}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]
    if call.service == "sqs":
        name = params["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        return [(f"sqs:{operation}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")]
    if call.service == "cognito-idp":
        if operation in NOT_AUTHORISED_BY_IAM | LOCAL_ONLY:
            return []
        pool = params["UserPoolId"]
        return [
            (f"cognito-idp:{operation}", f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool}")
        ]
    if call.service == "apigatewaymanagementapi":
        method = {"PostToConnection": "POST", "DeleteConnection": "DELETE"}[operation]
        connection = f"{NO_API}/api/{method}/@connections/some-connection"
        return [
            (
                "execute-api:ManageConnections",
                f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{connection}",
            )
        ]
    raise AssertionError(f"no IAM mapping for {call.service}.{operation}: add one here")


def allows(policy: dict[str, Any], action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, r) for r in resources):
            return True
    return False


# --- the flows -------------------------------------------------------------------------------


class RecordedPushes:
    """The app's WebSocket API, recording each push as the management API call it makes."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def send(self, connection_id: str, message: str) -> None:
        self._recorder.note("apigatewaymanagementapi", "PostToConnection", {})

    def close(self, connection_id: str) -> None:
        self._recorder.note("apigatewaymanagementapi", "DeleteConnection", {})


@pytest.fixture
def recorded(chalice_app, monkeypatch) -> Iterator[Recorder]:  # type: ignore[no-untyped-def]
    from chalicelib.core.clients import aws_client
    from chalicelib.websocket import push
    from chalicelib.websocket.sender import WebSocketPusher

    recorder = Recorder(chalice_app)
    recorder.install(monkeypatch)
    # The S3 client may predate the patch of botocore's presigning functions.
    s3_class = type(aws_client("s3"))
    monkeypatch.setattr(s3_class, "generate_presigned_post", recorder.presigned_post)
    monkeypatch.setattr(s3_class, "generate_presigned_url", recorder.presigned_url)
    pushes = RecordedPushes(recorder)
    monkeypatch.setattr(push, "frame_pusher", lambda *_, **__: WebSocketPusher(pushes))
    with EventPlumbing(chalice_app) as plumbing:
        assert plumbing.wait_until_idle(timeout=60), "earlier records still pending"
        recorder.plumbing = plumbing  # type: ignore[attr-defined]
        yield recorder


def post_json(client: Client, path: str, account: Account, body: dict[str, Any]) -> Any:
    response = client.http.post(path, headers=account.auth, body=json.dumps(body))
    assert response.status_code < 300, (path, response.body)
    return response.json_body


def get_ok(client: Client, path: str, account: Account) -> Any:
    response = client.http.get(path, headers=account.auth)
    assert response.status_code == 200, (path, response.body)
    return response.json_body


def websocket(app: Chalice, route: str, event_file: str, connection_id: str, **changes: Any) -> Any:
    event = copy.deepcopy(load_event(event_file))
    event["requestContext"]["connectionId"] = connection_id
    event.update(changes)
    config = app.websocket_handlers[route]
    return app.handler_map[config.name](event, LambdaContext(config.name))


def test_every_call_each_function_makes_is_in_its_policy(  # type: ignore[no-untyped-def]
    recorded, chalice_app, client, make_account, make_ready_media, monkeypatch
) -> None:
    plumbing = recorded.plumbing
    author, reader = make_account("author"), make_account("reader")
    # Avatars, so every function that renders a user presigns its photo's URLs.
    for account in (author, reader):
        avatar = {"avatar_media_id": make_ready_media(account, "avatar")}
        patched = client.http.patch("/users/me", headers=account.auth, body=json.dumps(avatar))
        assert patched.status_code == 200, patched.body

    # Follows, posts (idempotent), likes, comments, the feed, notifications and search.
    post_json(client, f"/users/{author.user_id}/follow", reader, {})
    media_id = make_ready_media(author)
    created = client.http.post(
        "/posts",
        headers={**author.auth, "Idempotency-Key": str(uuid.uuid4())},
        body=json.dumps({"media_ids": [media_id], "caption": f"hello #shutter @{reader.username}"}),
    )
    assert created.status_code == 201, created.body
    post_id = created.json_body["post_id"]
    assert plumbing.wait_until_idle(timeout=60)
    post_json(client, f"/posts/{post_id}/like", reader, {})
    comment = post_json(client, f"/posts/{post_id}/comments", reader, {"text": "nice"})
    assert plumbing.wait_until_idle(timeout=60)
    for path in (
        "/feed",
        "/notifications",
        f"/posts/{post_id}",
        f"/posts/{post_id}/comments",
        f"/users/{author.user_id}",
        f"/users/{author.user_id}/posts",
        f"/users/{author.user_id}/followers",
        f"/users/{reader.user_id}/following",
        f"/users/by-username/{author.username}",
        f"/media/{media_id}",
        "/search?q=aut&type=users",
        "/search?q=shu&type=hashtags",
        "/search?q=hello&type=posts",
        "/hashtags/shutter/posts",
    ):
        get_ok(client, path, author if path.startswith("/media") else reader)
    notifications = get_ok(client, "/notifications", author)["items"]
    if notifications:
        until = notifications[0]["notification_id"]
        post_json(client, "/notifications/read", author, {"until": until})
    post_json(client, f"/posts/{post_id}/save", reader, {})
    get_ok(client, "/saved", reader)
    assert client.http.delete(f"/posts/{post_id}/save", headers=reader.auth).status_code < 300
    report = {"target_type": "post", "target_id": post_id, "reason": "just testing"}
    post_json(client, "/reports", reader, report)
    patched = client.http.patch(
        "/users/me", headers=reader.auth, body=json.dumps({"full_name": "Reader Person"})
    )
    assert patched.status_code == 200, patched.body

    # Stories: posted, fanned out into trays, viewed; the sweeper's run.
    story = post_json(client, "/stories", author, {"media_id": make_ready_media(author, "story")})
    assert plumbing.wait_until_idle(timeout=60)
    get_ok(client, "/stories/feed", reader)
    post_json(client, f"/stories/{story['story_id']}/view", reader, {})
    get_ok(client, f"/stories/{story['story_id']}/viewers", author)
    get_ok(client, f"/users/{author.user_id}/stories", reader)
    plumbing.run_schedule("sweep_stories")

    # Direct messages over REST and the WebSocket, connections opened and closed.
    sent = post_json(
        client, "/messages", reader, {"to": author.user_id, "text": "hi", "client_id": "c-1"}
    )
    get_ok(client, "/conversations", author)
    get_ok(client, f"/conversations/{sent['conversation_id']}/messages", author)
    connection = f"conn-{uuid.uuid4().hex[:8]}"
    query = {"token": author.token}
    opened = websocket(
        chalice_app,
        "$connect",
        "wsConnect.json",
        connection,
        queryStringParameters=query,
        multiValueQueryStringParameters={"token": [author.token]},
    )
    assert opened["statusCode"] == 200
    frame = {"action": "send", "to": reader.user_id, "text": "hello", "client_id": "c-2"}
    websocket(chalice_app, "$default", "wsMessageSend.json", connection, body=json.dumps(frame))
    websocket(chalice_app, "$disconnect", "wsDisconnect.json", connection)
    # A frame on a connection that is not signed in closes it (the management API's DELETE).
    websocket(chalice_app, "$default", "wsMessageSend.json", connection, body=json.dumps(frame))

    # Undoing: unlike, uncomment, unfollow, delete the post.
    for path in (
        f"/posts/{post_id}/like",
        f"/posts/{post_id}/comments/{comment['comment_id']}",
        f"/users/{author.user_id}/follow",
    ):
        assert client.http.delete(path, headers=reader.auth).status_code < 300, path
    assert client.http.delete(f"/posts/{post_id}", headers=author.auth).status_code < 300

    # Blocks: following first, so the block removes an edge; listed; undone.
    post_json(client, f"/users/{author.user_id}/follow", reader, {})
    post_json(client, f"/users/{reader.user_id}/block", author, {})
    get_ok(client, "/blocks", author)
    unblocked = client.http.delete(f"/users/{reader.user_id}/block", headers=author.auth)
    assert unblocked.status_code == 204
    assert plumbing.wait_until_idle(timeout=60)

    # Sign-ups waiting for their code, as on AWS, with no grace: a username and an email
    # taken over, a confirmation, one too late, and the clean-up's run.
    from chalicelib.core.config import reload_settings

    monkeypatch.setenv("SIGNUP_CONFIRMATION", "true")
    monkeypatch.setenv("SIGNUP_CONFIRMATION_GRACE_SECONDS", "0")
    reload_settings()
    names = [f"pending_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    for username, email in (
        (names[0], f"{names[0]}@example.com"),
        (names[0], f"{names[1]}@example.com"),  # takes the username over
        (names[1], f"{names[1]}-2@example.com"),
        (names[2], f"{names[1]}-2@example.com"),  # takes the email over
    ):
        signup = {"username": username, "email": email, "password": "correct horse battery"}
        response = client.http.post(
            "/auth/signup", headers={"Content-Type": "application/json"}, body=json.dumps(signup)
        )
        assert response.status_code == 201, response.body
    for username, status in ((names[0], 200), (names[1], 400)):
        confirmed = client.http.post(
            "/auth/confirm",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"username": username, "code": "123456"}),
        )
        assert confirmed.status_code == status, confirmed.body
    assert plumbing.run_schedule("sweep_unconfirmed_signups")["accounts_removed"] >= 2
    monkeypatch.setenv("SIGNUP_CONFIRMATION", "false")
    monkeypatch.delenv("SIGNUP_CONFIRMATION_GRACE_SECONDS")
    reload_settings()
    assert plumbing.wait_until_idle(timeout=60)

    from chalicelib.core.config import get_settings

    settings = get_settings()
    targets = StageTargets(
        stage=settings.stage,
        region=REGION,
        account=ACCOUNT,
        media_bucket=settings.media_bucket,
        user_pool_id=settings.user_pool_id,
    )
    policies = {name: render_policy(name, targets) for name in function_names()}
    seen = {call.function for call in recorded.calls}
    missing = sorted(set(function_names()) - seen)
    assert not missing, f"these functions made no AWS call in the flows: {missing}"
    denied = sorted(
        {
            f"{call.function}: {action} on {resource}"
            for call in recorded.calls
            for action, resource in required(call)
            if not allows(policies[call.function], action, resource)
        }
    )
    assert not denied, "calls the policies do not allow:\n" + "\n".join(denied)
