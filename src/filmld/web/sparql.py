"""/sparql: the SPARQL 1.1 Protocol endpoint (https://www.w3.org/TR/sparql11-protocol/).

Query via GET, URL-encoded POST and direct POST; results negotiated; the service description
or an HTML query page without a query; CORS everywhere. Safety lives below: filmld.sparql
(policy) and filmld.query_pool (time, memory, crashes, concurrency).

Status codes (protocol section 2.1.4 allows 400 for a bad query and 500 for a query the
service fails or refuses to execute): a syntax error, an update, SERVICE or a foreign graph is
a 400; a query stopped at the time limit is a 503 (QueryTimeout): the SPARQL Protocol has no
4xx for "too expensive", and 503 tells clients and caches that the refusal depends on the
server's limits and load rather than on the text being wrong, without the "our bug" of a 500;
its message names the limit, and it carries Retry-After like every 503 here (errors.py,
QueryTimeout, says why). A query that kills its evaluating process (memory limit, parser
stack overflow) is a 500 as the protocol says for a failed query; too many queries at once is
a 503 with Retry-After.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import logging
import multiprocessing.util
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, render_template, request

from filmld.errors import BadRequest, PayloadTooLarge, SyntaxProblem, UnsupportedMediaType
from filmld.inline_queries import is_bounded_tokens
from filmld.namespaces import prefixes
from filmld.query_pool import QueryPool, QueryRequest, QuerySlots
from filmld.query_worker import syntax_error
from filmld.sparql import (
    UpdateRefused,
    allowed_graphs,
    analyse,
    check_graphs,
    check_iris,
    dataset_options,
    readable_syntax_message,
    without_dataset_clauses,
)
from filmld.sparql_passthrough import pass_through
from filmld.sparql_protocol import (
    HTML,
    RemoteAnswer,
    choose_description_format,
    choose_result_format,
    relay_remote,
    service_description,
)
from filmld.sparql_results import (
    HOLD_BYTES,
    PREFIXED,
    RESULT_FORMATS,
    STREAMS_EARLY,
    formats_for,
    lead_json_cut,
    stream_cut_marker,
    xml_rules,
)
from filmld.web.http import CACHE_MARK
from filmld.web.state import settings, store
from filmld.xml_chars import guard_pieces

blueprint = Blueprint("sparql", __name__)
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Type, ETag, X-Filmld-Result-Truncated, "
                                     "X-Filmld-Result-Limit, X-Filmld-Result-Note",
}
FORM = "application/x-www-form-urlencoded"
FORMAT_PARAMETERS = ("format", "output", "results")
"""Virtuoso reads format=, Joseki output=, others results=; SPARQLWrapper sends all three."""
PENDING_ERROR = "filmld.sparql.error"
"""WSGI environ key: an error the short way met, for this view to answer in the one shape."""
log = logging.getLogger("filmld.sparql")
_pools: weakref.WeakSet = weakref.WeakSet()
_pool_lock = threading.Lock()


@dataclass
class Operation:
    """The query and dataset a protocol request carries."""

    query: str
    default_graphs: list[str]
    named_graphs: list[str]
    formats: list[str] = field(default_factory=list)
    """Values of format=, output= and results= (the parameters common clients send)."""


# -- the pool, one per app -------------------------------------------------------------------
def query_pool(app: Flask | None = None) -> QueryPool:
    """The app's worker pool, started on the first query (not for apps that never query)."""
    app = app or current_app
    pool = app.extensions.get("filmld.query_pool")
    if pool is None:
        with _pool_lock:
            pool = app.extensions.get("filmld.query_pool")
            if pool is None:
                config = app.extensions["filmld.settings"]
                pool = QueryPool(app.extensions["filmld.store"], workers=config.query_workers,
                                 concurrency=config.query_concurrency,
                                 timeout=config.query_timeout,
                                 memory_mb=config.query_memory_mb,
                                 stream_timeout=config.stream_timeout)
                app.extensions["filmld.query_pool"] = pool
                _pools.add(pool)
    return pool


