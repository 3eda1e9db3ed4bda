"""A remote SPARQL 1.1 store (Oxigraph server, Virtuoso, Fuseki, ...), over plain HTTP.

Reads are SPARQL 1.1 Query (https://www.w3.org/TR/sparql11-protocol/#query-operation), writes
SPARQL 1.1 Update (#update-operation); whole graphs are read (and bulk-loaded) through the
Graph Store Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/) where the server offers
it. The HTTP client is urllib3 (the transport under `requests`, used directly): one pool of
keep-alive connections shared by the threads, a (connect, read) timeout on every call, and
streamed bodies for dumps and /sparql. Measured on loopback, a small query costs about 0.3 ms
through urllib3 and 1.7 ms through requests, and every entity request asks the store for its
version, so the difference is the remote backend's ceiling in requests per second.

What makes several web workers on one store behave like one (issue 7):
- The version token (the ETag basis) lives in the store, in the graph `{base}graph/meta`, and
  every write changes it in the same update request as the data (one request is one
  transaction on Oxigraph server), so a worker never serves stale data after another's write.
- The same meta graph registers filmld's graphs. Every query names them as its dataset
  (`default-graph-uri` and `named-graph-uri`, SPARQL 1.1 Protocol 2.1.4), which gives the
  embedded store's union-default-graph semantics and keeps Virtuoso's system graphs and the
  meta graph itself out of every answer.
- A store that does not answer (refused, timed out, 5xx) is `StoreUnavailable`: 503 with
  Retry-After. Nothing is cached across that failure, so the next request after the store
  comes back succeeds without a restart.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox
import urllib3

from filmld.errors import (
    BadRequest,
    FilmldError,
    QueryFailed,
    QueryTimeout,
    StoreAnswered500,
    StoreUnavailable,
    SyntaxProblem,
)
from filmld.formats import NTRIPLES, RdfFormat, rdf_format
from filmld.store.base import Row, Store

log = logging.getLogger("filmld.store.remote")

META = "urn:x-filmld:meta:"
VERSION, MODIFIED, REGISTERED = META + "version", META + "modified", META + "contentHash"
LOCK = META + "writeLock"
RESULTS_JSON = "application/sparql-results+json"
PASSED_THROUGH = {"tabular": ("json", "xml", "csv", "tsv"), "boolean": ("json", "xml"),
                  "graph": ("nt",)}
"""Formats (sparql_results names) Oxigraph server writes as filmld does: see answers_in."""
XSD = "http://www.w3.org/2001/XMLSchema#"
UNHASHED = "-"


@dataclass(frozen=True)
class Endpoints:
    """Where the server takes queries, updates and Graph Store requests, and its quirks."""

    query: str
    update: str
    graph_store: str | None
    dialect: str = "generic"  # "oxigraph", "virtuoso" or "generic"
    dataset_pragmas: bool = False
    """Name a query's dataset with Virtuoso's `define input:...` pragmas (_dataset_form)."""

    @property
    def batch_triples(self) -> int:
        """Most triples in one update request (Virtuoso fails beyond about 1,000)."""
        return 1000 if self.dialect == "virtuoso" else 50_000


def derive_endpoints(query_url: str, update_url: str = "", graph_store_url: str = ""
                     ) -> Endpoints:
    """The update and Graph Store endpoints that go with a query endpoint.

    Oxigraph server: /query, /update, /store. Virtuoso: /sparql takes both queries and
    updates, /sparql-graph-crud is its Graph Store. Fuseki: /ds/query (or /ds/sparql),
    /ds/update, /ds/data. Anything else: the same URL for both, no Graph Store.
    """
    parts = urlsplit(query_url)
    path = parts.path.rstrip("/")

    def at(new_path: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))

    if path.endswith("/query"):
        prefix = path[: -len("/query")]
        # Oxigraph answers on /query at the root; Fuseki has a dataset name before it.
        dialect = "oxigraph" if prefix == "" else "generic"
        update, store = at(prefix + "/update"), at(prefix + ("/store" if prefix == "" else "/data"))
    elif path.endswith("/sparql") and path.count("/") == 1:
        dialect, update, store = "virtuoso", query_url, at("/sparql-graph-crud")
    else:
        dialect, update, store = "generic", query_url, None
    return Endpoints(query_url, update_url or update, graph_store_url or store, dialect,
                     dataset_pragmas=dialect == "virtuoso")


def sparql_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """A term in SPARQL syntax (the N-Triples form is valid SPARQL)."""
    return str(term)


def _term_from_json(value: dict) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = value["type"]
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":
        label = value["value"]
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", label):  # Virtuoso: nodeID://b1
            label = "b" + hashlib.blake2b(label.encode(), digest_size=8).hexdigest()
        return ox.BlankNode(label)
    # "typed-literal" is SPARQL 1.0 JSON, still sent by Virtuoso.
    if value.get("xml:lang"):
        return ox.Literal(value["value"], language=value["xml:lang"])
    if value.get("datatype"):
        return ox.Literal(value["value"], datatype=ox.NamedNode(value["datatype"]))
    return ox.Literal(value["value"])


def rows_from_json(body: bytes) -> list[Row]:
    """SELECT rows from SPARQL 1.1 (or 1.0, Virtuoso) JSON results."""
    data = json.loads(body)
    return [{name: _term_from_json(v) for name, v in binding.items()}
            for binding in data.get("results", {}).get("bindings", [])]


def boolean_from_json(body: bytes) -> bool:
    """An ASK answer; Virtuoso sends a one-row SELECT with the binding __ASK_RETVAL."""
    data = json.loads(body)
    if "boolean" in data:
        return bool(data["boolean"])
    for binding in data.get("results", {}).get("bindings", []):
        for value in binding.values():
            return value["value"] in {"1", "true"}
    return False


def _connected_batches(triples: list[ox.Triple], size: int) -> Iterator[tuple[bool, list]]:
    """Triples in batches of about `size`; triples sharing a blank node stay in one batch.

    Yields (has_blank_nodes, batch). A blank node's label is scoped to one update request, so
    splitting its triples would make two nodes of one (SPARQL 1.1 Update 3.1.1).
    """
    ground = [t for t in triples
              if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)]
    blank = [t for t in triples
             if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)]
    for start in range(0, len(ground), size):
        yield False, ground[start:start + size]
    if not blank:
        return
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def find(node: ox.BlankNode) -> ox.BlankNode:
        parent.setdefault(node, node)
        while parent[node] != node:
            node = parent[node]
        return node

    for t in blank:
        nodes = [n for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        roots = [find(n) for n in nodes]
        for root in roots[1:]:
            parent[root] = roots[0]
    groups: dict[ox.BlankNode, list[ox.Triple]] = {}
    for t in blank:
        node = t.subject if isinstance(t.subject, ox.BlankNode) else t.object
        groups.setdefault(find(node), []).append(t)
    batch: list[ox.Triple] = []
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield True, batch
            batch = []
        batch.extend(group)
    if batch:
        yield True, batch


def _triples_text(triples: Iterable[ox.Triple]) -> str:
    return "\n".join(f"{sparql_term(t.subject)} {sparql_term(t.predicate)} "
                     f"{sparql_term(t.object)} ." for t in triples)


def content_hash(triples: Iterable[ox.Triple]) -> str:
    """A hash of a set of ground triples (order-free), to skip rewriting an unchanged graph."""
    digest = 0
    count = 0
    for t in triples:
        text = f"{t.subject} {t.predicate} {t.object}".encode()
        digest ^= int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")
        count += 1
    return f"{count}-{digest:032x}"


@dataclass
class _Meta:
    """What the meta graph said at `fetched` (monotonic seconds)."""

    version: str
    modified: float
    graphs: dict[str, str]  # graph IRI -> content hash (or "-")
    fetched: float


class RemoteStore(Store):
    """Any SPARQL 1.1 server; safe to share between threads and between processes."""

    #: How long the list of filmld's graphs may be reused by queries that come without a
    #: version() call first (a request's version() always refreshes it).
    registry_seconds = 0.25
    #: A write lock's lease: a worker that died holding it frees it after this long.
    lease_seconds = 30.0
    #: How long write_lock() waits for another worker's lock before a 503.
    lock_wait = 20.0

    def __init__(self, query_url: str, *, base: str, update_url: str = "",
                 graph_store_url: str = "", timeout: float = 10.0, retry_after: int = 5
                 ) -> None:
        super().__init__(base)
        self.endpoints = derive_endpoints(query_url, update_url, graph_store_url)
        self.timeout = timeout
        self.retry_after = retry_after
        self.meta_graph = self.graph_iri("meta")
        self._local = threading.local()
        # urllib3 (requests' own transport) directly: about 0.3 ms a call on loopback
        # against 1.7 ms through requests, measured; the pool is shared by threads.
        self._pool = urllib3.PoolManager(maxsize=16, block=False)
        self._meta: _Meta | None = None
        self._meta_lock = threading.Lock()
        self._process_lock = threading.Lock()

    # -- HTTP -------------------------------------------------------------------------
    def _unavailable(self, what: str) -> StoreUnavailable:
        where = urlsplit(self.endpoints.query).netloc
        return StoreUnavailable(
            f"the SPARQL store at {where} is unavailable ({what}); try again in a few seconds",
            headers={"Retry-After": str(self.retry_after)})

    #: After a call of this thread found the store silent, its next calls in this window fail
    #: at once: a request makes several calls, and each waiting its own timeout made a page
    #: take several store_timeouts and a contribution over a minute before its 503.
    silent_window = 1.0

    def _request(self, method: str, url: str, *, retry: bool = False, stream: bool = False,
                 timeout: float | None = None, params: dict | None = None,
                 data: bytes | dict | list | None = None, headers: dict | None = None,
                 store_call: bool = True) -> _Response:
        """One HTTP call with a timeout; a store that does not answer is StoreUnavailable.

        `data` as a dict or list of pairs is sent as a form. `retry` (reads only) allows one
        more try when a pooled connection turns out closed (the server restarted).
        `store_call=False` (a /sparql query, whose own time limit this is) neither fails at
        once after a silent store nor counts as one."""
        limit = timeout or self.timeout
        silent = getattr(self._local, "silent", None)
        if store_call and silent is not None and time.monotonic() < silent[0]:
            raise self._unavailable(silent[1])
        try:
            return self._call(method, url, retry=retry, stream=stream, limit=limit,
                              params=params, data=data, headers=headers)
        except StoreUnavailable as error:
            if store_call and "no answer within" in error.message:
                self._local.silent = (time.monotonic() + self.silent_window,
                                      f"no answer within {limit:g} s")
            raise

    def _call(self, method: str, url: str, *, retry: bool, stream: bool, limit: float,
              params: dict | None, data: bytes | dict | list | None, headers: dict | None
              ) -> _Response:
        headers = {"User-Agent": "filmld", **(headers or {})}
        if params:
            url = f"{url}?{urlencode(params)}"
        if isinstance(data, dict | list):
            data = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            raw = self._pool.urlopen(
                method, url, body=data, headers=headers, preload_content=not stream,
                timeout=urllib3.Timeout(connect=min(3.0, limit), read=limit),
                retries=urllib3.Retry(total=1 if retry else 0, connect=1, read=1 if retry else 0,
                                      status=0, redirect=0, other=0, raise_on_status=False),
                redirect=False)
        except urllib3.exceptions.MaxRetryError as error:
            reason = error.reason
            # NewConnectionError (refused) is a ConnectTimeoutError subclass in urllib3 2.
            if isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
                    reason, urllib3.exceptions.NewConnectionError):
                raise self._unavailable(f"no answer within {limit:g} s") from None
            raise self._unavailable(f"cannot connect: {_reason(reason)}") from None
        except urllib3.exceptions.TimeoutError:
            raise self._unavailable(f"no answer within {limit:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise self._unavailable(f"cannot connect: {_reason(error)}") from None
        response = _Response(raw)
        if response.status_code >= 400:
            self._raise_for(response)
        return response

    def _raise_for(self, response: _Response) -> None:
        text = response.text[:500].strip()
        if response.status_code in (401, 403):
            raise self._unavailable(f"it refused filmld ({response.status_code}): {text}")
        if response.status_code == 500:
            unavailable = self._unavailable(f"it answered 500: {text}")
            raise StoreAnswered500(unavailable.message, answer=text,
                                   headers=unavailable.headers)
        if response.status_code > 500 or response.status_code == 429:
            raise self._unavailable(f"it answered {response.status_code}: {text}")
        if response.status_code == 400:
            raise BadRequest(f"the SPARQL store refused the request: {text}")
        raise FilmldError(f"the SPARQL store answered {response.status_code}: {text}")

    def _query(self, sparql: str, accept: str, *, dataset: bool = True,
               stream: bool = False, timeout: float | None = None) -> _Response:
        """POST a query as a form (Virtuoso ignores application/sparql-query bodies)."""
        if dataset:
            graphs = self._dataset_graphs()
            form = self._dataset_form(sparql, graphs, graphs)
        else:
            form = [("query", sparql)]
        return self._request("POST", self.endpoints.query, data=form, retry=True,
                             stream=stream, timeout=timeout, headers={"Accept": accept})

    def _dataset_form(self, sparql: str, defaults: list[str], named: list[str]
                      ) -> list[tuple[str, str]]:
        """The form of a query whose dataset is `defaults` and `named` (SPARQL 1.1 Protocol
        2.1.4: `default-graph-uri`, `named-graph-uri`).

        Virtuoso echoes every one of those parameters as a response header field
        (`X-SPARQL-default-graph: ...`), and Python's HTTP client refuses a response with more
        than 100 header fields: past about 48 registered graphs (every contribution is one)
        every query failed, so the whole site answered 503. Virtuoso turns the parameters
        into `define input:default-graph-uri <g>` pragmas before the query anyway; they are
        sent as such here, which means the same and echoes nothing."""
        if self.endpoints.dataset_pragmas:
            pragmas = "".join([*(f"define input:default-graph-uri <{g}> " for g in defaults),
                               *(f"define input:named-graph-uri <{g}> " for g in named)])
            return [("query", pragmas + sparql)]
        return [("query", sparql), *(("default-graph-uri", g) for g in defaults),
                *(("named-graph-uri", g) for g in named)]

    def _update(self, sparql: str, *, timeout: float | None = None, bump: bool = True) -> None:
        self._request("POST", self.endpoints.update, data={"update": sparql},
                      timeout=timeout or max(self.timeout, 60.0))
        if bump:
            with self._meta_lock:
                self._meta = None

    # -- the meta graph ---------------------------------------------------------------
    def _read_meta(self) -> _Meta:
        sparql = (f"SELECT ?v ?t ?g ?h WHERE {{ GRAPH <{self.meta_graph}> {{ "
                  f"{{ <{self.meta_graph}> <{VERSION}> ?v . "
                  f"OPTIONAL {{ <{self.meta_graph}> <{MODIFIED}> ?t }} }} "
                  f"UNION {{ ?g <{REGISTERED}> ?h }} }} }}")
        rows = rows_from_json(self._query(sparql, RESULTS_JSON, dataset=False).content)
        version, modified, graphs = "", 0.0, {}
        for row in rows:
            if "v" in row:
                version = row["v"].value
                modified = float(row["t"].value) if "t" in row else 0.0
            elif "g" in row:
                graphs[row["g"].value] = row["h"].value
        meta = _Meta(version, modified, graphs, time.monotonic())
        with self._meta_lock:
            self._meta = meta
        return meta

    def _fresh_meta(self, max_age: float) -> _Meta:
        meta = self._meta
        if meta is None or time.monotonic() - meta.fetched > max_age:
            meta = self._read_meta()
        return meta

    def _dataset_graphs(self) -> list[str]:
        graphs = sorted(self._fresh_meta(self.registry_seconds).graphs)
        # No graph at all must still be an explicit, empty dataset (Virtuoso's default graph
        # is every graph it has, its own system graphs included).
        return graphs or [self.graph_iri("none")]

    def _bump(self, graph: str | None = None, graph_hash: str | None = None,
              unregister: bool = False) -> str:
        """Update operations that set a new version token (and register or drop a graph)."""
        meta = f"<{self.meta_graph}>"
        token = secrets.token_hex(8)
        ops = [f"DELETE WHERE {{ GRAPH {meta} {{ {meta} <{VERSION}> ?v }} }}",
               f"DELETE WHERE {{ GRAPH {meta} {{ {meta} <{MODIFIED}> ?t }} }}",
               (f'INSERT DATA {{ GRAPH {meta} {{ {meta} <{VERSION}> "{token}" . '
                f'{meta} <{MODIFIED}> "{time.time():.6f}" }} }}')]
        if graph is not None:
            ops.append(self._registry_ops(graph, graph_hash, unregister=unregister))
        return " ;\n".join(ops)

    def _registry_ops(self, graph: str, graph_hash: str | None, *,
                      unregister: bool = False) -> str:
        """Update operations that register a graph (with its content hash) or forget it."""
        meta = f"<{self.meta_graph}>"
        ops = [f"DELETE WHERE {{ GRAPH {meta} {{ <{graph}> <{REGISTERED}> ?h }} }}"]
        if not unregister:
            ops.append(f'INSERT DATA {{ GRAPH {meta} {{ <{graph}> <{REGISTERED}> '
                       f'"{graph_hash or UNHASHED}" }} }}')
        return " ;\n".join(ops)

    @staticmethod
    def _insert_op(graph: str, blank: bool, batch: list[ox.Triple]) -> str:
        """INSERT DATA, or INSERT {} WHERE {} for blank nodes (Virtuoso refuses them in DATA)."""
        data = _triples_text(batch)
        return (f"INSERT {{ GRAPH <{graph}> {{ {data} }} }} WHERE {{}}" if blank
                else f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}")

    def _write(self, graph: str, triples: list[ox.Triple], *, drop: bool,
               graph_hash: str = UNHASHED) -> None:
        """Drop (or not) and fill a graph, and bump the version, in one request (one
        transaction) when the server takes it whole; else through a staging graph
        (`_staged`), so the change is still all or nothing."""
        head = [f"DROP SILENT GRAPH <{graph}>"] if drop else []
        bump = self._bump(graph, graph_hash)
        if not self._too_large_for_one_request(len(triples)):
            bodies = [self._insert_op(graph, blank, batch) for blank, batch
                      in _connected_batches(triples, self.endpoints.batch_triples)]
            self._update(" ;\n".join([*head, *bodies, bump]))
            return
        with self._staged({graph: triples}) as moves:
            self._update(" ;\n".join([*head, *moves, bump]))

    def _too_large_for_one_request(self, triples: int) -> bool:
        if self.endpoints.dialect == "virtuoso":
            return triples > self.endpoints.batch_triples  # its SQL text limit
        return triples > 500_000

    @contextmanager
    def _staged(self, added: Mapping[str, list[ox.Triple]]) -> Iterator[list[str]]:
        """Fill a staging graph per target, in batches the server takes (requests of their
        own), and yield the operations that add each to its target and drop it, for the one
        final request that also registers the change and bumps the version.

        Why: more than about 1,000 triples fail in one Virtuoso request, and batches written
        straight into the target would leave it half changed if one failed. A staging graph
        is never registered, so no query, dump or count sees it (they read registered graphs
        only), and it is dropped when anything fails."""
        staged: list[str] = []
        moves: list[str] = []
        try:
            for graph, triples in added.items():
                staging = self.graph_iri(f"staging/{secrets.token_hex(8)}")
                staged.append(staging)
                for blank, batch in _connected_batches(triples, self.endpoints.batch_triples):
                    self._update(self._insert_op(staging, blank, batch), bump=False)
                moves += [f"ADD SILENT <{staging}> TO <{graph}>",
                          f"DROP SILENT GRAPH <{staging}>"]
            yield moves
        except BaseException:
            for staging in staged:
                try:
                    self._update(f"DROP SILENT GRAPH <{staging}>", bump=False)
                except FilmldError:
                    log.warning("staging graph %s left behind (unregistered, unseen)",
                                staging)
            raise

    # -- reading ----------------------------------------------------------------------
    def select(self, sparql: str, *, timeout: float | None = None) -> list[Row]:
        return rows_from_json(self._query(sparql, RESULTS_JSON, timeout=timeout).content)

    def ask(self, sparql: str) -> bool:
        return boolean_from_json(self._query(sparql, RESULTS_JSON).content)

    def construct(self, sparql: str) -> list[ox.Triple]:
        response = self._query(sparql, "application/n-triples, text/turtle;q=0.5")
        return [q.triple for q in ox.parse(response.content, format=_rdf_format(response))]

    def graph_triples(self, graph: str) -> list[ox.Triple]:
        return list(self._stream_graph(graph))

    def _stream_graph(self, graph: str) -> Iterator[ox.Triple]:
        """One graph's triples, parsed while they arrive (Graph Store GET, or CONSTRUCT)."""
        if self.endpoints.graph_store:
            param = "graph-uri" if self.endpoints.dialect == "virtuoso" else "graph"
            response = self._graph_store_get(graph, param)
            if response is None:
                return
        else:
            response = self._query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> "
                                   f"{{ ?s ?p ?o }} }}", "application/n-triples",
                                   dataset=False, stream=True)
        with response:
            response.raw.decode_content = True
            for quad in ox.parse(response.raw, format=_rdf_format(response)):
                yield quad.triple

    def _graph_store_get(self, graph: str, param: str) -> _Response | None:
        try:
            return self._request("GET", self.endpoints.graph_store, params={param: graph},
                                 headers={"Accept": "application/n-triples"},
                                 stream=True, retry=True)
        except FilmldError as error:
            if "answered 404" in error.message:  # an empty graph does not exist (GSP 5.2)
                return None
            raise

    def graph_names(self) -> list[str]:
        return sorted(self._fresh_meta(self.registry_seconds).graphs)

    def dump(self, fmt: RdfFormat) -> Iterator[bytes]:
        """Graph by graph, streamed from the server in pieces: memory stays flat."""
        quads = fmt.oxigraph.supports_datasets
        for graph in self.graph_names():
            name = ox.NamedNode(graph)
            chunk: list = []
            for t in self._stream_graph(graph):
                chunk.append(ox.Quad(t.subject, t.predicate, t.object, name) if quads else t)
                if len(chunk) >= 5000:
                    yield ox.serialize(chunk, format=fmt.oxigraph)
                    chunk = []
            if chunk:
                yield ox.serialize(chunk, format=fmt.oxigraph)

    def version(self) -> str:
        """Read from the store at every call: another worker may have written just now.

        While the store does not answer, a token never seen before: caches keyed by the
        version (web/cache.py calls this before any view runs) then hold nothing stale,
        and the view's own store call answers the 503."""
        try:
            meta = self._read_meta()
        except StoreUnavailable:
            return "unavailable-" + secrets.token_hex(8)
        if not meta.version:  # a store filmld never wrote to: start a series
            self._update(self._bump())
            meta = self._read_meta()
        return meta.version

    def last_modified(self) -> float:
        return self._fresh_meta(self.registry_seconds).modified or time.time()

    def answers_in(self, kind: str, fmt: str) -> bool:
        """Does the server write /sparql answers of this kind in this format (a
        sparql_results name) exactly as filmld would, so they can pass through unchanged?

        Oxigraph server does for SPARQL JSON, XML, CSV and TSV results and N-Triples (ASK in
        CSV or TSV it writes as a bare `true`, without the `_askResult` header). Virtuoso
        does not (SPARQL 1.0 JSON, `nodeID://` blank nodes, ASK as a one-row SELECT), nor do
        servers filmld knows nothing of: their answers are relayed (sparql_protocol)."""
        if self.endpoints.dialect != "oxigraph":
            return False
        return fmt in PASSED_THROUGH.get(kind, ())

    def query_stream(self, sparql: str, *, kind: str, default_graphs: list[str] | None = None,
                     named_graphs: list[str] | None = None, timeout: float = 5.0,
                     media_type: str | None = None) -> IO[bytes]:
        """An untrusted /sparql query, sent as is, its answer streamed (base.py contract):
        JSON results for 'tabular' and 'boolean', N-Triples for 'graph', or `media_type`
        when given (a format `answers_in` says the server writes). The stream's
        `deadline` (time.monotonic()) is `timeout` from now; the endpoint extends it by its
        streaming bound (setting stream_timeout) once the body has started to reach the
        client, so the first bytes are bound by the query time limit and the whole answer
        by the sum of the two."""
        accept = media_type or ("application/n-triples" if kind == "graph" else RESULTS_JSON)
        deadline = time.monotonic() + timeout
        if kind == "graph" and self.endpoints.dialect == "virtuoso":
            # Virtuoso's DESCRIBE adds the triples that point at the resource and leaves out
            # its blank nodes' own; the embedded store and Oxigraph server give the Concise
            # Bounded Description, and so does Virtuoso in this mode. Same line: error
            # positions hold.
            sparql = 'define sql:describe-mode "CBD" ' + sparql
        own = default_graphs is None and named_graphs is None and has_dataset_clause(sparql)
        if own or (default_graphs is not None and named_graphs is not None):
            # the query's own FROM / FROM NAMED decide (protocol graphs would replace them),
            # or the request names the whole dataset: the registry plays no part
            return self._answer(self._send(sparql, default_graphs, named_graphs, [], accept,
                                           timeout, own), kind, media_type, deadline, timeout)
        # The registry is read for every query, after the request arrived: a graph another
        # worker registered a moment ago (a contribution it accepted) is part of the
        # dataset (issue 7). Reading it on a second connection while the query runs was
        # measured no faster on two cores (the read's cost is Python's, not the wait).
        registered = sorted(self._read_meta().graphs)
        response = self._send(sparql, default_graphs, named_graphs, registered, accept,
                              timeout, own)
        return self._answer(response, kind, media_type, deadline, timeout)

    def _send(self, sparql: str, default_graphs: list[str] | None,
              named_graphs: list[str] | None, registered: list[str], accept: str,
              timeout: float, own: bool) -> _Response:
        """One /sparql query, its dataset named by the protocol (SPARQL 1.1 Protocol 2.1.4)
        unless the query names its own."""
        form = [("query", sparql)]
        if not own:
            registered = registered or [self.graph_iri("none")]
            none = [self.graph_iri("none")]  # an explicit, empty dataset
            defaults = registered if default_graphs is None else (default_graphs or none)
            named = registered if named_graphs is None else (named_graphs or none)
            form = self._dataset_form(sparql, defaults, named)
        try:
            return self._request("POST", self.endpoints.query, data=form, stream=True,
                                 timeout=timeout, headers={"Accept": accept},
                                 store_call=False)
        except StoreAnswered500 as error:  # up, and this query fails there: say it, no retry
            raise QueryFailed("the SPARQL store could not evaluate this query; it said: "
                              f"{error.answer or 'nothing'}") from None
        except StoreUnavailable as error:
            if "no answer within" in error.message:
                raise QueryTimeout(f"the query ran longer than {timeout:g} s") from None
            raise
        except BadRequest as error:
            raise _syntax_problem(error.message.removeprefix(
                "the SPARQL store refused the request: ")) from None

    def _answer(self, response: _Response, kind: str, media_type: str | None,
                deadline: float, timeout: float) -> IO[bytes]:
        response.raw.decode_content = True
        answered = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type is not None and answered != media_type:
            response.close()
            raise FilmldError(f"the SPARQL store answered {answered or 'no media type'} "
                              f"where {media_type} was asked for")
        if kind == "boolean" and self.endpoints.dialect == "virtuoso":
            with response:
                answer = boolean_from_json(response.content)
            return io.BytesIO(json.dumps({"head": {}, "boolean": answer}).encode())
        if kind == "tabular" and media_type is None and self.endpoints.dialect == "virtuoso":
            return _VirtuosoBlankNodes(_Deadline(response, deadline, timeout))
        return _Deadline(response, deadline, timeout)

    # -- writing ----------------------------------------------------------------------
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        triples = list(dict.fromkeys(triples))
        has_blank = any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
                        for t in triples)
        digest = UNHASHED if has_blank else content_hash(triples)
        if digest != UNHASHED and self._read_meta().graphs.get(graph) == digest:
            return  # unchanged: keep the version, so ETags survive a restart
        self._write(graph, triples, drop=True, graph_hash=digest)

    def add_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        self._write(graph, list(triples), drop=False)

    def remove_graph(self, graph: str) -> None:
        self._update(f"DROP SILENT GRAPH <{graph}> ;\n"
                     + self._bump(graph, unregister=True))

    def change_graphs(self, *, drop: Iterable[str] = (),
                      add: Mapping[str, Iterable[ox.Triple]] | None = None) -> None:
        """Drops, inserts, registry and version in one update request: one transaction on
        Oxigraph server, so all or nothing and durable on return (base.py contract). The
        server names blank nodes afresh (SPARQL 1.1 Update 3.1.1), as the embedded store does
        when graphs are dropped in the same call. Too large for one request (Virtuoso,
        beyond 1,000 triples): through staging graphs, still one final request."""
        drop = list(drop)
        added = {graph: list(triples) for graph, triples in (add or {}).items()}
        ops = [f"DROP SILENT GRAPH <{graph}>" for graph in drop]
        total = sum(len(t) for t in added.values())
        registry = [self._registry_ops(graph, None, unregister=True) for graph in drop
                    if graph not in added]
        registry += [self._registry_ops(graph, UNHASHED) for graph in added]
        bump = " ;\n".join([self._bump(), *filter(None, registry)])
        if self._too_large_for_one_request(total):
            with self._staged(added) as moves:
                self._update(" ;\n".join([*ops, *moves, bump]))
            return
        bodies = [self._insert_op(graph, blank, batch)
                  for graph, triples in added.items()
                  for blank, batch in _connected_batches(triples, self.endpoints.batch_triples)]
        self._update(" ;\n".join([*ops, *bodies, bump]))

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """A lock every worker process sees: a lease in the meta graph (base.py contract).

        Taken with a conditional update and confirmed by reading it back: whoever reads only
        its own token holds the lock; two that raced both see two tokens, withdraw theirs and
        retry after a random pause. A holder that died frees the lock when its lease ends.
        Re-entrant within a thread, like the default lock.
        """
        depth = getattr(self._local, "lock_depth", 0)
        if depth:
            self._local.lock_depth = depth + 1
            try:
                yield
            finally:
                self._local.lock_depth -= 1
            return
        with self._process_lock:
            token = self._acquire_lease()
            self._local.lock_depth = 1
            try:
                yield
            finally:
                self._local.lock_depth = 0
                self._update(f'DELETE DATA {{ GRAPH <{self.meta_graph}> {{ '
                             f'<{self.meta_graph}> <{LOCK}> "{token}" }} }}', bump=False,
                             timeout=self.timeout)

    def _acquire_lease(self) -> str:
        meta = f"<{self.meta_graph}>"
        deadline = time.monotonic() + self.lock_wait
        while True:
            now = time.time()
            token = f"{secrets.token_hex(8)}|{now + self.lease_seconds:.3f}"
            self._update(
                f"DELETE {{ GRAPH {meta} {{ {meta} <{LOCK}> ?old }} }} WHERE {{ GRAPH {meta} "
                f"{{ {meta} <{LOCK}> ?old }} FILTER(<{XSD}double>(STRAFTER(STR(?old), \"|\"))"
                f" < {now:.3f}) }} ;\n"
                f"INSERT {{ GRAPH {meta} {{ {meta} <{LOCK}> \"{token}\" }} }} WHERE {{ "
                f"FILTER NOT EXISTS {{ GRAPH {meta} {{ {meta} <{LOCK}> ?any }} }} }}",
                bump=False, timeout=self.timeout)  # the lock's own updates are tiny
            rows = rows_from_json(self._query(
                f"SELECT ?l WHERE {{ GRAPH {meta} {{ {meta} <{LOCK}> ?l }} }}",
                RESULTS_JSON, dataset=False).content)
            holders = {row["l"].value for row in rows}
            if holders == {token}:
                return token
            if token in holders:  # a race: both withdraw, then try again at random times
                self._update(f'DELETE DATA {{ GRAPH {meta} {{ {meta} <{LOCK}> "{token}" }} }}',
                             bump=False, timeout=self.timeout)
            if time.monotonic() > deadline:
                raise self._unavailable(f"its write lock stayed taken for {self.lock_wait:g} s")
            time.sleep(random.uniform(0.005, 0.05))

    # -- bulk loading -----------------------------------------------------------------
    def post_graph_data(self, graph: str, body: IO[bytes] | bytes,
                        media_type: str = NTRIPLES.media_type, *, register: bool = True,
                        bulk: bool = False, trusted: bool = False) -> None:
        """Append RDF to a graph through the Graph Store Protocol (POST, section 5.5).
        Each request is its own blank node scope. `register=False` leaves the registry and
        version to one register_graphs() call at the end of a bulk load. On Oxigraph server,
        `bulk` loads without a transaction (about 1.8x faster; a failed piece may be half
        written, as with `oxigraph load --non-atomic`) and `trusted` skips its checks of
        terms filmld has already parsed (lenient: 1.8x faster again)."""
        if not self.endpoints.graph_store:
            raise FilmldError("this SPARQL store offers no Graph Store Protocol endpoint")
        param = "graph-uri" if self.endpoints.dialect == "virtuoso" else "graph"
        params = {param: graph}
        if self.endpoints.dialect == "oxigraph":
            params.update({"no_transaction": ""} if bulk else {})
            params.update({"lenient": ""} if bulk and trusted else {})
        self._request("POST", self.endpoints.graph_store, params=params, data=body,
                      headers={"Content-Type": media_type}, timeout=max(self.timeout, 600.0))
        if register:
            self.register_graphs([graph])

    def insert_triples(self, graph: str, triples: list[ox.Triple], *,
                       register: bool = True) -> None:
        """Append triples to a graph in update requests of the server's batch size."""
        if register:
            self._write(graph, triples, drop=False)
            return
        for blank, batch in _connected_batches(triples, self.endpoints.batch_triples):
            self._update(self._insert_op(graph, blank, batch), bump=False)

    def register_graphs(self, graphs: Iterable[str]) -> None:
        """Make graphs written by other means part of the dataset, with a new version."""
        ops = [self._registry_ops(graph, UNHASHED) for graph in graphs]
        self._update(" ;\n".join([self._bump(), *ops]))

    def clear(self) -> None:
        """Drop every graph, filmld's and others' (tests start each from an empty store)."""
        self._update("DROP SILENT ALL")

    def close(self) -> None:
        self._pool.clear()


