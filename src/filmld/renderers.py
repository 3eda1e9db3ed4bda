"""Graph -> bytes, one registered renderer per format (Datasette's renderer registry).

Every renderer takes a `Document` (the triples to write, the IRI they describe, the base)
and returns bytes; output is deterministic for the same triples, which makes the ETag of a
cached rendering honest. HTML lives in `filmld.pages` and registers itself here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.namespaces import prefixes
from filmld.negotiation import FORMATS


@dataclass
class Document:
    """What one response describes: `triples` about `iri`, minted under `base`.

    `description` and `store` are there for the HTML page, which shows more than triples
    (the cast table, the plot in order); RDF renderers only need `triples`.
    """

    iri: str
    triples: list[ox.Triple]
    base: str
    description: object | None = None
    store: object | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Renderer:
    name: str
    content_type: str
    render: Callable[[Document], bytes]


_XSD = "http://www.w3.org/2001/XMLSchema#"
# Datatypes Turtle writes without naming them (numbers, booleans, plain and language strings).
_WRITTEN_BARE = {_XSD + "string", _XSD + "integer", _XSD + "decimal", _XSD + "double",
                 _XSD + "boolean", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def used_prefixes(triples: list[ox.Triple], base: str) -> dict[str, str]:
    """Only the prefixes some IRI of `triples` is written with (longest namespace wins)."""
    available = sorted(prefixes(base).items(), key=lambda kv: -len(kv[1]))
    used: dict[str, str] = {}
    seen: set[str] = set()
    for t in triples:
        terms = [t.subject, t.predicate, t.object]
        if isinstance(t.object, ox.Literal) and t.object.datatype is not None and \
                t.object.datatype.value not in _WRITTEN_BARE:
            terms.append(t.object.datatype)
        for term in terms:
            if not isinstance(term, ox.NamedNode) or term.value in seen:
                continue
            seen.add(term.value)
            for name, namespace in available:
                if term.value.startswith(namespace) and \
                        _LOCAL.fullmatch(term.value[len(namespace):]):
                    used[name] = namespace
                    break
    return dict(sorted(used.items()))


def _ordered(triples: list[ox.Triple]) -> list[ox.Triple]:
    return sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def render_turtle(triples, base: str, main: str | None = None) -> bytes:
    """Turtle with only the prefixes it uses; `triples` may be a Document or a list."""
    if isinstance(triples, Document):
        triples = triples.triples
    triples = _ordered(list(triples))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE,
                        prefixes=used_prefixes(triples, base))


def render_ntriples(doc: Document) -> bytes:
    return ox.serialize(_ordered(doc.triples), format=ox.RdfFormat.N_TRIPLES)


def render_rdfxml(doc: Document) -> bytes:
    triples = _ordered(doc.triples)
    return ox.serialize(triples, format=ox.RdfFormat.RDF_XML,
                        prefixes=used_prefixes(triples, doc.base))


def render_jsonld(doc: Document) -> bytes:
    from filmld.jsonld import render

    return render(doc.triples, doc.base, doc.iri)


def _render_html(doc: Document) -> bytes:
    from filmld.pages import render_page

    return render_page(doc)


RENDERERS: dict[str, Renderer] = {
    "ttl": Renderer("ttl", FORMATS["ttl"].content_type,
                    lambda doc: render_turtle(doc.triples, doc.base)),
    "jsonld": Renderer("jsonld", FORMATS["jsonld"].content_type, render_jsonld),
    "nt": Renderer("nt", FORMATS["nt"].content_type, render_ntriples),
    "rdf": Renderer("rdf", FORMATS["rdf"].content_type, render_rdfxml),
    "html": Renderer("html", FORMATS["html"].content_type, _render_html),
}