def close_query_pool(app: Flask) -> None:
    """Stop the app's query workers and remove their checkpoints."""
    pool = app.extensions.pop("filmld.query_pool", None)
    if pool is not None:
        pool.close()


@atexit.register
def _close_pools() -> None:
    for pool in list(_pools):
        pool.close()


# granian's workers are multiprocessing processes: after a clean SIGTERM or SIGINT their
# target returns and multiprocessing ends them with os._exit, which skips atexit but runs
# the finalizers registered here. Without this their checkpoints stayed on disk.
multiprocessing.util.Finalize(None, _close_pools, exitpriority=10)


# -- reading the protocol request --------------------------------------------------------------
MULTIPART = "multipart/form-data"


def _strict_pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    """URL-encoded pairs, decoded as UTF-8 strictly: Werkzeug would put U+FFFD in place of
    bad bytes and the query would run as something the client never sent (Protocol 2.1.1)."""
    try:
        return parse_qsl(raw.decode("ascii", errors="strict") if raw.isascii() else
                         raw.decode("utf-8"), keep_blank_values=True,
                         encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the {where} is not valid UTF-8 after percent-decoding "
                         f"({error.reason} at byte {error.start}); SPARQL 1.1 Protocol "
                         "section 2.1 requires UTF-8") from None


def _bounded_body() -> bytes:
    """The request body, refused with 413 naming the body limit when it is larger, whether or
    not it declared Content-Length (a chunked body is read up to limit + 1 bytes, never
    silently cut at the limit). The body is put back so Werkzeug can parse a form from it."""
    limit = settings().max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"the request body is {length} bytes; this endpoint accepts "
                              f"bodies of at most {limit} bytes", details={"limit": limit})
    environ = request.environ
    stream = environ["wsgi.input"]
    pieces, size = [], 0
    while size <= limit:
        piece = stream.read(min(1 << 16, limit + 1 - size)) if limit + 1 > size else b""
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    body = b"".join(pieces)
    if len(body) > limit:
        raise PayloadTooLarge(f"the request body is larger than this endpoint's limit of "
                              f"{limit} bytes", details={"limit": limit})
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("wsgi.input_terminated", None)
    return body


def _operation() -> Operation | None:
    """The query operation of this request, None for a GET without one (section 2.1).

    Any `update` parameter, in the URL or in a form body of any media type, is a 400: this
    endpoint is read-only whatever the content type (issue 5)."""
    args = _strict_pairs(request.query_string, "query string")

    def values(pairs: list[tuple[str, str]], name: str) -> list[str]:
        return [v for k, v in pairs if k == name]

    if values(args, "update"):
        raise UpdateRefused("this endpoint is read-only: SPARQL Update is never executed "
                            "here (an update parameter was sent)")
    if request.method == "GET":
        pairs = args
        if not values(args, "query"):
            return None
    else:
        media_type = request.mimetype
        body = _bounded_body()
        if media_type == FORM:
            form = _strict_pairs(body, "form body")
            if values(form, "update"):
                raise UpdateRefused("this endpoint is read-only: SPARQL Update is never "
                                    "executed here")
            pairs = args + form
        elif media_type == "application/sparql-query":
            charset = request.mimetype_params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                raise UnsupportedMediaType(
                    f"charset={charset}: a SPARQL query body must be UTF-8 (SPARQL 1.1 "
                    "Protocol, section 2.1.3)")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BadRequest(f"the query body is not valid UTF-8 (byte {error.start})"
                                 ) from None
            if values(args, "query"):
                raise BadRequest("a direct POST carries the query in its body; the URL must "
                                 "not have a query parameter as well")
            pairs = [("query", text)] + args
        elif media_type == "application/sparql-update":
            raise UpdateRefused("this endpoint is read-only: SPARQL Update is never executed "
                                "here")
        else:
            if media_type == MULTIPART and "update" in request.form:
                raise UpdateRefused("this endpoint is read-only: SPARQL Update is never "
                                    "executed here")
            raise UnsupportedMediaType(
                f"a query POST must be {FORM} or application/sparql-query, not "
                f"{media_type or 'a body without Content-Type'} (SPARQL 1.1 Protocol, 2.1)",
                details={"accepted": [FORM, "application/sparql-query"]})
        if not values(pairs, "query"):
            raise BadRequest("no query: send it as the query parameter or as an "
                             "application/sparql-query body")
    queries = values(pairs, "query")
    if len(queries) > 1:
        raise BadRequest(f"{len(queries)} query parameters: a request carries exactly one "
                         "query (SPARQL 1.1 Protocol, section 2.1)")
    default, named = values(pairs, "default-graph-uri"), values(pairs, "named-graph-uri")
    check_iris(default, where="default-graph-uri")
    check_iris(named, where="named-graph-uri")
    formats = [v for name in FORMAT_PARAMETERS for v in values(pairs, name) if v.strip()]
    return Operation(queries[0], default, named, formats)


