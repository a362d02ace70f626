"""Each route's contract, read from its view: one declaration serves requests and describes
them in the OpenAPI document (``chalicelib.api.openapi``).

A view declares, in its signature:

- each path parameter as a ``str`` parameter named as in its route, which is checked as a
  ``schema.Id`` before the view runs (up to 128 letters, digits and ``._:-``; anything else
  names nothing: 404), or with an annotation of its own when it is no id (a hashtag: 400);
- its JSON body, if it takes one, as a parameter typed with a ``StrictInput`` model;
- its query parameters, if any besides a list's, as a parameter typed with a ``QueryInput``
  model;
- what it answers, as its return type: an ``Output`` model, ``ListOf[...]`` for a list
  (which takes ``?limit=`` and ``?cursor=``), or ``None`` for 204 No Content;
- and, with ``@operation``, what the signature cannot say: a success status other than
  200, ``Idempotency-Key`` support, the rate limit it charges, the error statuses it
  answers beyond those every route may answer. Its docstring is the operation's summary.

``serve`` wraps each view once (``register_middleware``): it parses and validates the body
and query into the declared models, runs the view (once per ``Idempotency-Key`` where
declared), renders the model it returns with the declared status, adds the rate-limit
headers, and answers domain errors with their mapped status (Chalice would turn any other
exception into a bare 500 before middleware sees it).

Views are modules of thin functions that reach their schemas through lazy modules (cold
starts), so signatures are resolved (``typing.get_type_hints``) on a view's first call,
not at import.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.api import requests
from chalicelib.api.errors import error_response, rate_limit_headers
from chalicelib.core.errors import DomainError
from chalicelib.core.lazy import lazy_module
from chalicelib.core.observability import logger

if TYPE_CHECKING:
    from chalicelib.api import idempotency
    from chalicelib.core import schema
    from chalicelib.limits import service as limits
else:
    idempotency = lazy_module("chalicelib.api.idempotency")
    schema = lazy_module("chalicelib.core.schema")
    limits = lazy_module("chalicelib.limits.service")

PUBLIC_PREFIXES = ("/auth/",)
PUBLIC_PATHS = ("/health",)


def is_public(resource_path: str) -> bool:
    """The contract's public routes: /health and /auth/*; every other route needs a token."""
    return resource_path in PUBLIC_PATHS or resource_path.startswith(PUBLIC_PREFIXES)


@dataclass(frozen=True)
class Operation:
    """What ``@operation`` declares; the defaults fit a plain read."""

    status: int | None = None  # None: 200, or 204 when the view returns None
    idempotent: bool = False
    rate_limit: str | None = None  # a ``limits.domain.Action`` value
    errors: tuple[int, ...] = ()


