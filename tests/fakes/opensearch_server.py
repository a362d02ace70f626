"""A small OpenSearch for tests: the REST calls the search adapter sends, over real HTTP.

moto has no OpenSearch data plane, and openmock (a fake client) has no ``prefix`` query and
matches ``term`` by substring, so neither can tell right queries from wrong ones. This server
sits behind the client instead: opensearch-py, its SigV4 signing (every request is recorded
with its headers), its bulk helper and its error handling all run unchanged, against HTTP
answers shaped as OpenSearch 2.x shapes them. Anything it does not implement answers 400, so
a query the adapter starts sending fails a test rather than matching nothing quietly.

What it implements
------------------
- ``GET /``; ``HEAD``/``PUT``/``DELETE /{index}`` (create: settings and mappings, checked:
  ``resource_already_exists_exception`` for an existing index, ``mapper_parsing_exception``
  for an unknown field type or analyser); ``GET /{index}/_mapping``.
- ``POST /_bulk`` and ``/{index}/_bulk``: ``index``, ``create`` and ``delete`` actions, with
  per-item statuses (``201``/``200``, ``404`` ``not_found`` deletes, ``409`` creates,
  ``404`` for a missing index: nothing is auto-created), ``dynamic: strict`` enforced.
- ``GET``/``DELETE /{index}/_doc/{id}``.
- ``GET``/``POST /{index}/_search``: ``query`` with ``bool`` (``must``, ``filter``, ``should``
  with ``minimum_should_match``, ``must_not``), ``match_all``, ``term``, ``terms``,
  ``prefix``, ``match`` (``operator`` ``or``/``and``), ``multi_match`` of type
  ``bool_prefix``; ``sort`` by fields (``asc``/``desc``; multi-valued fields by their
  min/max; missing values last), ``search_after``, ``size``, ``_source`` filtering; and
  ``aggs`` of one ``composite`` aggregation of ``terms`` sources (``size``, ``after``,
  ``after_key``).
- Mappings: ``keyword``, ``text``, ``search_as_you_type`` (its ``._2gram``, ``._3gram`` and
  ``._index_prefix`` subfields are read as the root field, which ``bool_prefix`` makes
  equivalent for matching), ``date`` (ISO-8601; sort values are epoch milliseconds, as
  OpenSearch returns them), ``long``/``integer``/``boolean``; multi-fields (``fields``),
  ``copy_to``, ``analyzer`` and ``search_analyzer``.
- Analysis: the ``standard`` analyser (see ``standard_tokens``), ``keyword``,
  ``whitespace``; custom analysers of a ``standard``/``keyword``/``whitespace`` tokenizer
  and ``lowercase`` and ``edge_ngram`` filters.

What only a real cluster confirms
---------------------------------
- Analysis exactly as Lucene does it: the standard tokenizer follows Unicode UAX #29 word
  boundaries; here it is approximated (runs of letters, digits, underscores and marks,
  joined across ``.`` and ``'`` between them; Han and Hiragana characters one token each).
  Edge-n-gram and search-as-you-type subfields' real tokens (shingles, index prefixes) are
  not built; matching through them is emulated from the root field's tokens.
- Relevance scores: hits are never scored (``_score`` is null); every query we send sorts
  by fields, so order does not depend on scores, but a query that did would not be tested.
- Refresh timing: documents are searchable as soon as a bulk request answers; a real index
  shows them after its refresh interval (1 s by default), which the end-to-end budget of 5 s
  covers. Composite aggregations likewise count only refreshed documents on a cluster.
- Shards, replicas, cluster health, throttling (429s), request size limits, and whether the
  domain's access policy accepts the functions' signed requests (only that a SigV4
  ``Authorization`` header is sent is checked here).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FIELD_TYPES = {"keyword", "text", "search_as_you_type", "date", "long", "integer", "boolean"}
_SAYT_SUBFIELDS = ("._2gram", "._3gram", "._index_prefix")
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")


class FakeError(Exception):
    """An error answered as OpenSearch answers errors: ``{"error": {...}, "status": n}``."""

    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason = status, kind, reason

    def body(self) -> dict[str, Any]:
        cause = {"type": self.kind, "reason": self.reason}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def unsupported(what: str) -> FakeError:
    return FakeError(400, "parsing_exception", f"the fake OpenSearch does not implement {what}")


# Analysis -----------------------------------------------------------------------------------


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def _is_single_char_token(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK UNIFIED IDEOGRAPH", "HIRAGANA"))


def standard_tokens(text: str) -> list[str]:
    """The standard tokenizer, approximated: runs of word characters, joined across one
    ``.`` or ``'`` between word characters (``o'neil``, ``alice.w``), Han and Hiragana
    characters one token each."""
    tokens: list[str] = []
    current: list[str] = []
    for index, char in enumerate(text):
        if _is_single_char_token(char):
            if current:
                tokens.append("".join(current))
                current = []
            tokens.append(char)
        elif _is_word_char(char):
            current.append(char)
        elif (
            char in ".'\u2019"
            and current
            and index + 1 < len(text)
            and _is_word_char(text[index + 1])
            and not _is_single_char_token(text[index + 1])
        ):
            current.append(char)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


@dataclass(frozen=True)
class Analyzer:
    tokenizer: str
    filters: tuple[dict[str, Any], ...] = ()

    def __call__(self, text: str) -> list[str]:
        if self.tokenizer == "standard":
            tokens = standard_tokens(text)
        elif self.tokenizer == "keyword":
            tokens = [text]
        elif self.tokenizer == "whitespace":
            tokens = text.split()
        else:
            raise unsupported(f"the tokenizer {self.tokenizer!r}")
        for spec in self.filters:
            if spec["type"] == "lowercase":
                tokens = [token.lower() for token in tokens]
            elif spec["type"] == "edge_ngram":
                low, high = int(spec.get("min_gram", 1)), int(spec.get("max_gram", 2))
                tokens = [t[:n] for t in tokens for n in range(low, min(high, len(t)) + 1)]
            else:
                raise unsupported(f"the token filter {spec['type']!r}")
        return tokens


_BUILT_IN_ANALYZERS = {
    "standard": Analyzer("standard", ({"type": "lowercase"},)),
    "keyword": Analyzer("keyword"),
    "whitespace": Analyzer("whitespace"),
}


def _analyzers(settings: dict[str, Any]) -> dict[str, Analyzer]:
    analysis = (settings.get("index", {}) or {}).get("analysis") or settings.get("analysis") or {}
    filters = {"lowercase": {"type": "lowercase"}, **(analysis.get("filter") or {})}
    analyzers = dict(_BUILT_IN_ANALYZERS)
    for name, spec in (analysis.get("analyzer") or {}).items():
        if spec.get("type", "custom") != "custom":
            raise FakeError(400, "mapper_parsing_exception", f"analyzer {name}: custom only")
        chain = []
        for filter_name in spec.get("filter", []):
            if filter_name not in filters:
                raise FakeError(
                    400, "mapper_parsing_exception", f"unknown token filter [{filter_name}]"
                )
            chain.append(filters[filter_name])
        analyzers[name] = Analyzer(spec.get("tokenizer", "standard"), tuple(chain))
    return analyzers


# Indexes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    path: str
    source: str  # the source field the values come from (multi-fields read their parent's)
    type: str
    analyzer: str = "standard"
    search_analyzer: str | None = None


@dataclass
class FakeIndex:
    name: str
    settings: dict[str, Any]
    mappings: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.analyzers = _analyzers(self.settings)
        self.fields: dict[str, FieldSpec] = {}
        self.copy_to: dict[str, list[str]] = {}
        for name, spec in (self.mappings.get("properties") or {}).items():
            self._add_field(name, name, spec)
        for spec in self.fields.values():
            for analyzer in (spec.analyzer, spec.search_analyzer):
                if analyzer is not None and analyzer not in self.analyzers:
                    raise FakeError(
                        400, "mapper_parsing_exception", f"analyzer [{analyzer}] not found"
                    )

    def _add_field(self, path: str, source: str, spec: dict[str, Any]) -> None:
        kind = spec.get("type", "object")
        if kind not in FIELD_TYPES:
            raise FakeError(400, "mapper_parsing_exception", f"no handler for type [{kind}]")
        self.fields[path] = FieldSpec(
            path, source, kind, spec.get("analyzer", "standard"), spec.get("search_analyzer")
        )
        targets = spec.get("copy_to") or []
        self.copy_to[path] = [targets] if isinstance(targets, str) else list(targets)
        for sub, sub_spec in (spec.get("fields") or {}).items():
            self._add_field(f"{path}.{sub}", source, sub_spec)

    @property
    def strict(self) -> bool:
        return self.mappings.get("dynamic") == "strict"

    def field(self, path: str) -> FieldSpec:
        for suffix in _SAYT_SUBFIELDS:
            root = self.fields.get(path.removesuffix(suffix)) if path.endswith(suffix) else None
            if root is not None and root.type == "search_as_you_type":
                return root
        if path not in self.fields:
            raise unsupported(f"queries on the unmapped field [{path}]")
        return self.fields[path]

    def check(self, source: dict[str, Any]) -> None:
        if not isinstance(source, dict):
            raise FakeError(400, "mapper_parsing_exception", "the document is not an object")
        for name, value in source.items():
            if name not in self.fields:
                if self.strict:
                    raise FakeError(
                        400,
                        "strict_dynamic_mapping_exception",
                        f"mapping set to strict, dynamic introduction of [{name}] "
                        f"within [_doc] is not allowed",
                    )
                continue
            if self.fields[name].type == "date":
                for item in _values(value):
                    _millis(item)

    def raw_values(self, doc: dict[str, Any], path: str) -> list[Any]:
        """A field's values in a document, copy_to included."""
        spec = self.fields[path]
        values = list(_values(doc.get(spec.source)))
        if spec.source == path:
            for origin, targets in self.copy_to.items():
                if path in targets:
                    values += _values(doc.get(origin))
        return values

    def terms(self, doc: dict[str, Any], spec: FieldSpec) -> list[Any]:
        """What is indexed for a field: analysed tokens for text, values for the rest."""
        values = self.raw_values(doc, spec.path)
        if spec.type in ("text", "search_as_you_type"):
            analyze = self.analyzers[spec.analyzer]
            return [token for value in values for token in analyze(str(value))]
        if spec.type == "date":
            return [_millis(value) for value in values]
        return values

    def query_tokens(self, spec: FieldSpec, text: str) -> list[str]:
        if spec.type in ("text", "search_as_you_type"):
            return self.analyzers[spec.search_analyzer or spec.analyzer](text)
        return [text]


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return [v for v in value if v is not None] if isinstance(value, list) else [value]


