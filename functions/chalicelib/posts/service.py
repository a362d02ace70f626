"""Posting photos, reading posts page by page, liking and commenting.

Every read of posts goes through ``hydrate``: one multi-table BatchGetItem for a page (the
posts, their authors and the viewer's likes), so the feed, a profile's grid and a single
post cost the same one request.

Private accounts' posts, likes and comments are for their followers only (403 otherwise),
and an author who blocked the viewer is as if they did not exist (404); the author always
sees their own. ``visibility`` decides it, for one post or a page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import AlreadyExists, InvalidInput, NotAllowed, NotFound
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.media import service as media
from chalicelib.media.domain import MediaNotAttachable, Purpose
from chalicelib.posts import captions, repository, visibility
from chalicelib.posts.domain import (
    MAX_HASHTAGS,
    MAX_MENTIONS,
    Comment,
    LikeState,
    Mention,
    Post,
    PostView,
    author_of,
    is_comment_id,
    new_comment_id,
    new_post_id,
)
from chalicelib.posts.schemas import CreateCommentInput, CreatePostInput
from chalicelib.users import repository as users
from chalicelib.users.domain import User

NO_POST = "no post with that id"

# Reading ----------------------------------------------------------------------------------


def hydrate(
    viewer_id: str, post_ids: Sequence[str], followed_only: bool = False, visible_only: bool = False
) -> list[PostView]:
    """Posts as ``viewer_id`` sees them, in the order asked, each once; ids of posts that do
    not exist (deleted, never made) are skipped.

    One BatchGetItem for a page of up to 33 posts by distinct authors (every page of 20),
    or up to 49 by one author: see ``repository.read_for_viewer``. With ``followed_only``,
    posts by authors the viewer does not follow (other than the viewer) are skipped too: the
    feed's guard for an unfollow whose stream clean-up has not run yet, checked in the same
    request. With ``visible_only``, posts the viewer may not see (``visibility``: private
    accounts the viewer does not follow, authors who blocked the viewer) are skipped,
    decided from the same request: lists that mix authors the viewer may not follow
    (search, hashtag pages, saved posts). Both read the follow and block edges of the
    page's authors with the page (a page of 20 posts by 20 authors is still one request).
    """
    return _views(viewer_id, post_ids, followed_only=followed_only, visible_only=visible_only)


def get_post(viewer_id: str, post_id: str) -> PostView:
    """One post, read with the facts deciding whether the viewer may see it (one request).
    No such post, or an author who blocked the viewer: 404. A private account's: 403."""
    views = _views(viewer_id, [post_id], check_access=True)
    if not views:
        raise NotFound(NO_POST)
    view = views[0]
    with _as_no_post():
        visibility.require_may_see(
            viewer_id, view.author, view.viewer_follows_author, view.blocked_by_author, "posts"
        )
    return view


def posts_of(viewer_id: str, user_id: str, page: PageRequest) -> Page[PostView]:
    """A profile's posts, newest first."""
    visibility.ensure_may_see(viewer_id, user_id, "posts")
    ids = repository.posts_page(user_id, page)
    return Page(hydrate(viewer_id, ids.items), ids.position)


def _views(
    viewer_id: str,
    post_ids: Sequence[str],
    consistent: bool = False,
    followed_only: bool = False,
    visible_only: bool = False,
    check_access: bool = False,
) -> list[PostView]:
    authors = {post_id: author_of(post_id) for post_id in dict.fromkeys(post_ids)}
    wanted = [post_id for post_id, author_id in authors.items() if author_id]
    if not wanted:
        return []
    author_ids = list(dict.fromkeys(author_id for author_id in authors.values() if author_id))
    posts, profiles, liked, followed, blockers = repository.read_for_viewer(
        viewer_id,
        wanted,
        author_ids,
        consistent,
        check_access=check_access or followed_only or visible_only,
    )
    if followed_only or visible_only:
        profiles = {
            user_id: profile
            for user_id, profile in profiles.items()
            if (not followed_only or user_id == viewer_id or user_id in followed)
            and visibility.may_see_posts(
                viewer_id, profile, user_id in followed, blocked_by_author=user_id in blockers
            )
        }
    views = []
    for post_id in wanted:
        post = posts.get(post_id)
        author = profiles.get(post.author_id) if post else None
        if post and author:  # a post outliving its author's profile is not shown
            views.append(
                PostView(
                    post,
                    author,
                    post_id in liked,
                    viewer_follows_author=author.user_id in followed,
                    blocked_by_author=author.user_id in blockers,
                )
            )
    return views


