"""SPARQL 1.1 Protocol pieces that need no web framework: result negotiation, the service
description, and running an accepted query on the store's backend.

https://www.w3.org/TR/sparql11-protocol/ and https://www.w3.org/TR/sparql11-service-description/
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from filmld.errors import BadRequest, NotAcceptable
from filmld.formats import RDF_FORMATS, RdfFormat
from filmld.negotiation import accept_ranges
from filmld.sparql_results import (
    RESULT_FORMATS,
    ResultFormat,
    format_named,
    formats_for,
    write_boolean,
    write_solutions,
    write_triples,
)

HTML = "html"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


CLIENT_FORMAT_NAMES = {
    "graph": {"xml": "rdf", "rdf+xml": "rdf", "rdf": "rdf", "n3": "ttl", "turtle": "ttl",
              "ttl": "ttl", "json": "jsonld", "json-ld": "jsonld", "jsonld": "jsonld",
              "nt": "nt", "ntriples": "nt", "n-triples": "nt"},
    "tabular": {"xml": "xml", "json": "json", "csv": "csv", "tsv": "tsv"},
}
"""format=, output= and results= values that common clients (SPARQLWrapper, Virtuoso's and
Joseki's conventions) send, per query form: `xml` is SPARQL XML for SELECT and ASK but
RDF/XML for CONSTRUCT and DESCRIBE, `json` is SPARQL JSON or JSON-LD, `n3` is served as
Turtle (Turtle is N3's RDF subset)."""
CLIENT_FORMAT_NAMES["boolean"] = CLIENT_FORMAT_NAMES["tabular"]


def _named(value: str, kind: str) -> ResultFormat | str | None:
    key = value.split(";", 1)[0].strip().lower()
    if key in ("html", "htm", *_HTML_TYPES):
        return HTML
    alias = CLIENT_FORMAT_NAMES[kind].get(key)
    if alias is not None:
        return RESULT_FORMATS[alias]
    return format_named(key, kind)


def _known_elsewhere(value: str, kind: str) -> bool:
    """A format this endpoint has, but for another query form (format=ttl on a SELECT)."""
    key = value.split(";", 1)[0].strip().lower()
    return any(format_named(key, other) is not None or key in CLIENT_FORMAT_NAMES[other]
               for other in ("tabular", "graph") if other != kind and
               not (kind == "boolean" and other == "tabular"))


def choose_result_format(kind: str, accept: str | None,
                         explicit: str | list[str] | None = None) -> ResultFormat | str:
    """The format for a query of `kind` ('tabular', 'boolean', 'graph'), or HTML.

    Explicit values (format=, output=, results=; see CLIENT_FORMAT_NAMES) win: the first
    that names a format for this kind. A value naming a format of another query form only
    (format=ttl on a SELECT) is a 406; values this endpoint does not know at all (another
    server's convention) are ignored and Accept decides, so a client sending both gets
    what its Accept asks for. Then Accept with q-values (ties go to the server's order:
    JSON, XML, CSV, TSV; Turtle, JSON-LD, N-Triples, RDF/XML, N-Quads, TriG; HTML last); no Accept or */*
    gets the first. 406 when nothing acceptable fits.
    """
    available = formats_for(kind)
    values = [explicit] if isinstance(explicit, str) else list(explicit or [])
    values = [v for v in values if v and v.strip()]
    for value in values:
        found = _named(value, kind)
        if found is not None:
            return found
    wrong = [v for v in values if _known_elsewhere(v, kind)]
    if wrong:
        raise NotAcceptable(
            f"format={wrong[0]!r} is not available for this query; available: "
            + ", ".join(f.name for f in available) + ", html",
            details={"available": [f.name for f in available] + [HTML]})
    if not accept or not accept.strip():
        return available[0]
    return _by_accept(kind, accept)


@lru_cache(maxsize=512)
def _by_accept(kind: str, accept: str) -> ResultFormat | str:
    """Accept's choice for a query of `kind`: a handful of distinct headers come from the
    clients of an endpoint, and matching one costs about 20 µs (werkzeug), a tenth of a
    small query's whole answer. A 406 is raised, not cached."""
    available = formats_for(kind)
    candidates: dict[str, ResultFormat | str] = {}
    for fmt in available:
        candidates.setdefault(fmt.media_type, fmt)
    for fmt in available:
        for alias in fmt.aliases:
            if "/" in alias:
                candidates.setdefault(alias, fmt)
    for media_type in _HTML_TYPES:
        candidates[media_type] = HTML
    ranges = accept_ranges(accept)  # parameters other than q never prevent a match
    if not ranges:  # no valid range left (malformed q-values): as if Accept were absent
        return available[0]
    best = ranges.best_match(list(candidates))
    if best is None:
        raise NotAcceptable(
            "none of the media types in Accept is available for this query; available: "
            + ", ".join(f.media_type for f in available) + ", text/html",
            details={"available": [f.media_type for f in available] + ["text/html"]})
    return candidates[best]


def choose_description_format(accept: str | None, explicit: str | None = None
                              ) -> RdfFormat | str:
    """For GET /sparql without a query: HTML for browsers, else the service description in RDF."""
    names = {"ttl": "ttl", "turtle": "ttl", "jsonld": "jsonld", "json-ld": "jsonld",
             "nt": "nt", "ntriples": "nt", "rdf": "rdf", "xml": "rdf", "rdfxml": "rdf"}
    if explicit:
        if explicit.lower() in ("html", "htm"):
            return HTML
        if explicit.lower() not in names:
            raise BadRequest(f"format={explicit!r}: the service description is available as "
                             "ttl, jsonld, nt, rdf or html")
        return RDF_FORMATS[names[explicit.lower()]]
    if not accept or not accept.strip():
        return RDF_FORMATS["ttl"]
    candidates: dict[str, RdfFormat | str] = {f.media_type: f for f in RDF_FORMATS.values()}
    candidates.update({m: HTML for m in _HTML_TYPES})
    candidates.setdefault("application/json", RDF_FORMATS["jsonld"])
    best = accept_ranges(accept).best_match(list(candidates))
    return candidates[best] if best else RDF_FORMATS["ttl"]


# -- service description ---------------------------------------------------------------------
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
_FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
                "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV", "ttl": "Turtle",
                "jsonld": "JSON-LD", "nt": "N-Triples", "rdf": "RDF_XML", "nq": "N-Quads",
                "trig": "TriG"}


def service_description(endpoint: str, graphs: list[str]) -> list[ox.Triple]:
    """The endpoint in the SPARQL 1.1 Service Description vocabulary, with its named graphs."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset, default = ox.NamedNode(endpoint), ox.BlankNode("dataset"), \
        ox.BlankNode("default")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultEntailmentRegime"),
                  ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, rdf_type, sd("Graph")),
        ox.Triple(service, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"),
                  ox.Literal("Read-only SPARQL 1.1 Query endpoint. The default graph is the "
                             "union of all named graphs. SERVICE, LOAD and updates are refused; "
                             "queries have a time limit and a result cap. A GET request target "
                             "longer than 65534 bytes is refused by the HTTP server (414, "
                             "before this endpoint sees it): POST long queries.",
                             language="en")),
    ]
    triples += [ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMATS_NS + iri))
                for iri in _FORMAT_IRIS.values()]
    for index, graph in enumerate(graphs):
        node = ox.BlankNode(f"graph{index}")
        triples += [ox.Triple(dataset, sd("namedGraph"), node),
                    ox.Triple(node, rdf_type, sd("NamedGraph")),
                    ox.Triple(node, sd("name"), ox.NamedNode(graph))]
    return triples


# -- remote backends -------------------------------------------------------------------------
@dataclass
class RemoteAnswer:
    """A remote store's answer re-serialised here with the same cap as the embedded path."""

    media_type: str
    body: Iterator[bytes]
    state: dict
    source: object = None
    """The remote answer stream read (remote.py query_stream: its `deadline`)."""


class _Stopped(Exception):
    """The reader went away: stop serialising."""


def relay_remote(stream, kind: str, fmt: ResultFormat, limit: int,
                 prefixes: dict[str, str] | None = None) -> RemoteAnswer:
    """Parse a remote store's answer (JSON results or N-Triples) and serialise it in `fmt`.

    Streaming: a thread parses and serialises into a small bounded queue that `body` drains,
    so memory stays flat and a slow reader slows the parsing. `state['truncated']` is set
    when the serialiser has finished; an error in the thread is raised from `body`.
    """
    state: dict = {"truncated": None, "rows": 0, "error": None}
    pieces: queue.Queue = queue.Queue(maxsize=16)
    stop = threading.Event()
    done = object()

    def put(item) -> None:
        while True:
            try:
                pieces.put(item, timeout=0.1)
                return
            except queue.Full:
                if stop.is_set():
                    raise _Stopped from None

    def produce() -> None:
        parsed = triples = None
        try:
            if kind == "graph":
                triples = (q.triple if isinstance(q, ox.Quad) else q
                           for q in ox.parse(stream, format=ox.RdfFormat.N_TRIPLES))
                rows, cut = write_triples(fmt, triples, limit, put, prefixes)
            else:
                parsed = ox.parse_query_results(stream, format=ox.QueryResultsFormat.JSON)
                if isinstance(parsed, ox.QueryBoolean):
                    write_boolean(fmt, bool(parsed), put)
                    rows, cut = 1, False
                else:
                    names = [v.value for v in parsed.variables]
                    rows, cut = write_solutions(fmt, names, parsed, limit, put)
            state.update(truncated=cut, rows=rows)
        except _Stopped:
            pass
        except Exception as error:  # noqa: BLE001 - handed to the reader, raised there
            # pyoxigraph's parsed results must be dropped on this thread ("unsendable"): the
            # error goes to the reader without the frames (and their locals) that raised it
            error.__context__ = error.__cause__ = None
            state["error"] = error.with_traceback(None)
        finally:
            parsed = triples = None  # dropped here, on the thread that made them
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            try:
                put(done)
            except _Stopped:
                pass

    def body() -> Iterator[bytes]:
        try:
            while True:
                item = pieces.get()
                if item is done:
                    break
                yield item
            if state["error"] is not None:
                raise state["error"]
        finally:
            stop.set()

    threading.Thread(target=produce, daemon=True, name="filmld-remote-relay").start()
    return RemoteAnswer(fmt.content_type, body(), state, stream)


__all__ = [
    "HTML",
    "RESULT_FORMATS",
    "choose_description_format",
    "choose_result_format",
    "relay_remote",
    "service_description",
]
