"""Filing reports: the reporter must be able to see what they report.

A post or comment the reporter may not see answers as reading it would (404 or 403), a
message only its conversation's members may report (403), an unknown user or one that blocked
the reporter 404, as its profile. So a report cannot be used to learn that something exists.
"""

from __future__ import annotations

from chalicelib.core.clock import utc_now
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.ids import new_ulid
from chalicelib.follows import repository as follows
from chalicelib.messages import service as messages
from chalicelib.posts import service as posts
from chalicelib.reports import repository
from chalicelib.reports.domain import Report, TargetType
from chalicelib.reports.schemas import ReportInput


def file_report(reporter_id: str, details: ReportInput) -> Report:
    _ensure_reportable(reporter_id, details.target_type, details.target_id)
    now = utc_now()
    return repository.file_report(
        Report(
            report_id=new_ulid(now),
            target_type=details.target_type,
            target_id=details.target_id,
            reporter_id=reporter_id,
            reason=details.reason,
            created_at=now,
        )
    )


def _ensure_reportable(reporter_id: str, target_type: TargetType, target_id: str) -> None:
    if target_type is TargetType.POST:
        posts.ensure_post_visible(reporter_id, target_id)
    elif target_type is TargetType.USER:
        _ensure_user_visible(reporter_id, target_id)
    elif target_type is TargetType.COMMENT:
        post_id, comment_id = _pair(target_id, "<post_id>/<comment_id>")
        posts.ensure_comment_visible(reporter_id, post_id, comment_id)
    else:
        conversation_id, seq = _pair(target_id, "<conversation_id>/<seq>")
        if not seq.isascii() or not seq.isdigit():
            raise InvalidInput("target_id: a message is <conversation_id>/<seq>")
        messages.ensure_message_readable(reporter_id, conversation_id, int(seq))


def _ensure_user_visible(reporter_id: str, user_id: str) -> None:
    """An account that blocked the reporter is not there for them, as its profile is not
    (``users.service.profile``): the same 404 as an unknown one (one BatchGetItem)."""
    user, relationship = follows.profile_and_relationship(reporter_id, user_id)
    if user is None or relationship.blocks_me:
        raise NotFound("no user with that id")


def _pair(target_id: str, shape: str) -> tuple[str, str]:
    first, _, second = target_id.partition("/")
    if not first or not second or "/" in second:
        raise InvalidInput(f"target_id: this target is {shape}")
    return first, second
