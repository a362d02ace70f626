"""The stories' kind of fan-out job and what it writes (``app.py`` registers it with the
fan-out worker). Light: the writer loads on the first job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.lazy import lazy_module
from chalicelib.fanout.inboxes import Inbox

if TYPE_CHECKING:
    from chalicelib.fanout.domain import FanoutJob
    from chalicelib.stories import fanout
else:
    fanout = lazy_module("chalicelib.stories.fanout")

# The stories' kind of fan-out job, as queued messages name it.
STORY_JOB = "story"


def _add(job: FanoutJob, viewers: list[str]) -> None:
    fanout.add_to_trays(job, viewers)


STORY_INBOXES: dict[str, Inbox] = {STORY_JOB: Inbox(_add)}
