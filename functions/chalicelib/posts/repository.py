"""The posts table family: posts, likes and comments, and the counters that tie them.

- posts: one item per post, holding everything a read renders (media renditions' keys and
  sizes, parsed hashtags and mentions, counters), so showing a post never reads the media
  table. The ``posts_by_author`` GSI (keys only) lists an author's posts newest first.
- likes: one item per (post, user). The post's ``like_count`` changes in the same
  transaction as the item, conditioned on the item's (non-)existence, so the count equals
  the likes stored however many requests race.
- comments: one item per (post, time-ordered comment id), so a Query lists them oldest
  first; ``comment_count`` is kept exact the same way.

Likes and comments carry the post's author, so stream consumers (notifications) need no read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import GetError, PynamoDBException, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import iso
from chalicelib.core.dynamodb import (
    BaseMeta,
    FromSettings,
    batch_get,
    batch_read,
    failed_items,
    page_of,
    transact,
)
from chalicelib.core.errors import DependencyUnavailable, NotFound
from chalicelib.core.pagination import Page, PageRequest
from chalicelib.follows import blocks_repository as blocks
from chalicelib.follows import repository as follows
from chalicelib.limits import repository as limits
from chalicelib.limits.domain import Action
from chalicelib.media import repository as media
from chalicelib.media.domain import Holder, MediaNotAttachable
from chalicelib.posts.domain import Comment, Mention, Post, PostRef
from chalicelib.users import repository as users
from chalicelib.users.domain import User


class MentionAttribute(MapAttribute[str, object]):
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()


class PostsByAuthor(GlobalSecondaryIndex["PostItem"]):
    class Meta:
        index_name = "posts_by_author"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PostItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("posts_table")

    post_id = UnicodeAttribute(hash_key=True)
    author_id = UnicodeAttribute()
    created_at = UnicodeAttribute()  # ISO-8601 with milliseconds and Z: sorts as time does
    caption = UnicodeAttribute(default="")
    hashtags = ListAttribute(of=UnicodeAttribute, default=list)
    mentions = ListAttribute(of=MentionAttribute, default=list)
    location = UnicodeAttribute(null=True)
    media = ListAttribute(of=media.AttachedMediaAttribute)
    like_count = NumberAttribute(default=0)
    comment_count = NumberAttribute(default=0)

    by_author = PostsByAuthor()


class LikeItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("likes_table")

    post_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    post_author_id = UnicodeAttribute()
    created_at = UnicodeAttribute()


class CommentItem(Model):
    class Meta(BaseMeta):
        table_name = FromSettings("comments_table")

    post_id = UnicodeAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)  # a ULID: sorts by time
    post_author_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    text = UnicodeAttribute()
    created_at = UnicodeAttribute()
    mentions = ListAttribute(of=UnicodeAttribute, default=list)  # user ids


# Mapping between items and domain objects ------------------------------------------------


def _to_item(post: Post) -> PostItem:
    return PostItem(
        post.post_id,
        author_id=post.author_id,
        created_at=iso(post.created_at),
        caption=post.caption,
        hashtags=list(post.hashtags),
        mentions=[MentionAttribute(user_id=m.user_id, username=m.username) for m in post.mentions],
        location=post.location,
        media=[media.attached_attribute(photo) for photo in post.media],
        like_count=post.like_count,
        comment_count=post.comment_count,
    )


def _to_post(item: PostItem) -> Post:
    return Post(
        post_id=item.post_id,
        author_id=item.author_id,
        created_at=datetime.fromisoformat(item.created_at),
        media=tuple(media.attached_from_attribute(photo) for photo in item.media),
        caption=item.caption,
        hashtags=tuple(str(tag) for tag in item.hashtags or ()),
        mentions=tuple(Mention(m.user_id, m.username) for m in item.mentions or ()),
        location=item.location,
        like_count=int(item.like_count),
        comment_count=int(item.comment_count),
    )


def _to_comment(item: CommentItem) -> Comment:
    return Comment(
        comment_id=item.comment_id,
        post_id=item.post_id,
        post_author_id=item.post_author_id,
        author_id=item.author_id,
        text=item.text,
        created_at=datetime.fromisoformat(item.created_at),
        mention_ids=tuple(str(user_id) for user_id in item.mentions or ()),
    )


# Posts ------------------------------------------------------------------------------------


def create_post(post: Post, now: datetime) -> None:
    """Store the post, attach its media and count it on the author, all or nothing.

    One TransactWriteItems: the post (new id), each media item (the owner's, ready, not in
    another post; its TTL removed), the author's ``post_count`` and their daily post limit.
    Raises ``MediaNotAttachable`` naming the media whose condition failed, ``RateLimited``
    when the author is at the limit.
    """
    media_ids = [photo.media_id for photo in post.media]

    def build(transaction: TransactWrite) -> None:
        transaction.save(_to_item(post), condition=PostItem.post_id.does_not_exist())
        for media_id in media_ids:
            media.attach(transaction, media_id, post.author_id, Holder.post(post.post_id), now)
        users.add_count_changes(transaction, post.author_id, post_count=1)
        limits.charge(transaction, post.author_id, Action.POSTS, now)  # last

    try:
        transact(build)
    except TransactWriteError as exc:
        failed = failed_items(exc, ["post", *media_ids, "author", "limit"])
        if "author" in failed:
            raise NotFound("your account no longer exists") from exc
        if failed & set(media_ids):
            raise MediaNotAttachable(failed & set(media_ids)) from exc
        limits.refuse_if_exceeded(exc, Action.POSTS, now)
        raise DependencyUnavailable("could not create the post; retry shortly") from exc


def get_post(post_id: str) -> Post | None:
    """The post as stored now (a consistent read: deletes check it right before)."""
    try:
        return _to_post(PostItem.get(post_id, consistent_read=True))
    except PostItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the post; retry shortly") from exc


def post_exists(post_id: str) -> bool:
    try:
        PostItem.get(post_id, attributes_to_get=["post_id"])
        return True
    except PostItem.DoesNotExist:
        return False
    except GetError as exc:
        raise DependencyUnavailable("could not read the post; retry shortly") from exc


def delete_post(post_id: str, author_id: str, media_ids: Sequence[str]) -> bool:
    """Delete the post, uncount it on its author and release its photos (their media items,
    whose REMOVE records delete their objects), all or nothing; False when it was already
    gone. As ``create_post`` attaches them in its transaction, this lets go in its own.

    The stream's REMOVE record takes it out of feeds, hashtag pages and search.
    """

    def build(transaction: TransactWrite) -> None:
        transaction.delete(
            PostItem(post_id),
            condition=PostItem.post_id.exists() & (PostItem.author_id == author_id),
        )
        users.add_count_changes(transaction, author_id, post_count=-1)
        for media_id in media_ids:
            media.release_in(transaction, media_id, author_id)

    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        failed = failed_items(exc, ["post", "author", *("media" for _ in media_ids)])
        if "post" in failed:
            return False
        if "author" in failed:
            raise NotFound("no user with that id") from exc
        raise DependencyUnavailable("could not delete the post; retry shortly") from exc


def read_for_viewer(
    viewer_id: str,
    post_ids: Sequence[str],
    author_ids: Sequence[str],
    consistent: bool = False,
    check_access: bool = False,
) -> tuple[dict[str, Post], dict[str, User], set[str], set[str], set[str]]:
    """Posts, their authors and which of them the viewer likes, in one BatchGetItem.

    Three tables in one request (``core.dynamodb.batch_get``): posts by id, authors' profiles
    and the viewer's like items, keys only. A request holds 100 keys, so a page of n posts by
    a distinct authors costs one call while 2n + a <= 100 (every page of 20; 50 posts by
    one author), and one more per further hundred keys. With ``check_access`` what the
    visibility rule needs comes in the same request: the viewer's follow edges to the other
    authors and their blocks of the viewer (2a more keys: a page of 20 posts by 20 authors
    is exactly 100).

    Returns
    -------
    Posts by id, profiles by user id, the ids of the posts the viewer likes, the authors
    the viewer follows and the authors who blocked the viewer (both empty unless
    ``check_access``).
    """
    posts_read = batch_read(PostItem, post_ids, consistent=consistent)
    authors_read = users.user_reads(author_ids)
    likes_read = batch_read(
        LikeItem,
        [(post_id, viewer_id) for post_id in post_ids],
        attributes=["post_id"],
        consistent=consistent,
    )
    reads = [posts_read, authors_read, likes_read]
    others = [author_id for author_id in author_ids if author_id != viewer_id]
    edges_read = follows.edge_reads(viewer_id, others) if check_access and others else None
    if edges_read is not None:
        reads.append(edges_read)
        reads.append(blocks.block_reads((author_id, viewer_id) for author_id in others))
    found = batch_get(reads)
    posts = [_to_post(PostItem.from_raw_data(raw)) for raw in found[posts_read.table_name]]
    authors = [users.user_from_raw(raw) for raw in found[authors_read.table_name]]
    liked = {LikeItem.from_raw_data(raw).post_id for raw in found[likes_read.table_name]}
    followed = (
        {follows.followee_from_raw(raw) for raw in found[edges_read.table_name]}
        if edges_read is not None
        else set()
    )
    blockers = {blocker_id for blocker_id, _ in blocks.blocks_found(found)}
    return (
        {post.post_id: post for post in posts},
        {user.user_id: user for user in authors},
        liked,
        followed,
        blockers,
    )


def all_posts(page_size: int = 500) -> Iterator[Post]:
    """Every post, by a Scan: for one-off jobs (the search backfill), never a request."""
    try:
        for item in PostItem.scan(page_size=page_size):
            yield _to_post(item)
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not read posts; retry shortly") from exc


def posts_page(author_id: str, page: PageRequest) -> Page[str]:
    """Ids of the author's posts, newest first, from the keys-only index."""
    results = PostItem.by_author.query(
        author_id, scan_index_forward=False, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(results, lambda item: item.post_id, "could not list the posts; retry shortly")


def post_refs_by_author(author_id: str, before: str | None, limit: int) -> list[PostRef]:
    """The author's newest posts older than the feed position ``before``
    (``"<created_at>#<post_id>"``), newest first, for the feed's fan-out and read-time merge.

    The index sorts by ``created_at`` alone, so the query starts at ``before``'s time and
    drops what sorts at or after it (posts of the same millisecond).
    """
    condition = None
    if before is not None:
        condition = PostItem.created_at <= before.partition("#")[0]
    results = PostItem.by_author.query(
        author_id, condition, scan_index_forward=False, page_size=min(limit + 1, 100)
    )
    refs: list[PostRef] = []
    try:
        for item in results:
            ref = PostRef(item.created_at, item.post_id, item.author_id)
            if before is None or ref.entry_key < before:
                refs.append(ref)
                if len(refs) >= limit:
                    break
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not list the posts; retry shortly") from exc
    return sorted(refs, reverse=True)


# Likes ------------------------------------------------------------------------------------


def add_like(post_id: str, user_id: str, post_author_id: str, at: datetime) -> bool:
    """Store the like and count it; False when it already existed (nothing changes)."""
    like = LikeItem(post_id, user_id, post_author_id=post_author_id, created_at=iso(at))

    def build(transaction: TransactWrite) -> None:
        transaction.save(like, condition=LikeItem.post_id.does_not_exist())
        _count_on_post(transaction, post_id, like_count=1)
        limits.charge(transaction, user_id, Action.LIKES, at)  # last

    return _change_pair(build, "like", charge=(Action.LIKES, at))


def remove_like(post_id: str, user_id: str) -> bool:
    """Delete the like and uncount it; False when there was none (nothing changes)."""

    def build(transaction: TransactWrite) -> None:
        transaction.delete(LikeItem(post_id, user_id), condition=LikeItem.post_id.exists())
        _count_on_post(transaction, post_id, like_count=-1)

    return _change_pair(build, "like")


def like_count(post_id: str) -> int:
    """The post's like count as of now (a consistent read, after this caller's change)."""
    try:
        item = PostItem.get(post_id, consistent_read=True, attributes_to_get=["like_count"])
    except PostItem.DoesNotExist as exc:
        raise NotFound("no post with that id") from exc
    except GetError as exc:
        raise DependencyUnavailable("could not read the post; retry shortly") from exc
    return int(item.like_count)


def _count_on_post(transaction: TransactWrite, post_id: str, **deltas: int) -> None:
    actions = [getattr(PostItem, counter).add(delta) for counter, delta in deltas.items()]
    transaction.update(PostItem(post_id), actions=actions, condition=PostItem.post_id.exists())


def _change_pair(
    build: Callable[[TransactWrite], None],
    label: str,
    charge: tuple[Action, datetime] | None = None,
) -> bool:
    """Run a transaction of one item (``label``), the post's counter and, for a ``charge``,
    the user's limit; PynamoDB sends the item's put or delete before the updates."""
    try:
        transact(build)
        return True
    except TransactWriteError as exc:
        failed = failed_items(exc, [label, "post", "limit"])
        if "post" in failed:
            raise NotFound("no post with that id") from exc
        if label in failed:
            return False
        if charge is not None:
            limits.refuse_if_exceeded(exc, *charge)
        raise DependencyUnavailable("could not save the change; retry shortly") from exc


def delete_reactions(post_id: str) -> int:
    """Delete every like and comment of a (deleted) post; how many. Idempotent: what is
    already gone is not there to delete. Their own stream records withdraw notifications."""
    deleted = 0
    try:
        for model, range_key in ((LikeItem, "user_id"), (CommentItem, "comment_id")):
            with model.batch_write() as batch:
                for item in model.query(post_id, attributes_to_get=["post_id", range_key]):
                    batch.delete(item)
                    deleted += 1
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not delete the post's likes and comments") from exc
    return deleted


# Comments ---------------------------------------------------------------------------------


def add_comment(comment: Comment) -> None:
    """Store the comment and count it on the post; NotFound when the post is gone."""
    item = CommentItem(
        comment.post_id,
        comment.comment_id,
        post_author_id=comment.post_author_id,
        author_id=comment.author_id,
        text=comment.text,
        created_at=iso(comment.created_at),
        mentions=list(comment.mention_ids),
    )

    def build(transaction: TransactWrite) -> None:
        transaction.save(item, condition=CommentItem.post_id.does_not_exist())
        _count_on_post(transaction, comment.post_id, comment_count=1)
        limits.charge(transaction, comment.author_id, Action.COMMENTS, comment.created_at)  # last

    if not _change_pair(build, "comment", charge=(Action.COMMENTS, comment.created_at)):
        raise DependencyUnavailable("could not save the comment; retry shortly")


def get_comment(post_id: str, comment_id: str) -> Comment | None:
    try:
        return _to_comment(CommentItem.get(post_id, comment_id, consistent_read=True))
    except CommentItem.DoesNotExist:
        return None
    except GetError as exc:
        raise DependencyUnavailable("could not read the comment; retry shortly") from exc


def delete_comment(post_id: str, comment_id: str) -> bool:
    """Delete the comment and uncount it; False when it was already gone."""

    def build(transaction: TransactWrite) -> None:
        transaction.delete(CommentItem(post_id, comment_id), condition=CommentItem.post_id.exists())
        _count_on_post(transaction, post_id, comment_count=-1)

    return _change_pair(build, "comment")


def comments_page(post_id: str, page: PageRequest) -> Page[Comment]:
    """The post's comments, oldest first."""
    results = CommentItem.query(
        post_id, scan_index_forward=True, limit=page.limit, last_evaluated_key=page.position
    )
    return page_of(results, _to_comment, "could not list the comments; retry shortly")
