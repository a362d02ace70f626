"""The API's models: strict inputs (a wrong type is an error, not a guess) and the outputs
every route answers, which validate what we send and describe it in the OpenAPI document."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from chalicelib.core.errors import InvalidInput, NotFound

_MAX_REPORTED_ERRORS = 5


_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # all but tab, line feed and carriage return
# Whitespace as Python's str.strip() and str.isspace() see it, spelled out for a pattern:
# regex engines disagree on \s (JavaScript's has U+FEFF and lacks U+0085; Rust's and
# Python's the other way round), and a document's patterns are read by all of them.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL_CHARACTERS = re.compile(f"[{_CONTROLS}]")


def _printable(text: str) -> str:
    if _CONTROL_CHARACTERS.search(text):
        raise ValueError("must not contain control characters")
    return text


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


# Text people write: any Unicode, line breaks and tabs, but no control characters. The
# validators give the messages; the patterns say the same to the OpenAPI document.
PlainText = Annotated[
    str, AfterValidator(_printable), Field(json_schema_extra={"pattern": f"^[^{_CONTROLS}]*$"})
]
# The same, with something in it besides whitespace. (No lookahead in the pattern: a
# generator such as schemathesis's can then build matching text instead of filtering.)
NonBlankText = Annotated[
    str,
    AfterValidator(_printable),
    AfterValidator(_not_blank),
    Field(
        json_schema_extra={
            "pattern": f"^[^{_CONTROLS}]*[^{WHITESPACE}{_CONTROLS}][^{_CONTROLS}]*$",
        }
    ),
]


# An id, as a path or a body names one. Every id the API hands out fits: UUIDs (user ids),
# ULIDs (comments), "<ULID>_<user id>" (posts, stories), hex (media, conversations),
# base64url (notifications), usernames. DynamoDB refuses keys over 2,048 bytes (partition)
# or 1,024 (sort) with a ValidationException the data layers would report as an outage, and
# moto accepts most; so ids are held to this shape before any AWS call: a path id that does
# not fit names nothing (404; ``api/operations.py`` checks every path's), a body id is bad
# input (400).
# At least one letter or digit: "." and ".." are path segments, not ids. (No lookahead: a
# generator such as schemathesis's builds matching text from the pattern.)
MAX_ID_LENGTH = 128
ID_PATTERN = r"^[A-Za-z0-9._:-]*[A-Za-z0-9][A-Za-z0-9._:-]*$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]


def path_parameter_check(name: str, annotation: Any = Id) -> Any:
    """A check of one path parameter against its annotation (``Id`` unless the view names
    another): ``check(value)`` returns the value, or raises.

    A path names a resource, so a path id that is no id names nothing: ``NotFound``, as an
    unknown id (the body says why). A parameter of another kind (a hashtag) that does not
    fit is bad input, ``InvalidInput``.
    """
    adapter: TypeAdapter[str] = TypeAdapter(annotation)

    def check(value: str) -> str:
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            if annotation is Id:
                raise NotFound(
                    f"{name} names nothing: ids are up to {MAX_ID_LENGTH} letters, digits and "
                    ". _ : -"
                ) from exc
            raise InvalidInput(f"{name}: {exc.errors(include_url=False)[0]['msg']}") from exc

    return check


def _whole(value: object) -> object:
    """JSON does not tell 5 from 5.0, and JSON Schema calls both integers; take both."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a body or frame takes 5 or 5.0, never "5" or true: ``Annotated[int,
# Field(ge=...), WHOLE_NUMBER]``, after the bounds, so the document still shows them.
WHOLE_NUMBER = BeforeValidator(_whole)


class StrictInput(BaseModel):
    """Base of every request body: no coercion ("1" is not 1), no unknown fields.

    Each model builds its validator on first use (``defer_build``), not at import: a cold
    start then pays only for the bodies that container actually parses.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


class QueryInput(BaseModel):
    """Base of a route's query parameters (besides a list's ``limit`` and ``cursor``).

    Query strings are text, so values are converted ("5" is 5), but nothing is guessed: a
    value that does not convert is a 400. Parameters a route does not know are ignored, as
    clients add cache-busters.
    """

    model_config = ConfigDict(strict=False, extra="ignore", frozen=True, defer_build=True)


class Output(BaseModel):
    """Base of every response body and WebSocket frame we send: built from domain objects
    by the features' schemas, validated as it is built, and rendered with ``model_dump``.
    Every field is always present; "nothing" is ``null``, never a missing key.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        # Fields with defaults are sent too, so the document marks every field required.
        json_schema_serialization_defaults_required=True,
    )


class ListOf[Item](Output):
    """A page of a list: the contract's ``{"items": [...], "next_cursor": ...}``."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """``ListOf[PostOut]`` is ``PostOutList``; of a union, ``AOutOrBOutList``."""
        kinds = get_args(params[0]) or params
        return "Or".join(getattr(kind, "__name__", str(kind)) for kind in kinds) + "List"

    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class HealthOut(Output):
    status: Literal["ok"] = "ok"


class ErrorOut(Output):
    """Every error's body, in Chalice's shape."""

    Code: str = Field(examples=["NotFoundError"])
    Message: str = Field(description="What went wrong, in words a person can act on.")


def describe_validation_error(exc: ValidationError) -> str:
    """One sentence per problem, naming the field; never echoes the (maybe huge) input."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:_MAX_REPORTED_ERRORS]:
        field = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{field}: {error['msg']}")
    return "; ".join(problems)


def validate_input[M: StrictInput](model: type[M], data: object) -> M:
    """``data`` (a parsed body or frame) as ``model``, or a 400 naming what is wrong."""
    validated: M = _validated(model, data)
    return validated


def validate_query[Q: QueryInput](model: type[Q], parameters: dict[str, str]) -> Q:
    """A request's query parameters as ``model``, or a 400 naming what is wrong."""
    validated: Q = _validated(model, parameters)
    return validated


def _validated(model: type[BaseModel], data: object) -> Any:
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from exc
