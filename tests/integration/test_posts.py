"""Posts, likes and comments through the real routes, against moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from chalice.test import Client

from local.embedded_aws import EmbeddedAws
from tests.support import Account, unsigned


def create_post(client: Client, account: Account, key: str | None = None, **payload: Any):  # type: ignore[no-untyped-def]
    headers = dict(account.auth)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.http.post("/posts", headers=headers, body=json.dumps(payload))


def get(client: Client, path: str, account: Account):  # type: ignore[no-untyped-def]
    return client.http.get(path, headers=account.auth)


def profile(client: Client, account: Account) -> dict:
    return get(client, "/users/me", account).json_body


def media_item(media_id: str) -> dict:
    from chalicelib.core.config import get_settings

    return boto3.client("dynamodb").get_item(
        TableName=get_settings().media_table, Key={"media_id": {"S": media_id}}
    )["Item"]


def count_posts_by(author_id: str) -> int:
    from chalicelib.core.config import get_settings

    return boto3.client("dynamodb").query(
        TableName=get_settings().posts_table,
        IndexName="posts_by_author",
        KeyConditionExpression="author_id = :a",
        ExpressionAttributeValues={":a": {"S": author_id}},
    )["Count"]


@pytest.fixture
def author_with_post(client: Client, make_account, make_ready_media):  # type: ignore[no-untyped-def]
    author = make_account("author")
    created = create_post(client, author, media_ids=[make_ready_media(author)], caption="hi")
    assert created.status_code == 201, created.body
    return author, created.json_body


# Creating ---------------------------------------------------------------------------------


def test_a_post_of_one_photo_has_the_contract_shape_and_counts_on_the_author(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    media_id = make_ready_media(author)
    assert media_item(media_id).get("expires_at") is not None

    created = create_post(client, author, media_ids=[media_id], caption="first!", location="Oslo")

    assert created.status_code == 201, created.body
    post = created.json_body
    assert set(post) == {
        "post_id", "author", "media", "caption", "hashtags", "mentions", "location",
        "like_count", "comment_count", "liked_by_me", "created_at",
    }  # fmt: skip
    assert post["author"] == {
        "user_id": author.user_id,
        "username": author.username,
        "avatar": None,
    }
    assert [m["media_id"] for m in post["media"]] == [media_id]
    renditions = post["media"][0]["renditions"]
    assert set(renditions) == {"thumb", "small", "medium", "large"}
    assert set(renditions["small"]) == {"url", "width", "height", "content_type"}
    assert (post["caption"], post["location"]) == ("first!", "Oslo")
    assert (post["like_count"], post["comment_count"], post["liked_by_me"]) == (0, 0, False)
    assert post["created_at"].endswith("Z")
    assert profile(client, author)["post_count"] == 1
    # Attached media no longer expires, and names its post.
    attached = media_item(media_id)
    assert "expires_at" not in attached
    assert attached["post_id"]["S"] == post["post_id"]
    assert unsigned(get(client, f"/posts/{post['post_id']}", author).json_body) == unsigned(post)


def test_a_post_keeps_ten_photos_in_the_order_given(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    media_ids = [make_ready_media(author) for _ in range(10)]
    created = create_post(client, author, media_ids=media_ids)
    assert created.status_code == 201, created.body
    assert [m["media_id"] for m in created.json_body["media"]] == media_ids
    assert created.json_body["caption"] == ""
    assert created.json_body["location"] is None


@pytest.mark.parametrize(
    "payload",
    [{"media_ids": [f"m{i}" for i in range(11)]}, {"media_ids": []}, {"media_ids": "m1"},
     {"media_ids": ["m1"], "caption": "x" * 2201}, {"media_ids": ["m1"], "location": "x" * 101},
     {"media_ids": ["m1"], "caption": "a\x00b"}, {"media_ids": ["m1"], "extra": 1},
     {"media_ids": ["m1", "m1"]}, {"media_ids": [1]}, {"caption": "no media"}],
    ids=["11 media", "no media", "not a list", "long caption", "long location",
         "control character", "unknown field", "duplicate media", "number id", "missing media"],
)  # fmt: skip
def test_bad_post_bodies_are_400_and_change_nothing(
    client: Client, make_account, payload: dict
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    response = create_post(client, author, **payload)
    assert response.status_code == 400
    assert response.json_body["Code"] == "BadRequestError"
    assert profile(client, author)["post_count"] == 0


def test_eleven_ready_photos_are_400(client: Client, make_account, make_ready_media) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    media_ids = [make_ready_media(author) for _ in range(11)]
    response = create_post(client, author, media_ids=media_ids)
    assert response.status_code == 400
    assert "media_ids" in response.json_body["Message"]
    assert "expires_at" in media_item(media_ids[0])


def test_someone_elses_photo_is_403_and_nothing_is_attached(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, other = make_account("author"), make_account("other")
    mine, theirs = make_ready_media(author), make_ready_media(other)
    response = create_post(client, author, media_ids=[mine, theirs])
    assert response.status_code == 403
    assert "post_id" not in media_item(mine)
    assert profile(client, author)["post_count"] == 0


def test_a_pending_photo_is_409_and_an_unknown_one_404(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    pending = client.http.post(
        "/media/uploads",
        headers=author.auth,
        body=json.dumps({"content_type": "image/jpeg", "size_bytes": 1000, "purpose": "post"}),
    ).json_body["media_id"]
    assert create_post(client, author, media_ids=[pending]).status_code == 409
    assert create_post(client, author, media_ids=["no-such-media"]).status_code == 404
    assert profile(client, author)["post_count"] == 0


def test_a_photo_goes_in_one_post_only(client: Client, make_account, make_ready_media) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    media_id = make_ready_media(author)
    assert create_post(client, author, media_ids=[media_id]).status_code == 201
    again = create_post(client, author, media_ids=[media_id])
    assert again.status_code == 409
    assert "already in a post" in again.json_body["Message"]
    assert profile(client, author)["post_count"] == 1


def test_a_photo_uploaded_for_a_story_cannot_be_posted(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    story_photo = make_ready_media(author, purpose="story")
    assert create_post(client, author, media_ids=[story_photo]).status_code == 409


def test_two_posts_racing_for_one_photo_make_one_post(
    chalice_app, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.errors import AlreadyExists
    from chalicelib.posts import service
    from chalicelib.posts.schemas import CreatePostInput
    from chalicelib.users import repository as users

    author = make_account("author")
    details = CreatePostInput(media_ids=[make_ready_media(author)])

    def attempt(_: int) -> str:
        try:
            return service.create_post(author.user_id, details).post.post_id
        except AlreadyExists:
            return "conflict"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert len([o for o in outcomes if o != "conflict"]) == 1
    assert users.get_user(author.user_id).post_count == 1
    assert count_posts_by(author.user_id) == 1


def test_the_caption_gives_lower_cased_hashtags_and_known_mentions(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, friend = make_account("author"), make_account("friend")
    caption = (
        f"Sunset with @{friend.username.upper()} and @nobody_has_this_name #Sunset #beach "
        f"#SUNSET #Café mail@{friend.username}.com"
    )
    created = create_post(client, author, media_ids=[make_ready_media(author)], caption=caption)
    post = created.json_body
    assert post["caption"] == caption
    assert post["hashtags"] == ["sunset", "beach", "café"]
    assert post["mentions"] == [{"user_id": friend.user_id, "username": friend.username}]


def test_more_than_thirty_hashtags_is_400(client: Client, make_account, make_ready_media) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    caption = " ".join(f"#tag{i}" for i in range(31))
    response = create_post(client, author, media_ids=[make_ready_media(author)], caption=caption)
    assert response.status_code == 400
    assert profile(client, author)["post_count"] == 0


# Idempotency-Key --------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_response_and_makes_one_post(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    key = str(uuid.uuid4())
    payload = {"media_ids": [make_ready_media(author)], "caption": "once"}
    first = create_post(client, author, key=key, **payload)
    retry = create_post(client, author, key=key, **payload)

    assert first.status_code == retry.status_code == 201
    assert retry.json_body == first.json_body
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert profile(client, author)["post_count"] == 1
    assert count_posts_by(author.user_id) == 1


def test_the_same_key_with_another_body_is_422(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    key = str(uuid.uuid4())
    media_id = make_ready_media(author)
    assert create_post(client, author, key=key, media_ids=[media_id]).status_code == 201
    changed = create_post(client, author, key=key, media_ids=[media_id], caption="different")
    assert changed.status_code == 422
    assert changed.json_body["Code"] == "UnprocessableEntityError"
    assert profile(client, author)["post_count"] == 1


def test_two_users_sending_the_same_key_each_get_their_own_post(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_account("alice"), make_account("bob")
    key = "the-same-key"
    from_alice = create_post(client, alice, key=key, media_ids=[make_ready_media(alice)])
    from_bob = create_post(client, bob, key=key, media_ids=[make_ready_media(bob)])
    assert from_alice.status_code == from_bob.status_code == 201
    assert from_alice.json_body["post_id"] != from_bob.json_body["post_id"]
    assert from_bob.json_body["author"]["user_id"] == bob.user_id
    assert "Idempotent-Replayed" not in from_bob.headers


def test_a_failed_request_is_not_remembered_under_its_key(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, other = make_account("author"), make_account("other")
    key = str(uuid.uuid4())
    mine = make_ready_media(author)
    refused = create_post(client, author, key=key, media_ids=[make_ready_media(other)])
    assert refused.status_code == 403
    assert create_post(client, author, key=key, media_ids=[mine]).status_code == 201


def test_a_retry_while_the_first_request_still_runs_is_409(embedded_aws) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.api.idempotency import run_once
    from chalicelib.core.errors import AlreadyExists
    from chalicelib.posts.schemas import CreateCommentInput

    from local.lambda_runtime import LambdaContext

    key, details, context = str(uuid.uuid4()), CreateCommentInput(text="x"), LambdaContext("api")

    def first() -> dict:
        # The retry arrives while the first request is still inside its operation.
        with pytest.raises(AlreadyExists):
            run_once("TEST", "caller", key, details, lambda: {"run": "second"}, context)
        return {"run": "first"}

    assert run_once("TEST", "caller", key, details, first, context).body == {"run": "first"}
    replay = run_once("TEST", "caller", key, details, lambda: {"run": "third"}, context)
    assert (replay.body, replay.replayed) == ({"run": "first"}, True)


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "caf\u00e9"], ids=["empty", "too long", "not ascii"]
)
def test_a_malformed_idempotency_key_is_400(client: Client, make_account, key: str) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    response = create_post(client, author, key=key, media_ids=["m1"])
    assert response.status_code == 400


# Reading and deleting ---------------------------------------------------------------------


def test_unknown_posts_are_404(client: Client, make_account) -> None:  # type: ignore[no-untyped-def]
    alice = make_account()
    for post_id in ["nope", f"01JD3ZK8X7M4Q2V9W5T6R8Y0AB_{alice.user_id}", "x" * 3000]:
        assert get(client, f"/posts/{post_id}", alice).status_code == 404
        assert client.http.delete(f"/posts/{post_id}", headers=alice.auth).status_code == 404
        assert client.http.post(f"/posts/{post_id}/like", headers=alice.auth).status_code == 404
        assert get(client, f"/posts/{post_id}/comments", alice).status_code == 404


def test_only_the_author_deletes_a_post(client: Client, make_account, author_with_post) -> None:  # type: ignore[no-untyped-def]
    author, post = author_with_post
    stranger = make_account("stranger")
    path = f"/posts/{post['post_id']}"

    assert client.http.delete(path, headers=stranger.auth).status_code == 403
    assert get(client, path, stranger).status_code == 200

    deleted = client.http.delete(path, headers=author.auth)
    assert deleted.status_code == 204
    assert get(client, path, author).status_code == 404
    assert client.http.delete(path, headers=author.auth).status_code == 404
    assert profile(client, author)["post_count"] == 0
    assert get(client, f"/users/{author.user_id}/posts", author).json_body["items"] == []
    # Its photo expires like any unattached upload.
    assert get(client, f"/media/{post['media'][0]['media_id']}", author).status_code == 404


def test_a_profile_lists_posts_newest_first_in_pages_without_duplicates(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, viewer = make_account("author"), make_account("viewer")
    media_ids = [make_ready_media(author) for _ in range(5)]
    made = [create_post(client, author, media_ids=[m]).json_body["post_id"] for m in media_ids]

    seen: list[str] = []
    cursors = []
    cursor = None
    for _ in range(10):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get(client, f"/users/{author.user_id}/posts{query}", viewer).json_body
        assert len(page["items"]) <= 2
        seen += [item["post_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        cursors.append(cursor)
    assert seen == list(reversed(made))
    assert get(client, "/users/no-such-user/posts", viewer).status_code == 404
    other_list = get(client, f"/users/{viewer.user_id}/posts?cursor={cursors[0]}", viewer)
    assert other_list.status_code == 400


def test_a_new_post_during_paging_causes_no_duplicates_or_gaps(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author = make_account("author")
    early = [create_post(client, author, media_ids=[make_ready_media(author)]) for _ in range(3)]
    first = get(client, f"/users/{author.user_id}/posts?limit=2", author).json_body
    create_post(client, author, media_ids=[make_ready_media(author)])
    rest = get(
        client, f"/users/{author.user_id}/posts?cursor={first['next_cursor']}", author
    ).json_body
    paged = [item["post_id"] for item in first["items"] + rest["items"]]
    assert paged == [post.json_body["post_id"] for post in reversed(early)]


def test_a_private_accounts_posts_are_for_its_followers(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, follower, stranger = make_account("author"), make_account("fan"), make_account("x")
    client.http.patch("/users/me", headers=author.auth, body=json.dumps({"is_private": True}))
    client.http.post(f"/users/{author.user_id}/follow", headers=follower.auth)  # a request
    client.http.post(f"/follow-requests/{follower.user_id}/approve", headers=author.auth)
    post_id = create_post(client, author, media_ids=[make_ready_media(author)]).json_body["post_id"]

    for path in (
        f"/posts/{post_id}",
        f"/users/{author.user_id}/posts",
        f"/posts/{post_id}/comments",
    ):
        assert get(client, path, stranger).status_code == 403, path
        assert get(client, path, follower).status_code == 200, path
        assert get(client, path, author).status_code == 200, path
    assert client.http.post(f"/posts/{post_id}/like", headers=stranger.auth).status_code == 403


# Likes ------------------------------------------------------------------------------------


def test_like_and_unlike_are_idempotent_and_show_per_viewer(
    client: Client, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    author, post = author_with_post
    fan = make_account("fan")
    path = f"/posts/{post['post_id']}/like"
    for _ in range(2):
        assert client.http.post(path, headers=fan.auth).json_body == {
            "liked": True,
            "like_count": 1,
        }

    assert get(client, f"/posts/{post['post_id']}", fan).json_body["liked_by_me"] is True
    seen_by_author = get(client, f"/posts/{post['post_id']}", author).json_body
    assert (seen_by_author["liked_by_me"], seen_by_author["like_count"]) == (False, 1)
    listed = get(client, f"/users/{author.user_id}/posts", fan).json_body["items"]
    assert listed[0]["liked_by_me"] is True

    for _ in range(2):
        response = client.http.delete(path, headers=fan.auth)
        assert response.json_body == {"liked": False, "like_count": 0}
    assert get(client, f"/posts/{post['post_id']}", fan).json_body["liked_by_me"] is False


def test_a_like_item_names_the_post_author_for_notifications(
    client: Client, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    author, post = author_with_post
    fan = make_account("fan")
    client.http.post(f"/posts/{post['post_id']}/like", headers=fan.auth)
    item = boto3.client("dynamodb").get_item(
        TableName=get_settings().likes_table,
        Key={"post_id": {"S": post["post_id"]}, "user_id": {"S": fan.user_id}},
    )["Item"]
    assert item["post_author_id"]["S"] == author.user_id
    assert item["created_at"]["S"].endswith("Z")


def test_eight_concurrent_likes_by_one_user_count_once(
    chalice_app, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service

    _, post = author_with_post
    fan = make_account("fan")
    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(lambda _: service.like(fan.user_id, post["post_id"]), range(8)))
    assert all(state.liked for state in states)
    assert service.hydrate(fan.user_id, [post["post_id"]])[0].post.like_count == 1


def test_twenty_users_liking_at_once_count_twenty(
    chalice_app, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service

    _, post = author_with_post
    fans = [make_account("fan") for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        counts = list(
            pool.map(lambda fan: service.like(fan.user_id, post["post_id"]).like_count, fans)
        )
    assert max(counts) == 20  # every caller read a count that includes its own like
    assert min(counts) >= 1
    assert service.hydrate(fans[0].user_id, [post["post_id"]])[0].post.like_count == 20


# Comments ---------------------------------------------------------------------------------


def add_comment(client: Client, account: Account, post_id: str, text: str):  # type: ignore[no-untyped-def]
    return client.http.post(
        f"/posts/{post_id}/comments", headers=account.auth, body=json.dumps({"text": text})
    )


def test_comments_list_oldest_first_in_pages_and_are_counted(
    client: Client, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    author, post = author_with_post
    fan = make_account("fan")
    made = []
    for index in range(5):
        created = add_comment(client, fan if index % 2 else author, post["post_id"], f"c{index}")
        assert created.status_code == 201, created.body
        made.append(created.json_body)
    assert set(made[0]) == {"comment_id", "post_id", "author", "text", "created_at"}
    assert made[1]["author"] == {"user_id": fan.user_id, "username": fan.username, "avatar": None}

    seen: list[dict] = []
    cursor = None
    for _ in range(10):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get(client, f"/posts/{post['post_id']}/comments{query}", fan).json_body
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    assert get(client, f"/posts/{post['post_id']}", fan).json_body["comment_count"] == 5


def test_a_comment_is_deleted_by_its_author_or_the_posts_author_only(
    client: Client, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    author, post = author_with_post
    fan, stranger = make_account("fan"), make_account("stranger")
    first = add_comment(client, fan, post["post_id"], "one").json_body["comment_id"]
    second = add_comment(client, fan, post["post_id"], "two").json_body["comment_id"]
    base = f"/posts/{post['post_id']}/comments"

    assert client.http.delete(f"{base}/{first}", headers=stranger.auth).status_code == 403
    assert client.http.delete(f"{base}/{first}", headers=fan.auth).status_code == 204
    assert client.http.delete(f"{base}/{second}", headers=author.auth).status_code == 204
    assert client.http.delete(f"{base}/{second}", headers=author.auth).status_code == 404
    assert client.http.delete(f"{base}/not-a-comment", headers=author.auth).status_code == 404
    assert get(client, base, fan).json_body["items"] == []
    assert get(client, f"/posts/{post['post_id']}", fan).json_body["comment_count"] == 0


def test_a_comment_item_keeps_what_notifications_need(
    client: Client, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.config import get_settings

    author, post = author_with_post
    fan = make_account("fan")
    text = f"nice one @{author.username} and @no_such_person_here"
    comment_id = add_comment(client, fan, post["post_id"], text).json_body["comment_id"]
    item = boto3.client("dynamodb").get_item(
        TableName=get_settings().comments_table,
        Key={"post_id": {"S": post["post_id"]}, "comment_id": {"S": comment_id}},
    )["Item"]
    assert item["author_id"]["S"] == fan.user_id
    assert item["post_author_id"]["S"] == author.user_id
    assert item["text"]["S"] == text
    assert [m["S"] for m in item["mentions"]["L"]] == [author.user_id]


@pytest.mark.parametrize(
    "text", ["", "   ", "x" * 2201, "bell\x07"], ids=["empty", "blank", "long", "control"]
)
def test_bad_comments_are_400_and_change_nothing(
    client: Client, make_account, author_with_post, text: str
) -> None:  # type: ignore[no-untyped-def]
    author, post = author_with_post
    assert add_comment(client, author, post["post_id"], text).status_code == 400
    assert get(client, f"/posts/{post['post_id']}", author).json_body["comment_count"] == 0


def test_concurrent_comments_are_counted_exactly(
    chalice_app, make_account, author_with_post
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service
    from chalicelib.posts.schemas import CreateCommentInput

    _, post = author_with_post
    fans = [make_account("fan") for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(
            lambda fan: service.add_comment(fan.user_id, post["post_id"], CreateCommentInput(text="hi")),
            fans,
        ))  # fmt: skip
    assert service.hydrate(fans[0].user_id, [post["post_id"]])[0].post.comment_count == 10


# Hydration --------------------------------------------------------------------------------


@pytest.fixture
def batch_get_calls(embedded_aws: EmbeddedAws) -> Iterator[dict[str, Any]]:
    """Count BatchGetItem calls on the data layer's client; ``inject`` answers the next ones
    with every key left unprocessed, as DynamoDB does when throttled."""
    from chalicelib.core.config import get_settings
    from chalicelib.core.dynamodb import _connection

    client = _connection(get_settings().aws_region).client
    state: dict[str, Any] = {"calls": 0, "keys": [], "unprocessed": 0}

    def count(model, params, **kwargs):  # type: ignore[no-untyped-def]
        request = json.loads(params["body"])["RequestItems"]
        state["calls"] += 1
        state["keys"].append(sum(len(table["Keys"]) for table in request.values()))
        if state["unprocessed"] == 0:
            return None
        state["unprocessed"] -= 1
        parsed = {"Responses": {}, "UnprocessedKeys": request}
        http = SimpleNamespace(status_code=200, headers={}, text="", content=b"")
        return http, parsed

    client.meta.events.register("before-call.dynamodb.BatchGetItem", count)
    yield state
    client.meta.events.unregister("before-call.dynamodb.BatchGetItem", count)


@pytest.fixture
def twenty_posts(chalice_app, make_account, make_ready_media):  # type: ignore[no-untyped-def]
    """20 posts by 4 authors, made through the service (quicker than 20 HTTP round trips)."""
    from chalicelib.posts import service
    from chalicelib.posts.schemas import CreatePostInput

    authors = [make_account("author") for _ in range(4)]
    post_ids = []
    for index in range(20):
        author = authors[index % 4]
        details = CreatePostInput(media_ids=[make_ready_media(author)], caption=f"#{index}")
        post_ids.append(service.create_post(author.user_id, details).post.post_id)
    return authors, post_ids


def test_hydrating_a_page_of_twenty_posts_is_one_batch_get(
    make_account, twenty_posts, batch_get_calls
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service

    authors, post_ids = twenty_posts
    viewer = make_account("viewer")
    for post_id in post_ids[::3]:
        service.like(viewer.user_id, post_id)
    batch_get_calls.update(calls=0, keys=[])

    page = service.hydrate(viewer.user_id, list(reversed(post_ids)))

    assert batch_get_calls["calls"] == 1
    assert batch_get_calls["keys"] == [20 + 4 + 20]  # posts, distinct authors, likes
    assert [view.post.post_id for view in page] == list(reversed(post_ids))
    assert [view.liked_by_me for view in page] == [
        post_id in post_ids[::3] for post_id in reversed(post_ids)
    ]
    assert {view.author.username for view in page} == {a.username for a in authors}


def test_hydrate_skips_missing_posts_and_keeps_the_order(
    client: Client, make_account, make_ready_media, batch_get_calls
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service

    author, viewer = make_account("author"), make_account("viewer")
    older, newer = (
        create_post(client, author, media_ids=[make_ready_media(author)]).json_body["post_id"]
        for _ in range(2)
    )
    gone = f"01JD3ZK8X7M4Q2V9W5T6R8Y0AB_{author.user_id}"
    batch_get_calls.update(calls=0)
    asked = [newer, gone, "garbage", older, newer]
    assert [view.post.post_id for view in service.hydrate(viewer.user_id, asked)] == [newer, older]
    assert batch_get_calls["calls"] == 1
    assert service.hydrate(viewer.user_id, []) == []
    assert service.hydrate(viewer.user_id, ["garbage"]) == []
    assert batch_get_calls["calls"] == 1  # nothing to read, no call


def test_hydrate_retries_unprocessed_keys(make_account, author_with_post, batch_get_calls) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts import service

    _, post = author_with_post
    batch_get_calls.update(calls=0, unprocessed=2)
    page = service.hydrate(make_account("viewer").user_id, [post["post_id"]])
    assert batch_get_calls["calls"] == 3
    assert [found.post.post_id for found in page] == [post["post_id"]]


def unknown_post_ids(count: int, authors: int) -> list[str]:
    author_ids = [str(uuid.uuid4()) for _ in range(authors)]
    return [f"01JD3ZK8X7M4Q2V9W5T6R{i:05d}_{author_ids[i % authors]}" for i in range(count)]


def test_endless_unprocessed_keys_end_in_a_retryable_error(batch_get_calls) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.core.errors import DependencyUnavailable
    from chalicelib.posts import service

    batch_get_calls.update(calls=0, unprocessed=1000)
    with pytest.raises(DependencyUnavailable):
        service.hydrate("some-viewer", unknown_post_ids(2, 1))
    assert batch_get_calls["calls"] == 8


def test_a_page_over_the_key_limit_is_split_into_as_few_calls_as_it_needs(
    batch_get_calls,
) -> None:  # type: ignore[no-untyped-def]
    """50 posts by 34 authors and the viewer's 50 likes are 134 keys: calls of 100 and 34;
    50 posts by one author are 101."""
    from chalicelib.posts import service

    batch_get_calls.update(calls=0, keys=[])
    assert service.hydrate("some-viewer", unknown_post_ids(50, 34)) == []
    assert service.hydrate("some-viewer", unknown_post_ids(50, 1)) == []
    assert batch_get_calls["keys"] == [100, 34, 100, 1]


def test_post_refs_by_author_page_newest_first_before_a_feed_position(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    """What the feed's read-time merge and follow backfill ask of the posts table."""
    from chalicelib.posts import repository

    author = make_account("author")
    made = [
        create_post(client, author, media_ids=[make_ready_media(author)]).json_body
        for _ in range(4)
    ]
    newest_first = [post["post_id"] for post in reversed(made)]

    refs = repository.post_refs_by_author(author.user_id, before=None, limit=3)
    assert [ref.post_id for ref in refs] == newest_first[:3]
    assert {ref.author_id for ref in refs} == {author.user_id}
    older = repository.post_refs_by_author(author.user_id, before=refs[1].entry_key, limit=10)
    assert [ref.post_id for ref in older] == newest_first[2:]
    assert repository.post_refs_by_author("nobody", before=None, limit=5) == []


def test_a_deleted_posts_likes_and_comments_are_removed_by_its_stream_record(
    chalice_app, client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.posts.repository import CommentItem, LikeItem

    from local.event_plumbing import EventPlumbing

    author, fans = make_account("author"), [make_account("fan") for _ in range(3)]
    post_id = create_post(client, author, media_ids=[make_ready_media(author)]).json_body["post_id"]
    for fan in fans:
        client.http.post(f"/posts/{post_id}/like", headers=fan.auth)
        client.http.post(
            f"/posts/{post_id}/comments", headers=fan.auth, body=json.dumps({"text": "wow"})
        )
    assert (LikeItem.count(post_id), CommentItem.count(post_id)) == (3, 3)

    with EventPlumbing(chalice_app) as plumbing:
        assert client.http.delete(f"/posts/{post_id}", headers=author.auth).status_code == 204
        assert plumbing.wait_until_idle(timeout=60)

    assert (LikeItem.count(post_id), CommentItem.count(post_id)) == (0, 0)
