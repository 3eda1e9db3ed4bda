"""The RDF formats filmld reads and writes: one registry, one entry per format."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class RdfFormat:
    """One RDF serialisation: its short name, media type, file suffix and parser."""

    name: str
    media_type: str
    suffix: str
    oxigraph: ox.RdfFormat
    label: str
    charset: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


TURTLE = RdfFormat("ttl", "text/turtle", "ttl", ox.RdfFormat.TURTLE, "Turtle")
JSONLD = RdfFormat("jsonld", "application/ld+json", "jsonld", ox.RdfFormat.JSON_LD, "JSON-LD",
                   charset=False)
NTRIPLES = RdfFormat("nt", "application/n-triples", "nt", ox.RdfFormat.N_TRIPLES, "N-Triples")
RDFXML = RdfFormat("rdf", "application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML, "RDF/XML")
NQUADS = RdfFormat("nq", "application/n-quads", "nq", ox.RdfFormat.N_QUADS, "N-Quads")
TRIG = RdfFormat("trig", "application/trig", "trig", ox.RdfFormat.TRIG, "TriG")

RDF_FORMATS: dict[str, RdfFormat] = {f.name: f for f in (TURTLE, JSONLD, NTRIPLES, RDFXML)}
"""The formats every description is served in, in order of preference."""

ALL_FORMATS = {f.name: f for f in (TURTLE, JSONLD, NTRIPLES, RDFXML, NQUADS, TRIG)}

_ALIASES = {
    "turtle": TURTLE, "ttl": TURTLE, "text/turtle": TURTLE, "application/x-turtle": TURTLE,
    "jsonld": JSONLD, "json-ld": JSONLD, "application/ld+json": JSONLD, "json": JSONLD,
    "application/json": JSONLD,
    "nt": NTRIPLES, "ntriples": NTRIPLES, "n-triples": NTRIPLES,
    "application/n-triples": NTRIPLES,
    "rdf": RDFXML, "xml": RDFXML, "rdfxml": RDFXML, "rdf/xml": RDFXML, "owl": RDFXML,
    "application/rdf+xml": RDFXML,
    "nq": NQUADS, "nquads": NQUADS, "application/n-quads": NQUADS,
    "trig": TRIG, "application/trig": TRIG,
}


def rdf_format(name: str) -> RdfFormat | None:
    """The format for a short name, file suffix or media type (parameters ignored)."""
    key = name.split(";", 1)[0].strip().lower()
    key = key.removesuffix(".gz")
    if "/" not in key and "." in key:
        key = key.rsplit(".", 1)[1]
    return _ALIASES.get(key)
