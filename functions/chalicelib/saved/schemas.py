"""The saved routes' bodies out."""

from __future__ import annotations

from typing import Literal

from chalicelib.core.schema import Output


class SavedOut(Output):
    saved: Literal[True] = True