def _accepted_graphs(operation: Operation, shape) -> None:
    """400 for any graph outside this dataset (and not allow-listed): nothing is ever fetched."""
    named = operation.default_graphs + operation.named_graphs + shape.from_graphs + \
        shape.from_named
    if not named:
        return
    dataset = store().graph_names()
    allowed = allowed_graphs(settings().allowed_graphs)
    if not set(named) <= set(dataset) | set(allowed):
        # a remote store's registry may be a moment old (no version read before /sparql,
        # web/__init__.py): a graph another worker has just added must not be refused
        store().version()
        dataset = store().graph_names()
    check_graphs(operation.default_graphs, dataset, allowed, where="default-graph-uri")
    check_graphs(operation.named_graphs, dataset, allowed, where="named-graph-uri")
    check_graphs(shape.from_graphs, dataset, allowed, where="FROM")
    check_graphs(shape.from_named, dataset, allowed, where="FROM NAMED")


# -- the endpoint ------------------------------------------------------------------------------
@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    pending = request.environ.pop(PENDING_ERROR, None)
    if pending is not None:  # the short way (sparql_shortcut.py) met it evaluating this query
        raise pending
    if request.method == "OPTIONS":
        return _preflight()
    operation = _operation()
    if operation is None:
        return _no_query()
    config = settings()
    shape = analyse(operation.query, max_length=config.max_query_length, base=config.base_url)
    _accepted_graphs(operation, shape)
    fmt = choose_result_format(shape.kind, request.headers.get("Accept"), operation.formats)
    if fmt == HTML:
        return _page(operation, shape)
    response = _run(operation, shape, fmt)
    response.headers["Vary"] = "Accept"
    return response


def _dataset_options(operation: Operation, shape) -> dict:
    return dataset_options(operation.default_graphs, operation.named_graphs, shape)


def _run(operation: Operation, shape, fmt) -> Response:
    config = settings()
    if not hasattr(store(), "checkpoint"):
        return _run_remote(operation, shape, fmt, _result_headers(config))
    headers, body = embedded_answer(query_pool(), config, operation, shape, fmt,
                                    keep=request.method == "GET")
    content_type = headers.pop("Content-Type")
    if isinstance(body, bytes):
        return Response(body, headers=headers, content_type=content_type)
    return Response(body, headers=headers, content_type=content_type,
                    direct_passthrough=True)


