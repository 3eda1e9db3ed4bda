"""SPARQL 1.1 Protocol pieces that need no web framework: result negotiation, the service
description, and running an accepted query on the store's backend.

https://www.w3.org/TR/sparql11-protocol/ and https://www.w3.org/TR/sparql11-service-description/
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from filmld.errors import BadRequest, NotAcceptable
from filmld.formats import RDF_FORMATS, RdfFormat
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


def choose_result_format(kind: str, accept: str | None, explicit: str | None = None
                         ) -> ResultFormat | str:
    """The format for a query of `kind` ('tabular', 'boolean', 'graph'), or HTML.

    An explicit ?format= wins (406 if it names no format for this kind); then Accept with
    q-values (ties go to the server's order: JSON, XML, CSV, TSV; Turtle, JSON-LD, N-Triples,
    RDF/XML; HTML last); no Accept or */* gets the first. 406 when nothing acceptable fits.
    """
    available = formats_for(kind)
    if explicit:
        if explicit.lower() in ("html", "htm", *_HTML_TYPES):
            return HTML
        found = format_named(explicit, kind)
        if found is None:
            raise NotAcceptable(
                f"format={explicit!r} is not available for this query; available: "
                + ", ".join(f.name for f in available) + ", html",
                details={"available": [f.name for f in available] + [HTML]})
        return found
    if not accept or not accept.strip():
        return available[0]
    candidates: dict[str, ResultFormat | str] = {}
    for fmt in available:
        candidates.setdefault(fmt.media_type, fmt)
    for fmt in available:
        for alias in fmt.aliases:
            if "/" in alias:
                candidates.setdefault(alias, fmt)
    for media_type in _HTML_TYPES:
        candidates[media_type] = HTML
    best = parse_accept_header(accept, MIMEAccept).best_match(list(candidates))
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
    best = parse_accept_header(accept, MIMEAccept).best_match(list(candidates))
    return candidates[best] if best else RDF_FORMATS["ttl"]


# -- service description ---------------------------------------------------------------------
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
_FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
                "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV", "ttl": "Turtle",
                "jsonld": "JSON-LD", "nt": "N-Triples", "rdf": "RDF_XML"}


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
                             "queries have a time limit and a result cap.", language="en")),
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
            state["error"] = error
        finally:
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
    return RemoteAnswer(fmt.content_type, body(), state)


__all__ = [
    "HTML",
    "RESULT_FORMATS",
    "choose_description_format",
    "choose_result_format",
    "relay_remote",
    "service_description",
]