_NOT_CODE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                       r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*")
_FROM = re.compile(r"(?<![?$\w:])FROM\b", re.IGNORECASE)


def has_dataset_clause(sparql: str) -> bool:
    """Does the query name its own dataset (FROM, FROM NAMED)? Strings, IRIs and comments
    are set aside first, so a FROM inside them does not count."""
    return bool(_FROM.search(_NOT_CODE.sub(" ", sparql)))


def _syntax_problem(message: str) -> SyntaxProblem:
    """The server's parse error, with its line and column when it says them (Oxigraph:
    "error at 3:1: expected ...")."""
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    if not match:
        return SyntaxProblem(message[:500])
    text = match.group(3)
    text = text[:200] + "..." if len(text) > 200 else text
    return SyntaxProblem(text, line=int(match.group(1)), column=int(match.group(2)))


class _Deadline(io.RawIOBase):
    """A streamed answer that raises QueryTimeout once the query's time is up."""

    def __init__(self, response: _Response, deadline: float, limit: float) -> None:
        self.response, self.deadline, self.limit = response, deadline, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if time.monotonic() > self.deadline:
            self.close()
            raise QueryTimeout(f"the query ran longer than {self.limit:g} s")
        try:
            data = self.response.raw.read(len(buffer))
        except (OSError, urllib3.exceptions.HTTPError) as error:
            self.close()
            if time.monotonic() > self.deadline - 0.05 or "timed out" in str(error):
                raise QueryTimeout(f"the query ran longer than {self.limit:g} s") from None
            raise StoreUnavailable(f"the SPARQL store stopped answering: {error}") from None
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.response.close()
        super().close()


