"""Input models: strict, closed pydantic models, so a wrong type is an error, not a guess."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from chalicelib.core.errors import InvalidInput

_MAX_REPORTED_ERRORS = 5


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    if _CONTROL_CHARACTERS.search(text):
        raise ValueError("must not contain control characters")
    return text


# Text people write: any Unicode, line breaks and tabs, but no control characters.
PlainText = Annotated[str, AfterValidator(_printable)]


class StrictInput(BaseModel):
    """Base of every request body: no coercion ("1" is not 1), no unknown fields.

    Each model builds its validator on first use (``defer_build``), not at import: a cold
    start then pays only for the bodies that container actually parses.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


def describe_validation_error(exc: ValidationError) -> str:
    """One sentence per problem, naming the field; never echoes the (maybe huge) input."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:_MAX_REPORTED_ERRORS]:
        field = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{field}: {error['msg']}")
    return "; ".join(problems)


def validate_input[M: StrictInput](model: type[M], data: object) -> M:
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from exc