def operation(
    *,
    status: int | None = None,
    idempotent: bool = False,
    rate_limit: str | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a view's signature cannot say (see the module's docstring).

    Parameters
    ----------
    status:
        The success status when it is not 200 (201 Created, 202 Accepted).
    idempotent:
        The route honours ``Idempotency-Key``: a retry returns the first response.
    rate_limit:
        The per-user limit the route charges (``limits.domain.Action``'s value): its
        responses carry ``X-RateLimit-*`` headers, and it may answer 429.
    errors:
        Error statuses the route answers beyond 400 (bad input), 401 (no valid token) and
        404 (a path names nothing the caller may see); e.g. 403, 409.
    """
    declared = Operation(status, idempotent, rate_limit, errors)

    def declare(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__operation__ = declared  # type: ignore[attr-defined]
        return view

    return declare


@dataclass(frozen=True)
class Contract:
    """A route's resolved contract: the declaration plus what its view's signature says."""

    path: str
    method: str
    view_name: str
    feature: str  # the folder of chalicelib the route lives in: "posts"
    summary: str
    operation: Operation
    path_params: tuple[str, ...]
    # A path parameter's annotation when it says more than ``str`` (a pattern, for the docs).
    path_types: dict[str, Any]
    body: tuple[str, type[schema.StrictInput]] | None  # (parameter name, model)
    query: tuple[str, type[schema.QueryInput]] | None
    response: Any  # an Output model (maybe ``ListOf[...]``), or None for 204
    is_list: bool = False

    @property
    def status(self) -> int:
        if self.operation.status is not None:
            return self.operation.status
        return 204 if self.response is None else 200

    @property
    def public(self) -> bool:
        return is_public(self.path)

    @property
    def documented_errors(self) -> tuple[int, ...]:
        """The error statuses the route may answer: the declared ones, and what its inputs,
        its token, its path ids, its Idempotency-Key and its rate limit make possible."""
        statuses = set(self.operation.errors)
        if self.path_params or self.body or self.query or self.is_list:
            statuses.add(400)
        if not self.public:
            statuses.add(401)
        if self.path_params:
            statuses.add(404)
        if self.operation.idempotent:
            statuses.update((409, 422))  # a key still in use; a key reused with another body
        if self.operation.rate_limit:
            statuses.add(429)
        return tuple(sorted(statuses))

    @property
    def name(self) -> str:
        """``"POST /posts"``: how logs, idempotency records and the docs name it."""
        return f"{self.method} {self.path}"


def contract_of(path: str, method: str, view: Callable[..., Any]) -> Contract:
    """Resolve ``view``'s contract (imports its schemas: call it on first use)."""
    view = inspect.unwrap(view)
    declared: Operation = getattr(view, "__operation__", Operation())
    hints = typing.get_type_hints(view, include_extras=True)
    path_params = tuple(name.strip("{}+") for name in path.split("/") if name.startswith("{"))
    body: tuple[str, type[schema.StrictInput]] | None = None
    query: tuple[str, type[schema.QueryInput]] | None = None
    for name in inspect.signature(view).parameters:
        hint = hints.get(name)
        if name in path_params:
            continue
        if isinstance(hint, type) and issubclass(hint, schema.StrictInput):
            body = (name, hint)
        elif isinstance(hint, type) and issubclass(hint, schema.QueryInput):
            query = (name, hint)
        else:
            raise TypeError(f"{view.__qualname__}: parameter {name!r} is not in the route's path")
    response = hints.get("return")
    response = None if response is type(None) else response
    is_list = isinstance(response, type) and issubclass(response, schema.ListOf)
    summary = inspect.getdoc(view) or view.__name__.replace("_", " ")
    feature = view.__module__.split(".")[1] if view.__module__.count(".") >= 2 else "api"
    return Contract(
        path,
        method,
        view.__name__,
        feature,
        summary,
        declared,
        path_params,
        {name: hints[name] for name in path_params if hints.get(name, str) is not str},
        body,
        query,
        response,
        is_list,
    )


def serve(app: Chalice, path: str, method: str, view: Callable[..., Any]) -> Callable[..., Any]:
    """``view`` as Chalice calls it: with its path parameters, answering a ``Response``."""

    @functools.cache
    def contract() -> Contract:
        return contract_of(path, method, view)

    @functools.cache
    def path_checks() -> dict[str, Callable[[str], str]]:
        resolved = contract()
        return {
            name: schema.path_parameter_check(name, resolved.path_types.get(name, schema.Id))
            for name in resolved.path_params
        }

    @functools.wraps(view)
    def served(**path_params: str) -> Response:
        try:
            # Before anything reads a path id: an over-long or odd one never reaches AWS.
            checks = path_checks()
            checked = {name: checks[name](value) for name, value in path_params.items()}
            return _answer(contract(), app, view, checked)
        except DomainError as error:
            return answer_error(error)

    served.serves_contract = True  # type: ignore[attr-defined]
    return served


def answer_error(error: DomainError) -> Response:
    """The response to a domain error: its mapped status, in the ``{Code, Message}`` shape."""
    response = error_response(error)
    if response.status_code >= 500:
        logger.warning("request failed upstream", error=error.code, detail=error.message)
    return response


def _answer(
    contract: Contract, app: Chalice, view: Callable[..., Any], path_params: dict[str, str]
) -> Response:
    request = app.current_request
    if request is None:  # Chalice sets it before any view runs
        raise RuntimeError("no current request")
    arguments: dict[str, Any] = dict(path_params)
    if contract.body is not None:
        body_name, body_model = contract.body
        arguments[body_name] = requests.body(request, body_model)
    if contract.query is not None:
        query_name, query_model = contract.query
        arguments[query_name] = requests.query(request, query_model)
    headers: dict[str, str | list[str]] = {}
    if contract.operation.idempotent and contract.body is not None:
        caller_id = requests.caller(request).user_id
        details = arguments[contract.body[0]]
        outcome = idempotency.run_once(
            contract.name,
            caller_id,
            idempotency.idempotency_key(request),
            details,
            lambda: _rendered(view(**arguments)),
            app.lambda_context,
        )
        body: Any = outcome.body
        headers.update(outcome.headers)
    else:
        body = _rendered(view(**arguments))
    if contract.operation.rate_limit:
        headers.update(_rate_limit_headers(request, contract.operation.rate_limit))
    if contract.status == 204:
        return Response(body="", status_code=204, headers=headers)
    return Response(body=body, status_code=contract.status, headers=headers)


def _rendered(result: Any) -> Any:
    if result is None:
        return None
    if not isinstance(result, schema.Output):
        raise TypeError(f"a view answered {type(result).__name__}, not an Output model")
    return result.model_dump(mode="json")


def _rate_limit_headers(request: Request, action: str) -> dict[str, str]:
    state = limits.state(requests.caller(request).user_id, action)
    return rate_limit_headers(state.limit, state.remaining, state.resets_at)