@contextmanager
def _as_no_post() -> Iterator[None]:
    """A post whose author blocked the viewer, or whose author is gone, does not exist for
    them: the same 404 as a post that never did."""
    try:
        yield
    except NotFound as exc:
        raise NotFound(NO_POST) from exc


def _visible_author(viewer_id: str, post_id: str) -> str:
    """The post's author id, after checking the viewer may see that author's posts (one
    BatchGetItem of the author's profile and the viewer's follow and block edges)."""
    author_id = author_of(post_id)
    if author_id is None:
        raise NotFound(NO_POST)
    if author_id != viewer_id:
        with _as_no_post():
            visibility.ensure_may_see(viewer_id, author_id, "posts")
    return author_id


def ensure_post_visible(viewer_id: str, post_id: str) -> str:
    """The post's author id; ``NotFound`` for no such post (or an author who blocked the
    viewer), ``NotAllowed`` when the viewer may not see it (for features acting on posts:
    saving, reporting)."""
    return _visible_author(viewer_id, post_id)


def ensure_comment_visible(viewer_id: str, post_id: str, comment_id: str) -> None:
    """``NotFound`` unless the comment exists on a post the viewer may see."""
    _visible_author(viewer_id, post_id)
    if repository.get_comment(post_id, comment_id) is None:
        raise NotFound("no comment with that id")


# Posting ----------------------------------------------------------------------------------


def create_post(author_id: str, details: CreatePostInput) -> PostView:
    """Make a post of the author's ready photos, atomically (see ``repository.create_post``).

    Someone else's media: 403. Unknown or expired: 404. Not ready, failed, or already in a
    post: 409. Returns the post as its author sees it.
    """
    caption = details.caption or ""
    tags = captions.hashtags(caption)
    if len(tags) > MAX_HASHTAGS:
        raise InvalidInput(f"caption: at most {MAX_HASHTAGS} hashtags")
    mentions = _resolve_mentions(author_id, caption)

    now = utc_now()
    photos = media.photos_to_attach(author_id, details.media_ids, Purpose.POST, now)
    post = Post(
        post_id=new_post_id(author_id, now),
        author_id=author_id,
        created_at=now,
        media=tuple(photos),
        caption=caption,
        hashtags=tuple(tags),
        mentions=tuple(mentions),
        location=details.location or None,
    )
    try:
        repository.create_post(post, now)
    except MediaNotAttachable as exc:
        media.explain_refusal(author_id, exc, Purpose.POST)
        raise AlreadyExists("the media changed while the post was made; retry") from exc
    logger.info(
        "post created", post_id=post.post_id, media=len(post.media), hashtags=len(post.hashtags)
    )
    metrics.add_metric(name="PostsCreated", unit="Count", value=1)
    return _views(author_id, [post.post_id], consistent=True)[0]


def _resolve_mentions(writer_id: str, text: str) -> list[Mention]:
    """``@names`` in the text that are users, in order; unknown names stay plain text, and
    so do accounts that blocked the writer (they are neither linked nor notified; one more
    BatchGetItem, only when the text mentions someone)."""
    names = captions.mentions(text)
    if len(names) > MAX_MENTIONS:
        raise InvalidInput(f"at most {MAX_MENTIONS} @mentions")
    user_ids = users.find_user_ids(names)
    blockers = visibility.blockers_of(writer_id, user_ids.values())
    return [
        Mention(user_ids[name], name)
        for name in names
        if name in user_ids and user_ids[name] not in blockers
    ]


