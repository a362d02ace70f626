"""Saved posts and reports, through the routes."""

from __future__ import annotations

import json

from chalice.test import Client

from tests.support import create_post


def _saved(client: Client, account, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    listed = client.http.get(f"/saved{query}", headers=account.auth)
    assert listed.status_code == 200, listed.body
    return [post["post_id"] for post in listed.json_body["items"]]


def test_saved_posts_list_newest_first_and_save_is_idempotent(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, saver = make_account("author"), make_account("saver")
    first, second = (create_post(client, author, make_ready_media(author)) for _ in range(2))

    for post_id in (first, second, first):  # saving twice keeps the first time
        saved = client.http.post(f"/posts/{post_id}/save", headers=saver.auth)
        assert (saved.status_code, saved.json_body) == (200, {"saved": True})

    assert _saved(client, saver) == [second, first]
    listed = client.http.get("/saved", headers=saver.auth).json_body["items"]
    assert listed[0]["author"]["user_id"] == author.user_id  # posts render as everywhere
    assert _saved(client, author) == []  # per user


def test_unsave_is_idempotent_and_paging_uses_cursors(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, saver = make_account("author"), make_account("saver")
    posts = [create_post(client, author, make_ready_media(author)) for _ in range(3)]
    for post_id in posts:
        client.http.post(f"/posts/{post_id}/save", headers=saver.auth)

    for _ in range(2):
        unsaved = client.http.delete(f"/posts/{posts[1]}/save", headers=saver.auth)
        assert unsaved.status_code == 204
    page = client.http.get("/saved?limit=1", headers=saver.auth).json_body
    rest = client.http.get(f"/saved?limit=1&cursor={page['next_cursor']}", headers=saver.auth)

    assert [p["post_id"] for p in page["items"]] == [posts[2]]
    assert [p["post_id"] for p in rest.json_body["items"]] == [posts[0]]


def test_a_saved_post_vanishes_when_deleted_or_no_longer_visible(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, other, saver = make_account("author"), make_account("other"), make_account("saver")
    deleted = create_post(client, author, make_ready_media(author))
    hidden = create_post(client, other, make_ready_media(other))
    kept = create_post(client, author, make_ready_media(author))
    for post_id in (deleted, hidden, kept):
        client.http.post(f"/posts/{post_id}/save", headers=saver.auth)

    client.http.delete(f"/posts/{deleted}", headers=author.auth)
    client.http.patch("/users/me", headers=other.auth, body=json.dumps({"is_private": True}))

    assert _saved(client, saver) == [kept]


def test_saving_needs_a_post_the_saver_may_see(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, stranger = make_account("author"), make_account("stranger")
    client.http.patch("/users/me", headers=author.auth, body=json.dumps({"is_private": True}))
    private_post = create_post(client, author, make_ready_media(author))

    assert client.http.post("/posts/nope/save", headers=stranger.auth).status_code == 404
    assert client.http.post(f"/posts/{private_post}/save", headers=stranger.auth).status_code == 403
    assert _saved(client, stranger) == []


def _report(client: Client, reporter, target_type: str, target_id: str, reason: str = "spam"):  # type: ignore[no-untyped-def]
    body = {"target_type": target_type, "target_id": target_id, "reason": reason}
    return client.http.post("/reports", headers=reporter.auth, body=json.dumps(body))


def _queued(reporter_id: str) -> list[tuple[str, str, str]]:
    from chalicelib.reports import repository

    return [
        (report.target_type, report.target_id, report.reason)
        for report in repository.open_reports(limit=1000)
        if report.reporter_id == reporter_id
    ]


def test_each_kind_of_target_is_reported_once_per_reporter(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, reporter = make_account("author"), make_account("reporter")
    post_id = create_post(client, author, make_ready_media(author))
    comment = client.http.post(
        f"/posts/{post_id}/comments", headers=author.auth, body=json.dumps({"text": "buy now"})
    ).json_body
    sent = client.http.post(
        "/messages", headers=author.auth,
        body=json.dumps({"to": reporter.user_id, "text": "hey", "client_id": "r1"}),
    ).json_body  # fmt: skip
    targets = [
        ("post", post_id),
        ("comment", f"{post_id}/{comment['comment_id']}"),
        ("user", author.user_id),
        ("message", f"{sent['conversation_id']}/{sent['seq']}"),
    ]

    for target_type, target_id in targets:
        first = _report(client, reporter, target_type, target_id, "spam")
        again = _report(client, reporter, target_type, target_id, "changed my mind")
        assert first.status_code == again.status_code == 202, first.body
        assert again.json_body == first.json_body
        assert set(first.json_body) == {"report_id", "status"}

    assert sorted(_queued(reporter.user_id)) == sorted(
        (target_type, target_id, "spam") for target_type, target_id in targets
    )


def test_reports_need_a_target_the_reporter_may_see(
    client: Client, make_account, make_ready_media
) -> None:  # type: ignore[no-untyped-def]
    author, reporter, outsider = (make_account(n) for n in ("author", "reporter", "outsider"))
    sent = client.http.post(
        "/messages", headers=author.auth,
        body=json.dumps({"to": reporter.user_id, "text": "hey", "client_id": "r1"}),
    ).json_body  # fmt: skip
    client.http.patch("/users/me", headers=author.auth, body=json.dumps({"is_private": True}))
    private_post = create_post(client, author, make_ready_media(author))
    conversation = sent["conversation_id"]

    cases = [
        (("post", "no-such-post"), 404),
        (("post", private_post), 403),
        (("user", "no-such-user"), 404),
        (("comment", f"{private_post}/01ABC"), 403),
        (("comment", "no-slash"), 400),
        (("message", f"{conversation}/1"), 403),  # not the outsider's conversation
        (("message", f"{conversation}/x"), 400),
        (("thing", "x"), 400),
    ]
    for (target_type, target_id), status in cases:
        answered = _report(client, outsider, target_type, target_id)
        assert answered.status_code == status, (target_type, target_id, answered.body)
    assert _report(client, reporter, "message", f"{conversation}/9").status_code == 404
    assert _report(client, reporter, "user", author.user_id, "").status_code == 400
    assert _report(client, reporter, "user", author.user_id, "x" * 1001).status_code == 400
    assert _queued(outsider.user_id) == []


def test_reporting_an_account_that_blocked_you_is_404_like_its_profile(
    client: Client, make_account
) -> None:  # type: ignore[no-untyped-def]
    blocker, blocked = make_account("blocker"), make_account("blocked")
    assert (
        client.http.post(f"/users/{blocked.user_id}/block", headers=blocker.auth).status_code == 200
    )

    profile = client.http.get(f"/users/{blocker.user_id}", headers=blocked.auth)
    report = _report(client, blocked, "user", blocker.user_id)

    assert profile.status_code == report.status_code == 404, report.body
    assert report.json_body == {"Code": "NotFoundError", "Message": "no user with that id"}
    assert _queued(blocked.user_id) == []
    # The blocker may still report the account it blocked: it can see its profile.
    assert _report(client, blocker, "user", blocked.user_id).status_code == 202
