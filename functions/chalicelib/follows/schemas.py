"""The follows, follow-requests and blocks routes' bodies out (they take none in)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.core.schema import Output
from chalicelib.follows.domain import FollowStatus


class FollowStateOut(Output):
    status: FollowStatus = Field(
        description="following; requested (a private account, until it approves); none."
    )


class BlockStatusOut(Output):
    status: Literal["blocked"] = "blocked"


class ApprovedOut(Output):
    """The requester now follows the caller."""

    user_id: str = Field(description="The requester.")
    follows_me: Literal[True] = True