def embedded_answer(pool: QueryPool, config, operation: Operation, shape, fmt, *,
                    keep: bool) -> tuple[dict, bytes | Iterator[bytes]]:
    """Headers (Content-Type included) and body of a query on the embedded store: the whole
    answer as bytes when the worker finished before its first byte, else a guarded stream.
    `keep`: a deterministic answer may be kept by the render cache (a GET)."""
    headers = _result_headers(config)
    options = _dataset_options(operation, shape)
    stream = pool.run(QueryRequest(
        operation.query, fmt.name, config.result_limit, options["default_graphs"],
        options["named_graphs"], options["union"], config.base_url,
        prefixes(config.base_url) if fmt.name in PREFIXED else {},
        is_bounded_tokens(shape.tokens)))
    _truncation_headers(headers, stream.truncated, config.result_limit)
    headers["Content-Type"] = stream.media_type
    if stream.body is not None:  # complete before the first byte: one plain response
        if shape.deterministic and keep:
            # the render cache (web/cache.py) may keep it until the data changes, and
            # answers If-None-Match with a 304 (revalidated every time: no-cache)
            headers[CACHE_MARK] = stream.version
            headers["ETag"] = _etag(operation, fmt, stream.version)
            headers["Cache-Control"] = "no-cache"
        return headers, stream.body
    return headers, _guarded(stream, stream.close)


def _result_headers(config) -> dict:
    """The headers every query answer starts with, whichever store evaluates it."""
    return {**CORS, "X-Filmld-Result-Limit": str(config.result_limit)}


def _etag(operation: Operation, fmt, version: str) -> str:
    """A weak validator per representation: the query text, its dataset, the format and the
    data version (RFC 9110 section 8.8.3), so a tag of the JSON answer never revalidates the
    CSV one, nor one query another's. A cheap hash: BLAKE2 of a few hundred bytes."""
    key = "\x00".join([operation.query, *operation.default_graphs, "\x01",
                        *operation.named_graphs, fmt.name])
    digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    return f'W/"sparql-{version}-{digest}"'


def _guarded(pieces, close):
    """A streamed body that can never look complete when it was cut.

    After the headers are sent, a failure (the time bound of the stream, a worker that
    died, a remote store that stopped) cannot change the status any more, and granian
    ends the chunked body cleanly even when this iterator raises (measured: it cannot be
    made to abort the connection from WSGI). So the body ends with
    sparql_results.stream_cut_marker: a syntax error in every format but CSV, where it is
    a visible last row. The cut is logged."""
    try:
        yield from pieces
    except Exception as error:  # noqa: BLE001 - any failure mid-body ends in the marker
        reason = getattr(error, "message", "") or (
            "the result took longer than the endpoint's time bound"
            if isinstance(error, TimeoutError) else "the evaluation stopped")
        log.warning("query stream cut mid-body: %s (%s)", reason, type(error).__name__)
        yield stream_cut_marker(reason)
    finally:
        close()


def _remote_answer(operation: Operation, shape, fmt, limit: int) -> RemoteAnswer:
    """The remote store's answer in `fmt`, capped at `limit`: the server's own bytes when it
    writes `fmt` as filmld does (sparql_passthrough), else relayed (issue 7)."""
    the_store = store()
    if the_store.answers_in(shape.kind, fmt.name):
        source = _remote_source(operation, shape, fmt.media_type)
        answer = pass_through(source, shape.kind, fmt, limit)
    else:
        source = _remote_source(operation, shape)
        answer = relay_remote(source, shape.kind, fmt, limit, prefixes(settings().base_url))
    if (rules := xml_rules(fmt)) is not None:  # the remote server writes raw what XML cannot
        answer.body = guard_pieces(answer.body, *rules)
    return answer