def delete_post(caller_id: str, post_id: str) -> None:
    """The author deletes a post, and with it its photos' media items; their originals and
    renditions follow from the media stream (``media/cleanup.py``).

    Feeds, hashtag pages and search drop it, and its likes and comments are deleted, from
    the posts stream's REMOVE record (``posts/consumers.py``); no read shows them meanwhile.
    """
    # Whoever may not see the post is told what reading it would tell them (404 or 403),
    # not that it exists and is someone else's.
    _visible_author(caller_id, post_id)
    post = repository.get_post(post_id)
    if post is None:
        raise NotFound("no post with that id")
    if post.author_id != caller_id:
        raise NotAllowed("only its author can delete a post")
    if not repository.delete_post(post_id, caller_id, [photo.media_id for photo in post.media]):
        raise NotFound("no post with that id")
    logger.info("post deleted", post_id=post_id)


# Likes ------------------------------------------------------------------------------------


def like(viewer_id: str, post_id: str) -> LikeState:
    """Idempotent: liking twice counts once, however the requests race."""
    author_id = _visible_author(viewer_id, post_id)
    if repository.add_like(post_id, viewer_id, author_id, utc_now()):
        logger.info("post liked", post_id=post_id)
        metrics.add_metric(name="Likes", unit="Count", value=1)
    return LikeState(liked=True, like_count=repository.like_count(post_id))


def unlike(viewer_id: str, post_id: str) -> LikeState:
    """Idempotent: unliking a post you don't like changes nothing. Only on a post the viewer
    may see, as liking: the answer carries its like count."""
    _visible_author(viewer_id, post_id)
    if repository.remove_like(post_id, viewer_id):
        logger.info("post unliked", post_id=post_id)
    return LikeState(liked=False, like_count=repository.like_count(post_id))


# Comments ---------------------------------------------------------------------------------


def add_comment(viewer_id: str, post_id: str, details: CreateCommentInput) -> tuple[Comment, User]:
    """Comment on a post the viewer can see; ``@names`` in it are kept as user ids for
    notifications. Returns the comment and its author."""
    author_id = _visible_author(viewer_id, post_id)
    mentions = _resolve_mentions(viewer_id, details.text)
    now = utc_now()
    comment = Comment(
        comment_id=new_comment_id(now),
        post_id=post_id,
        post_author_id=author_id,
        author_id=viewer_id,
        text=details.text,
        created_at=now,
        mention_ids=tuple(mention.user_id for mention in mentions),
    )
    repository.add_comment(comment)
    logger.info("comment added", post_id=post_id, comment_id=comment.comment_id)
    metrics.add_metric(name="Comments", unit="Count", value=1)
    return comment, users.get_user(viewer_id)


def comments(viewer_id: str, post_id: str, page: PageRequest) -> Page[tuple[Comment, User]]:
    """A post's comments, oldest first, with their authors (one BatchGetItem)."""
    _visible_author(viewer_id, post_id)
    if not repository.post_exists(post_id):
        raise NotFound("no post with that id")
    listed = repository.comments_page(post_id, page)
    authors = users.get_users(comment.author_id for comment in listed.items)
    return Page(
        [(c, authors[c.author_id]) for c in listed.items if c.author_id in authors],
        listed.position,
    )


def delete_comment(caller_id: str, post_id: str, comment_id: str) -> None:
    """The comment's author or the post's author may delete it, on a post they may see."""
    _visible_author(caller_id, post_id)
    comment = None
    if is_comment_id(comment_id):
        comment = repository.get_comment(post_id, comment_id)
    if comment is None:
        raise NotFound("no comment with that id on this post")
    if caller_id not in (comment.author_id, comment.post_author_id):
        raise NotAllowed("only the comment's author or the post's author can delete it")
    if not repository.delete_comment(post_id, comment_id):
        raise NotFound("no comment with that id on this post")
    logger.info("comment deleted", post_id=post_id, comment_id=comment_id)
