"""Running one page of a fan-out job, and queueing the next."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.core.config import get_settings
from chalicelib.core.observability import logger, metrics
from chalicelib.core.pagination import PageRequest
from chalicelib.fanout.domain import FanoutJob
from chalicelib.fanout.inboxes import inbox_of
from chalicelib.fanout.queue import FanoutQueue
from chalicelib.follows import repository as follows


def run_job(job: FanoutJob, queue: FanoutQueue) -> int:
    """Do one page of a job and queue the next page; returns how many followers it touched.

    Every write is idempotent (a put or delete of a known key, a conditional tag), so a page
    delivered twice does no harm.
    """
    inbox = inbox_of(job.kind)
    page_size = inbox.page_size or get_settings().fanout_page_size
    page = follows.followers_page(job.author_id, PageRequest(limit=page_size, position=job.start))
    first_page = job.start is None
    recipients = page.items + ([job.author_id] if inbox.author_too and first_page else [])
    inbox.write(job, recipients)
    if page.position is not None and page.items:
        queue.enqueue(replace(job, start=page.position))
    logger.info(
        "fan-out page done", kind=job.kind, author_id=job.author_id, followers=len(page.items)
    )
    metrics.add_metric(name="FanoutFollowers", unit="Count", value=len(page.items))
    return len(page.items)