def _remote_source(operation: Operation, shape, media_type: str | None = None):
    """The remote store's answer stream; its syntax errors get line and column as ours do."""
    config = settings()
    options = _dataset_options(operation, shape)
    if options["union"] is False and options["default_graphs"] is None:
        # the query's FROM / FROM NAMED: sent as the protocol dataset, which means the same
        # and keeps the remote store from adding its union in their place
        options = {"default_graphs": shape.from_graphs, "named_graphs": shape.from_named}
    # The remote server would resolve relative IRIs against its own URL; the embedded
    # workers and the policy use base_url. A BASE line of our own, before the query's own
    # prologue (which may still set another), makes them agree; error lines are shifted back.
    # The dataset always goes as protocol graphs (the query's own FROM turned into them
    # above, or the request's, which replace it): the clauses are taken out of the text, as
    # Virtuoso would otherwise let them win over (or add them to) the protocol graphs.
    query = without_dataset_clauses(operation.query, shape.tokens) \
        if shape.has_dataset_clause else operation.query
    text = f"BASE <{config.base_url}>\n{query}"
    try:
        return store().query_stream(text, kind=shape.kind,
                                    default_graphs=options["default_graphs"],
                                    named_graphs=options["named_graphs"],
                                    timeout=config.query_timeout, media_type=media_type)
    except SyntaxProblem as problem:
        message = _bare_message(problem)
        line, column = problem.line, problem.column
        if line is None:
            found = syntax_error(problem.message)
            message, line, column = found["message"], found.get("line"), found.get("column")
        if line is None:
            raise
        line = max(line - 1, 1)
        raise SyntaxProblem(readable_syntax_message(message, operation.query, line,
                                                    column or 1),
                            line=line, column=column) from None


def _bare_message(problem: SyntaxProblem) -> str:
    """A SyntaxProblem's message without the ' at line L, column C' it appends."""
    where = f" at line {problem.line}" + (
        f", column {problem.column}" if problem.column is not None else "")
    return problem.message.removesuffix(where) if problem.line is not None else \
        problem.message


def _truncation_headers(headers: dict, truncated: bool | None, limit: int) -> None:
    """The cut, when known before the body; else 'unknown' (the body's end then says it)."""
    if truncated is None:
        headers["X-Filmld-Result-Truncated"] = "unknown"
        headers["X-Filmld-Result-Note"] = ("large result streamed: if it was cut at the "
                                           "result limit, its end says so")
        return
    headers["X-Filmld-Result-Truncated"] = "true" if truncated else "false"
    if truncated:
        headers["X-Filmld-Result-Note"] = (f"result cut at {limit} rows or triples (the "
                                           "endpoint's result limit)")


def remote_slots(app: Flask | None = None) -> QuerySlots:
    """The concurrency limit for queries a remote store evaluates (no worker pool there)."""
    app = app or current_app
    slots = app.extensions.get("filmld.query_slots")
    if slots is None:
        with _pool_lock:
            slots = app.extensions.setdefault("filmld.query_slots", QuerySlots(
                settings().query_concurrency, settings().query_timeout))
    return slots


def _run_remote(operation: Operation, shape, fmt, headers: dict) -> Response:
    """The same rules as the workers: a query slot held until the body is sent, exact
    headers for answers up to HOLD_BYTES, streaming beyond for the formats that can note a
    cut at their end."""
    config = settings()
    slots = remote_slots()
    slots.enter()
    try:
        answer = _remote_answer(operation, shape, fmt, config.result_limit)
        held: list[bytes] = []
        size = 0
        for piece in answer.body:
            held.append(piece)
            size += len(piece)
            if fmt.name in STREAMS_EARLY and size >= HOLD_BYTES:
                break
        else:
            slots.leave()
            truncated = bool(answer.state["truncated"])
            _truncation_headers(headers, truncated, config.result_limit)
            body = b"".join(held)
            if truncated and fmt.name == "json":
                body = lead_json_cut(body, config.result_limit)
            return Response(body, headers=headers, content_type=answer.media_type)
    except BaseException:
        slots.leave()
        raise
    _truncation_headers(headers, None, config.result_limit)
    if hasattr(answer.source, "deadline"):  # remote.py query_stream: the streaming bound
        answer.source.deadline += config.stream_timeout

    def pieces():
        yield from held
        yield from answer.body

    def close():
        answer.body.close()
        slots.leave()

    return Response(_guarded(pieces(), close), headers=headers,
                    content_type=answer.media_type, direct_passthrough=True)


def _preflight() -> Response:
    """CORS preflight (YASGUI sends one before a POST with application/sparql-query)."""
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no Content-Type (RFC 9110 9.3.7)
    response.headers.update(CORS)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Content-Type, Accept")
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"  # as a 405 says (errors.py)
    return response