def _millis(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise FakeError(400, "mapper_parsing_exception", f"failed to parse date [{value}]") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# Queries ------------------------------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]


def _single(clause: dict[str, Any], kind: str) -> tuple[str, Any]:
    if not isinstance(clause, dict) or len(clause) != 1:
        raise FakeError(400, "parsing_exception", f"[{kind}] query malformed")
    return next(iter(clause.items()))


def _value_of(spec: Any, key: str = "value") -> Any:
    return spec.get(key) if isinstance(spec, dict) else spec


def compile_query(index: FakeIndex, query: dict[str, Any]) -> Predicate:
    kind, spec = _single(query, "query")
    if kind == "match_all":
        return lambda doc: True
    if kind == "bool":
        return _compile_bool(index, spec)
    if kind in ("term", "terms", "prefix"):
        path, wanted = _single(spec, kind)
        target = index.field(path)
        if kind == "term":
            values = [_value_of(wanted)]
        elif kind == "terms":
            if not isinstance(wanted, list):
                raise FakeError(400, "parsing_exception", "[terms] needs an array")
            values = wanted
        else:
            values = [_value_of(wanted)]
        if target.type == "date":
            values = [_millis(v) for v in values]

        def matches(doc: dict[str, Any]) -> bool:
            indexed = index.terms(doc, target)
            if kind == "prefix":
                return any(str(term).startswith(str(values[0])) for term in indexed)
            return any(term in values for term in indexed)

        return matches
    if kind == "match":
        path, options = _single(spec, "match")
        target = index.field(path)
        text = str(_value_of(options, "query"))
        operator = (options.get("operator", "or") if isinstance(options, dict) else "or").lower()
        wanted_tokens = index.query_tokens(target, text)

        def match(doc: dict[str, Any]) -> bool:
            indexed = set(index.terms(doc, target))
            hits = [token in indexed for token in wanted_tokens]
            return bool(hits) and (all(hits) if operator == "and" else any(hits))

        return match
    if kind == "multi_match":
        if spec.get("type") != "bool_prefix":
            raise unsupported(f"multi_match of type {spec.get('type', 'best_fields')!r}")
        operator = spec.get("operator", "or").lower()
        roots = list(dict.fromkeys(index.field(path).path for path in spec["fields"]))

        def bool_prefix(doc: dict[str, Any]) -> bool:
            for path in roots:
                target = index.fields[path]
                tokens = index.query_tokens(target, str(spec["query"]))
                if not tokens:
                    continue
                indexed = index.terms(doc, target)
                whole = [token in indexed for token in tokens[:-1]]
                last = any(term.startswith(tokens[-1]) for term in indexed)
                hits = [*whole, last]
                if all(hits) if operator == "and" else any(hits):
                    return True
            return False

        return bool_prefix
    raise unsupported(f"the query [{kind}]")


def _compile_bool(index: FakeIndex, spec: dict[str, Any]) -> Predicate:
    def clauses(name: str) -> list[Predicate]:
        given = spec.get(name) or []
        return [compile_query(index, c) for c in (given if isinstance(given, list) else [given])]

    unknown = set(spec) - {"must", "filter", "should", "must_not", "minimum_should_match"}
    if unknown:
        raise unsupported(f"bool options {sorted(unknown)}")
    required = clauses("must") + clauses("filter")
    optional, excluded = clauses("should"), clauses("must_not")
    minimum = int(spec.get("minimum_should_match", 0 if required else 1 if optional else 0))

    def matches(doc: dict[str, Any]) -> bool:
        return (
            all(p(doc) for p in required)
            and not any(p(doc) for p in excluded)
            and sum(p(doc) for p in optional) >= minimum
        )

    return matches


def _sort_specs(sort: Any) -> list[tuple[str, str]]:
    specs = []
    for item in sort if isinstance(sort, list) else [sort]:
        if isinstance(item, str):
            specs.append((item, "asc"))
            continue
        path, order = _single(item, "sort")
        order = order.get("order", "asc") if isinstance(order, dict) else order
        if order not in ("asc", "desc"):
            raise FakeError(400, "parsing_exception", f"unknown sort order [{order}]")
        specs.append((path, order))
    return specs


def _compare(left: list[Any], right: list[Any], orders: list[str]) -> int:
    for a, b, order in zip(left, right, orders, strict=True):
        if a == b:
            continue
        if a is None or b is None:  # missing values sort last, whatever the order
            return 1 if a is None else -1
        less = a < b
        return (-1 if less else 1) * (1 if order == "asc" else -1)
    return 0


# The server ---------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeOpenSearch:
    """The fake, served on ``127.0.0.1`` (a free port) from a thread; ``with`` starts it."""

    def __init__(self) -> None:
        self.indexes: dict[str, FakeIndex] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> FakeOpenSearch:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-opensearch", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenSearch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def requests_to(self, suffix: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.endswith(suffix) and (method is None or r.method == method)
        ]

    # HTTP

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        raw = request.get_data()
        parts = [p for p in request.path.split("/") if p]
        try:
            body = self._parse_body(raw, parts)
            self.requests.append(
                RecordedRequest(
                    request.method, request.path, dict(request.args), dict(request.headers), body
                )
            )
            with self._lock:
                status, answer = self._route(request.method, parts, body)
        except FakeError as error:
            status, answer = error.status, error.body()
        if request.method == "HEAD":
            response = Response(status=status)
        else:
            response = Response(json.dumps(answer), status=status, content_type="application/json")
        return response(environ, start_response)

    @staticmethod
    def _parse_body(raw: bytes, parts: list[str]) -> Any:
        if not raw:
            return None
        try:
            if parts and parts[-1] == "_bulk":
                return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
            return json.loads(raw)
        except ValueError as exc:
            raise FakeError(400, "parse_exception", "request body is not valid JSON") from exc

    def _route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        if not parts:
            if method in ("GET", "HEAD"):
                version = {"distribution": "opensearch", "number": "2.19.0"}
                return 200, {"cluster_name": "fake", "version": version}
        elif parts == ["_bulk"] and method in ("POST", "PUT"):
            return self._bulk(None, body)
        elif len(parts) == 1 and method == "HEAD":
            return (200 if parts[0] in self.indexes else 404), None
        elif len(parts) == 1 and method == "PUT":
            return self._create_index(parts[0], body or {})
        elif len(parts) == 1 and method == "DELETE":
            self._index(parts[0])
            del self.indexes[parts[0]]
            return 200, {"acknowledged": True}
        elif len(parts) == 2 and parts[1] == "_mapping" and method == "GET":
            found = self._index(parts[0])
            return 200, {found.name: {"mappings": found.mappings}}
        elif len(parts) == 2 and parts[1] == "_bulk" and method in ("POST", "PUT"):
            return self._bulk(parts[0], body)
        elif len(parts) == 2 and parts[1] == "_search" and method in ("GET", "POST"):
            return 200, self._search(self._index(parts[0]), body or {})
        elif len(parts) == 3 and parts[1] == "_doc" and method in ("GET", "DELETE"):
            found = self._index(parts[0])
            doc = found.docs.get(parts[2])
            if method == "DELETE" and doc is not None:
                del found.docs[parts[2]]
            result = {"_index": found.name, "_id": parts[2], "found": doc is not None}
            if method == "GET" and doc is not None:
                result["_source"] = doc
            if method == "DELETE":
                result = {**result, "result": "deleted" if doc is not None else "not_found"}
            return (200 if doc is not None else 404), result
        raise unsupported(f"{method} /{'/'.join(parts)}")

    def _index(self, name: str) -> FakeIndex:
        if name not in self.indexes:
            raise FakeError(404, "index_not_found_exception", f"no such index [{name}]")
        return self.indexes[name]

    def _create_index(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if not _INDEX_NAME.match(name):
            raise FakeError(400, "invalid_index_name_exception", f"Invalid index name [{name}]")
        if name in self.indexes:
            raise FakeError(
                400, "resource_already_exists_exception", f"index [{name}] already exists"
            )
        unknown = set(body) - {"settings", "mappings", "aliases"}
        if unknown:
            raise unsupported(f"index bodies with {sorted(unknown)}")
        self.indexes[name] = FakeIndex(name, body.get("settings") or {}, body.get("mappings") or {})
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    # Bulk

    def _bulk(self, default_index: str | None, lines: list[Any] | None) -> tuple[int, Any]:
        items = []
        pending: Iterator[Any] = iter(lines or [])
        for action in pending:
            kind, meta = _single(action, "bulk action")
            if kind not in ("index", "create", "delete"):
                raise unsupported(f"the bulk action [{kind}]")
            source = next(pending, None) if kind != "delete" else None
            items.append({kind: self._bulk_item(kind, meta, source, default_index)})
        errors = any(item[kind]["status"] >= 300 for item in items for kind in item)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _bulk_item(
        self, kind: str, meta: dict[str, Any], source: Any, default_index: str | None
    ) -> dict[str, Any]:
        name = meta.get("_index", default_index)
        doc_id = str(meta.get("_id"))
        answer: dict[str, Any] = {"_index": name, "_id": doc_id}
        try:
            target = self._index(str(name))
            if kind == "delete":
                existed = target.docs.pop(doc_id, None) is not None
                return {**answer, "result": "deleted" if existed else "not_found",
                        "status": 200 if existed else 404}  # fmt: skip
            if kind == "create" and doc_id in target.docs:
                raise FakeError(409, "version_conflict_engine_exception", "document exists")
            target.check(source)
            existed = doc_id in target.docs
            target.docs[doc_id] = source
            return {**answer, "result": "updated" if existed else "created",
                    "status": 200 if existed else 201}  # fmt: skip
        except FakeError as error:
            return {**answer, "status": error.status, "error": error.body()["error"]}

    # Search

    def _search(self, index: FakeIndex, body: dict[str, Any]) -> dict[str, Any]:
        known = {"query", "size", "sort", "search_after", "_source", "aggs", "aggregations"}
        if set(body) - known:
            raise unsupported(f"search options {sorted(set(body) - known)}")
        matches = compile_query(index, body.get("query") or {"match_all": {}})
        found = [(doc_id, doc) for doc_id, doc in index.docs.items() if matches(doc)]
        answer: dict[str, Any] = {"took": 1, "timed_out": False}
        aggs = body.get("aggs") or body.get("aggregations")
        if aggs:
            answer["aggregations"] = {
                name: self._aggregate(index, spec, found) for name, spec in aggs.items()
            }
        hits = self._sorted_hits(index, body, found)
        size = int(body.get("size", 10))
        answer["hits"] = {
            "total": {"value": len(found), "relation": "eq"},
            "max_score": None,
            "hits": [self._hit(index, body, hit) for hit in hits[:size]],
        }
        return answer

    def _sorted_hits(
        self, index: FakeIndex, body: dict[str, Any], found: list[tuple[str, dict[str, Any]]]
    ) -> list[tuple[str, dict[str, Any], list[Any] | None]]:
        if "sort" not in body:
            if "search_after" in body:
                raise FakeError(400, "illegal_argument_exception", "search_after needs a sort")
            return [(doc_id, doc, None) for doc_id, doc in found]
        specs = _sort_specs(body["sort"])
        orders = [order for _, order in specs]
        keyed: list[tuple[str, dict[str, Any], list[Any] | None]] = []
        for doc_id, doc in found:
            key: list[Any] = []
            for path, order in specs:
                values = index.terms(doc, index.field(path))
                key.append((min if order == "asc" else max)(values) if values else None)
            keyed.append((doc_id, doc, key))
        Hit = tuple[str, dict[str, Any], list[Any] | None]

        def by_sort_key(left: Hit, right: Hit) -> int:
            return _compare(left[2] or [], right[2] or [], orders)

        keyed.sort(key=cmp_to_key(by_sort_key))
        after = body.get("search_after")
        if after is not None:
            if not isinstance(after, list) or len(after) != len(specs):
                raise FakeError(
                    400, "illegal_argument_exception", "search_after must match the sort"
                )
            after = [
                _millis(v) if index.field(path).type == "date" else v
                for v, (path, _) in zip(after, specs, strict=True)
            ]
            keyed = [hit for hit in keyed if _compare(hit[2] or [], after, orders) > 0]
        return keyed

    @staticmethod
    def _hit(
        index: FakeIndex, body: dict[str, Any], hit: tuple[str, dict[str, Any], list[Any] | None]
    ) -> dict[str, Any]:
        doc_id, doc, key = hit
        wanted = body.get("_source", True)
        if wanted is False:
            source = None
        elif isinstance(wanted, list):
            source = {name: doc[name] for name in wanted if name in doc}
        else:
            source = doc
        answer: dict[str, Any] = {"_index": index.name, "_id": doc_id, "_score": None}
        if source is not None:
            answer["_source"] = source
        if key is not None:
            answer["sort"] = key
        return answer

    @staticmethod
    def _aggregate(
        index: FakeIndex, spec: dict[str, Any], found: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, Any]:
        kind, options = _single(spec, "aggregation")
        if kind != "composite":
            raise unsupported(f"the aggregation [{kind}]")
        sources = []
        for source in options["sources"]:
            name, source_spec = _single(source, "composite source")
            source_kind, terms = _single(source_spec, "composite source")
            if source_kind != "terms":
                raise unsupported(f"composite sources of type [{source_kind}]")
            sources.append((name, index.field(terms["field"])))
        counts: dict[tuple[Any, ...], int] = {}
        for _, doc in found:
            combos: list[tuple[Any, ...]] = [()]
            for _, target in sources:
                values = list(dict.fromkeys(index.terms(doc, target)))
                combos = [(*combo, value) for combo in combos for value in values]
            for combo in combos:
                counts[combo] = counts.get(combo, 0) + 1
        keys = sorted(counts)
        after = options.get("after")
        if after is not None:
            start = tuple(after[name] for name, _ in sources)
            keys = [key for key in keys if key > start]
        keys = keys[: int(options.get("size", 10))]
        buckets = [
            {"key": dict(zip([n for n, _ in sources], key, strict=True)), "doc_count": counts[key]}
            for key in keys
        ]
        answer: dict[str, Any] = {"buckets": buckets}
        if buckets:
            answer["after_key"] = buckets[-1]["key"]
        return answer