class _VirtuosoBlankNodes(io.RawIOBase):
    """Virtuoso's JSON results with its blank nodes made parseable, streamed.

    Virtuoso writes a blank node as `{ "type": "bnode", "value": "nodeID://b10004" }`, a
    label no SPARQL results parser takes (pyoxigraph: "Invalid bnode value"), so a SELECT
    that returned a blank node was a 500. The `nodeID://` is dropped (`b10004`) as the bytes
    pass; the last bytes of each piece wait for the next, so a binding cut between two
    reads is still seen whole."""

    _BNODE = re.compile(rb'("type"\s{0,8}:\s{0,8}"bnode"\s{0,8},\s{0,8}"value"\s{0,8}:'
                        rb'\s{0,8}")nodeID://')
    _KEEP = 128  # longer than any match

    def __init__(self, inner: _Deadline) -> None:
        self.inner = inner
        self._pending = b""
        self._out = b""
        self._eof = False

    @property
    def deadline(self) -> float:
        return self.inner.deadline

    @deadline.setter
    def deadline(self, value: float) -> None:
        self.inner.deadline = value

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out and not self._eof:
            chunk = self.inner.read(65536)
            if not chunk:
                self._eof = True
                self._out, self._pending = self._BNODE.sub(rb"\1", self._pending), b""
                break
            data = self._pending + chunk
            cut = max(len(data) - self._KEEP, 0)
            for match in self._BNODE.finditer(data):
                if match.start() < cut < match.end():
                    cut = match.start()
            self._out, self._pending = self._BNODE.sub(rb"\1", data[:cut]), data[cut:]
        size = min(len(buffer), len(self._out))
        buffer[:size] = self._out[:size]
        self._out = self._out[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self.inner.close()
        super().close()


class _Response:
    """The few things filmld reads from an answer, over urllib3's response."""

    def __init__(self, raw: urllib3.BaseHTTPResponse) -> None:
        self.raw = raw
        self.status_code = raw.status
        self.headers = raw.headers

    @property
    def content(self) -> bytes:
        return self.raw.data

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.raw.close()  # a body not read to its end takes its connection with it

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rdf_format(response: _Response) -> ox.RdfFormat:
    media = response.headers.get("Content-Type", "application/n-triples")
    if media.split(";")[0].strip() == "text/plain":  # Virtuoso's N-Triples
        return ox.RdfFormat.N_TRIPLES
    found = rdf_format(media)
    return found.oxigraph if found is not None else ox.RdfFormat.N_TRIPLES


def _reason(error: Exception) -> str:
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] ([^')\"]+)", text)
    return match.group(1).strip() if match else type(error).__name__