def _endpoint_iri() -> str:
    return settings().base_url + "sparql"


def _no_query() -> Response:
    fmt = choose_description_format(request.headers.get("Accept"), request.args.get("format"))
    if fmt == HTML:
        return _page(None, None)
    store().version()  # the registry as it is now (no version read before /sparql)
    triples = service_description(_endpoint_iri(), store().graph_names())
    body = ox.serialize(triples, format=fmt.oxigraph,
                        prefixes={"sd": "http://www.w3.org/ns/sparql-service-description#",
                                  "formats": "http://www.w3.org/ns/formats/"}
                        if fmt.name == "ttl" else None)
    response = Response(body, content_type=fmt.content_type)
    response.headers.update(CORS)
    response.headers["Vary"] = "Accept"
    return response


# -- the HTML query page -----------------------------------------------------------------------
EXAMPLES = [
    ("The cast of the film", """PREFIX schema: <https://schema.org/>
PREFIX filmld: <{base}ontology/>
# Films point to roles; a role joins an actor to the character they play.
SELECT ?film ?actor ?character WHERE {{
  ?film a schema:Movie ;
        schema:actor ?role .
  ?role schema:actor ?actor ;
        filmld:character ?character .
}}
ORDER BY ?film ?actor"""),
    ("Everything about Rocky", """PREFIX character: <{base}id/character/>
PREFIX person: <{base}id/person/>
# Rocky the character (in the film) and Rocky the real person are two resources.
SELECT ?rocky ?property ?value WHERE {{
  VALUES ?rocky {{ character:rocky-dennis person:rocky-dennis }}
  ?rocky ?property ?value .
}}
ORDER BY ?rocky ?property"""),
    ("The plot in order", """PREFIX schema: <https://schema.org/>
PREFIX filmld: <{base}ontology/>
# Plot events carry their position in the story (filmld:plotPosition).
SELECT ?position ?event ?description WHERE {{
  ?film filmld:plotEvent ?event .
  ?event filmld:plotPosition ?position .
  OPTIONAL {{ ?event schema:description ?description }}
}}
ORDER BY ?position"""),
    ("Characters and their relations", """PREFIX filmld: <{base}ontology/>
# Characters are distinct from actors and from the real people they are based on.
SELECT ?character ?relation ?other WHERE {{
  ?character a filmld:Character ;
             ?relation ?other .
  ?other a filmld:Character .
}}
ORDER BY ?character ?relation"""),
    ("The film as a graph", """PREFIX film: <{base}id/film/>
# DESCRIBE and CONSTRUCT answer RDF: Turtle, JSON-LD, N-Triples, RDF/XML, N-Quads or TriG.
DESCRIBE film:mask-1985"""),
]
DOWNLOAD_EXTENSIONS = {"json": "srj", "xml": "srx"}
"""File name extensions of the downloads where the format's short name is not one (the
SPARQL results media types register .srj and .srx); a browser names the saved file so."""
HTML_ROWS = 1000
"""Most rows the HTML page shows (the download links give the whole capped result)."""


def _page(operation: Operation | None, shape) -> Response:
    config = settings()
    base = config.base_url
    examples = [(title, text.format(base=base)) for title, text in EXAMPLES]
    model: dict = {"query": operation.query if operation else examples[0][1],
                   "examples": examples, "ran": operation is not None,
                   "limit": config.result_limit, "timeout": config.query_timeout}
    if operation is not None:
        model.update(_page_results(operation, shape))
    body = render_template("sparql.html", model=model, base=base)
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers.update(CORS)
    response.headers["Vary"] = "Accept"
    if model.get("truncated"):
        response.headers["X-Filmld-Result-Truncated"] = "true"
    return response


