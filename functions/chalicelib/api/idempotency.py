"""``Idempotency-Key``: a retried POST returns the first response and creates nothing new.

Built on Powertools' idempotency utility and its DynamoDB persistence layer (the
``idempotency`` table, TTL on ``expiration``). For each keyed request:

- **Scope**: the record's id is ``<operation>#md5([caller id, key])``. The caller's id is
  hashed with the key, so two users who send the same key never share a record, and the
  operation (``"POST /posts"``, not the Lambda function's name, which changes per stage and
  deploy) keeps one route's keys apart from another's.
- **Same key, different body**: the validated body's hash is stored with the record; a
  mismatch answers 422 (``IdempotencyKeyReused``), as the IETF draft "The Idempotency-Key
  HTTP Header Field" advises. The same key while the first request still runs: 409.
- **Only successes are remembered**: when the operation raises, Powertools deletes the
  in-progress record, so a retry runs again (a 409 "media not ready" may be a 201 later).
- **Expiry**: ``IDEMPOTENCY_EXPIRY_SECONDS`` (24 h by default, as Stripe). An in-progress
  record also expires with the Lambda invocation that wrote it (its remaining time comes
  from the registered Lambda context), so a crashed request does not block its key.

A replay returns the stored body unchanged (the same post id and the same URLs, which for
presigned S3 URLs stop working after ``MEDIA_URL_TTL_SECONDS``; a client can re-read the
post) and says so with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import Request

from chalicelib.core.clients import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.errors import (
    AlreadyExists,
    DependencyUnavailable,
    IdempotencyKeyReused,
    InvalidInput,
)
from chalicelib.core.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    from chalicelib.core.schema import StrictInput

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Outcome:
    body: dict[str, Any]
    replayed: bool

    @property
    def headers(self) -> dict[str, str | list[str]]:
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key``: 1..255 printable ASCII characters, or absent."""
    key = request.headers.get(HEADER.lower())
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise InvalidInput(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (a UUID is best)"
        )
    return key


def persistence_store() -> DynamoDBPersistenceLayer:
    """A new store on the idempotency table (its key ``id``, TTL on ``expiration``: the
    layer's defaults, which ``infrastructure/resources.py`` declares). One per request:
    Powertools configures a store once and keeps per-call state on it."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=aws_client("dynamodb")
    )


def run_once(
    operation: str,
    caller_id: str,
    key: str | None,
    details: StrictInput,
    produce: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> Outcome:
    """Run ``produce`` once per (caller, key); repeats get the first run's body back.

    Parameters
    ----------
    operation:
        Names what is being made, e.g. ``"POST /posts"``; part of every record's id.
    caller_id:
        The verified caller: keys are scoped to them.
    key:
        The request's Idempotency-Key; None runs ``produce`` without any record.
    details:
        The validated request body; a repeat must send the same one.
    produce:
        The operation; its result must be JSON-serialisable (it is stored).
    lambda_context:
        The invocation's context, so an in-progress record expires with the invocation.
    """
    if key is None:
        return Outcome(produce(), replayed=False)
    # Powertools' idempotency utility is imported by the first keyed request, not at init.
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    settings = get_settings()
    replays: list[bool] = []

    def note_replay(response: Any, idempotent_data: DataRecord) -> Any:
        replays.append(True)
        return response

    config = IdempotencyConfig(
        event_key_jmespath="[caller_id, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_expiry_seconds,
        response_hook=note_replay,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    store = persistence_store()

    @idempotent_function(
        data_keyword_argument="envelope",
        persistence_store=store,
        config=config,
        key_prefix=operation,
    )
    def produce_once(envelope: dict[str, Any]) -> dict[str, Any]:
        return produce()

    envelope = {"caller_id": caller_id, "key": key, "request": details.model_dump(mode="json")}
    try:
        body = produce_once(envelope=envelope)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            f"this {HEADER} was used with a different request; use a new key for a new request"
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise AlreadyExists(
            f"a request with this {HEADER} is still being processed; retry shortly"
        ) from exc
    except IdempotencyPersistenceLayerError as exc:
        raise DependencyUnavailable("could not record the request; retry shortly") from exc
    if replays:
        logger.info("idempotent replay", operation=operation)
    return Outcome(body, replayed=bool(replays))
