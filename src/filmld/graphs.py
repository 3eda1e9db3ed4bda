"""The named graphs filmld mints (`{base}graph/curated`, `ontology`, `shapes`, `provenance`):
what their IRIs answer. A graph IRI names a graph, so it is served like an entity (303 to a
document): the RDF documents hold exactly the graph's triples, written piece by piece (a
graph can be large), and the HTML page a summary: counts, classes, a sample of what it describes, links.

Contribution graphs live at /contributions/<id> and are served there (issue 6), not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import RDF_TYPE, names_of
from filmld.jsonld import stream as jsonld_stream
from filmld.renderers import rdfxml, used_prefixes
from filmld.store import Store
from filmld.view_model import Link, labels, link

VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
SAMPLE_SIZE = 60
CHUNK = 2000
"""Triples per piece written: a piece is serialised, sent and forgotten."""


def graph_prefix(base: str) -> str:
    return f"{base}graph/"


def served_graphs(store: Store, base: str) -> list[str]:
    """The graphs a `/graph/<name>` IRI answers for: those the store holds under our prefix."""
    prefix = graph_prefix(base)
    return [g for g in store.graph_names() if g.startswith(prefix) and "/" not in g[len(prefix):]]


@dataclass
class GraphSummary:
    """What the HTML page of a graph shows."""

    iri: str
    name: str
    triples: int
    subjects: int
    classes: list[tuple[Link, int]] = field(default_factory=list)
    sample: list[Link] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.subjects - len(self.sample), 0)


def _number(rows: list, name: str = "n") -> int:
    return int(rows[0][name].value) if rows and name in rows[0] else 0


def summarise(store: Store, iri: str, base: str) -> GraphSummary:
    """Counts of triples, subjects and instances per class, and the first named subjects."""
    ref = f"<{iri}>"
    triples = _number(store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ref} "
                                   "{ ?s ?p ?o } }"))
    subjects = _number(store.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {ref} "
                                    "{ ?s ?p ?o } }"))
    class_rows = store.select(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {ref} "
                              "{ ?s a ?c FILTER(isIRI(?c)) } } GROUP BY ?c ORDER BY DESC(?n) ?c")
    sample_rows = store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH {ref} {{ ?s ?p ?o "
                               f"FILTER(isIRI(?s)) }} }} ORDER BY ?s LIMIT {SAMPLE_SIZE}")
    classes = [r["c"] for r in class_rows]
    sample = [r["s"] for r in sample_rows]
    names = labels(names_of(store, set(classes) | set(sample)))
    summary = GraphSummary(iri, iri[len(graph_prefix(base)):], triples, subjects)
    summary.classes = [(link(c, names, base), int(r["n"].value))
                       for c, r in zip(classes, class_rows)]
    summary.sample = sorted((link(s, names, base) for s in sample),
                            key=lambda li: li.text.lower())
    return summary


def summary_triples(summary: GraphSummary) -> list[ox.Triple]:
    """The graph described in VoID (the JSON-LD embedded in its HTML page)."""
    graph = ox.NamedNode(summary.iri)

    def number(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD_INTEGER))

    triples = [
        ox.Triple(graph, ox.NamedNode(RDF_TYPE), ox.NamedNode(VOID + "Dataset")),
        ox.Triple(graph, ox.NamedNode(DCT + "title"),
                  ox.Literal(f"filmld graph {summary.name}", language="en")),
        ox.Triple(graph, ox.NamedNode(VOID + "triples"), number(summary.triples)),
        ox.Triple(graph, ox.NamedNode(VOID + "distinctSubjects"), number(summary.subjects)),
    ]
    for i, (cls, count) in enumerate(summary.classes, 1):
        part = ox.NamedNode(f"{summary.iri}#class-{i}")
        triples += [ox.Triple(graph, ox.NamedNode(VOID + "classPartition"), part),
                    ox.Triple(part, ox.NamedNode(VOID + "class"), ox.NamedNode(cls.href)),
                    ox.Triple(part, ox.NamedNode(VOID + "entities"), number(count))]
    return triples


def _by_subject(triples: list[ox.Triple]) -> Iterator[list[ox.Triple]]:
    """Pieces of about CHUNK triples, never splitting one subject's triples."""
    triples = sorted(triples, key=lambda t: (isinstance(t.subject, ox.BlankNode),
                                             t.subject.value, t.predicate.value, str(t.object)))
    piece: list[ox.Triple] = []
    for t in triples:
        if len(piece) >= CHUNK and t.subject != piece[-1].subject:
            yield piece
            piece = []
        piece.append(t)
    if piece:
        yield piece


def write(store: Store, iri: str, fmt: str, base: str) -> Iterator[bytes]:
    """The graph's triples in `fmt` (ttl, nt, jsonld, rdf), as a stream of pieces.

    The store interface reads a graph as one list (`graph_triples`); the bytes are written
    and sent piece by piece. RDF/XML is one XML document, so it is written whole, here and
    now: a graph it cannot carry is a 406 before any header is sent (`renderers.rdfxml`)."""
    triples = store.graph_triples(iri)
    if fmt == "rdf":
        return iter([rdfxml(triples, base)])
    return _pieces(triples, fmt, base)


def _pieces(triples: list[ox.Triple], fmt: str, base: str) -> Iterator[bytes]:
    if fmt == "jsonld":
        yield from jsonld_stream(_by_subject(triples), base)
        return
    if fmt == "nt":
        for piece in _by_subject(triples):
            yield ox.serialize(piece, format=ox.RdfFormat.N_TRIPLES)
        return
    prefixes = used_prefixes(triples, base)
    for i, piece in enumerate(_by_subject(triples)):
        text = ox.serialize(piece, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
        if i:  # the prefixes are declared once, by the first piece
            text = b"".join(line for line in text.splitlines(keepends=True)
                            if not line.startswith(b"@prefix "))
        yield text