def _page_results(operation: Operation, shape) -> dict:
    import json

    config = settings()
    limit = min(config.result_limit, HTML_ROWS)
    params = [("query", operation.query)] + \
        [("default-graph-uri", g) for g in operation.default_graphs] + \
        [("named-graph-uri", g) for g in operation.named_graphs]
    downloads = [(f.label, "sparql?" + urlencode(params + [("format", f.name)]),
                  f"result.{DOWNLOAD_EXTENSIONS.get(f.name, f.name)}")
                 for f in formats_for(shape.kind)]
    options = _dataset_options(operation, shape)
    fmt = "nt" if shape.kind == "graph" else "json"
    the_store = store()
    if hasattr(the_store, "checkpoint"):
        stream = query_pool().run(QueryRequest(
            operation.query, fmt, limit, options["default_graphs"], options["named_graphs"],
            options["union"], config.base_url))
        data = stream.body if stream.body is not None else stream.read_all()
        truncated = bool(stream.finished_truncated)
    else:
        slots = remote_slots()
        slots.enter()
        try:
            answer = _remote_answer(operation, shape, RESULT_FORMATS[fmt], limit)
            data = b"".join(answer.body)
        finally:
            slots.leave()
        truncated = bool(answer.state["truncated"])
        the_store.version()  # the labels below read the registry as it is now
    if shape.kind == "graph":
        columns = ["subject", "predicate", "object"]
        rows = [[t.subject, t.predicate, t.object]
                for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
        boolean = None
    else:
        parsed = json.loads(data)
        boolean = parsed.get("boolean")
        columns = parsed.get("head", {}).get("vars", [])
        rows = [[_term(b.get(c)) for c in columns]
                for b in parsed.get("results", {}).get("bindings", [])]
    labels = _labels([t for row in rows for t in row if isinstance(t, ox.NamedNode)])
    cells = [[_cell(t, labels, config.base_url) for t in row] for row in rows]
    return {"columns": columns, "rows": cells, "boolean": boolean, "truncated": truncated,
            "shown_limit": limit, "downloads": downloads, "count": len(rows)}


def _term(value: dict | None):
    if value is None:
        return None
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        return ox.BlankNode(value["value"])
    if "xml:lang" in value:
        return ox.Literal(value["value"], language=value["xml:lang"])
    if "datatype" in value:
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])


def _labels(iris: list[ox.NamedNode]) -> dict[str, str]:
    """Labels of the IRIs in a result (a trusted, internal query over the live store)."""
    unique = sorted({i.value for i in iris})[:2000]
    if not unique:
        return {}
    values = " ".join(f"<{i}>" for i in unique if ">" not in i and " " not in i)
    rows = store().select(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "PREFIX schema: <https://schema.org/> SELECT ?s ?label WHERE { VALUES ?s { "
        + values + " } { ?s rdfs:label ?label } UNION { ?s schema:name ?label } }")
    labels: dict[str, str] = {}
    for row in rows:
        labels.setdefault(row["s"].value, row["label"].value)
    return labels


XSD = "http://www.w3.org/2001/XMLSchema#"
_LINKED_SCHEMES = ("http://", "https://")


def _cell(term, labels: dict[str, str], base: str) -> dict:
    """A table cell. Only http(s) IRIs become links: a result can hold any IRI
    (`IRI("javascript:alert(1)")`), and a link to it would run script on click."""
    if term is None:
        return {"text": ""}
    if isinstance(term, ox.NamedNode):
        linked = term.value.lower().startswith(_LINKED_SCHEMES)
        return {"href": term.value if linked else None,
                "text": labels.get(term.value, term.value),
                "iri": term.value, "local": term.value.startswith(base)}
    if isinstance(term, ox.BlankNode):
        return {"text": f"_:{term.value}"}
    if term.language:
        return {"text": term.value, "note": f"@{term.language}"}
    datatype = term.datatype.value
    if datatype == XSD + "string":
        return {"text": term.value, "note": ""}
    short = "xsd:" + datatype[len(XSD):] if datatype.startswith(XSD) else f"<{datatype}>"
    return {"text": term.value, "note": f"^^{short}", "datatype": datatype}


