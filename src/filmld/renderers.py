"""Graph -> bytes, one registered renderer per format (Datasette's renderer registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from filmld.formats import JSONLD, NTRIPLES, RDFXML, TURTLE
from filmld.namespaces import prefixes
from filmld.terms import to_rdflib_graph


@dataclass(frozen=True)
class Renderer:
    name: str
    content_type: str
    render: Callable[[list[ox.Triple], str], bytes]


def render_turtle(triples: list[ox.Triple], base: str) -> bytes:
    used = prefixes(base)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used)


def render_ntriples(triples: list[ox.Triple], base: str) -> bytes:
    return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES)


def render_rdfxml(triples: list[ox.Triple], base: str) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.RDF_XML)


def render_jsonld(triples: list[ox.Triple], base: str) -> bytes:
    from filmld.jsonld import compact_jsonld

    return compact_jsonld(to_rdflib_graph(triples), base)


RENDERERS: dict[str, Renderer] = {
    "ttl": Renderer("ttl", TURTLE.content_type, render_turtle),
    "jsonld": Renderer("jsonld", JSONLD.content_type, render_jsonld),
    "nt": Renderer("nt", NTRIPLES.content_type, render_ntriples),
    "rdf": Renderer("rdf", RDFXML.content_type, render_rdfxml),
}
