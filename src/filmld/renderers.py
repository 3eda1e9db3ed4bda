"""Graph -> bytes, one registered renderer per format (Datasette's renderer registry).

Every renderer takes a `Document` (the triples to write, the IRI they describe, the base)
and returns bytes; output is deterministic for the same triples, which makes the ETag of a
cached rendering honest. HTML lives in `filmld.pages` and registers itself here too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.errors import NotAcceptable
from filmld.namespaces import prefixes
from filmld.negotiation import FORMATS
from filmld.xml_chars import XML_FORBIDDEN, xml_guard


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
    prefixes = used_prefixes(triples, base)
    text = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    return _full_iris(text, triples, prefixes)


_TOKEN_END = re.compile(rb"[\s;,.)\]]")


def _full_iris(text: bytes, triples: list[ox.Triple], prefixes: dict[str, str]) -> bytes:
    """Oxigraph writes an IRI under a declared namespace as a prefixed name even when its
    local part needs escapes (`person:cher\\?page\\=1`, a page IRI): valid, but hard to
    read. Such names are written as full IRIs (`<.../cher?page=1>`) instead. Safe as a text
    substitution: a backslash inside a literal is always written doubled, so an escaped
    prefixed name never occurs inside one."""
    odd = {term.value for t in triples for term in (t.subject, t.predicate, t.object)
           if isinstance(term, ox.NamedNode) and not _LOCAL.fullmatch(
               term.value.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
           and any(term.value.startswith(ns) for ns in prefixes.values())}
    for iri in odd:
        probe = ox.serialize([ox.Triple(ox.NamedNode(iri), ox.NamedNode(iri),
                                        ox.NamedNode(iri))],
                             format=ox.RdfFormat.TURTLE, prefixes=prefixes)
        token = probe.splitlines()[-1].split(b" ", 1)[0]
        if b"\\" not in token:  # written plainly (`<...>` or a readable prefixed name)
            continue
        full = f"<{iri}>".encode()
        pieces = text.split(token)
        out = [pieces[0]]
        for before, after in itertools.pairwise(pieces):
            boundary = (not before or before[-1:] in (b" ", b"\n", b"\t", b"(", b"[")) and \
                (not after or _TOKEN_END.match(after))
            out.append(full if boundary else token)
            out.append(after)
        text = b"".join(out)
    return text


def render_ntriples(doc: Document) -> bytes:
    return ox.serialize(_ordered(doc.triples), format=ox.RdfFormat.N_TRIPLES)


def rdfxml(triples: list[ox.Triple], base: str,
           available: tuple[str, ...] = ("ttl", "jsonld", "nt", "html")) -> bytes:
    """RDF/XML, or a 406 naming the formats that can carry what it cannot (RDF 1.1 XML
    Syntax is XML 1.0: see filmld.xml_chars; issue 4): a character, said here with the
    triple holding it, or an IRI Oxigraph's writer could not make an element name of,
    found in its bytes by the same guard as /sparql's streamed XML."""
    for t in triples:
        if isinstance(t.object, ox.Literal) and XML_FORBIDDEN.search(t.object.value):
            char = XML_FORBIDDEN.search(t.object.value).group(0)
            raise NotAcceptable(
                f"a literal of {t.subject} {t.predicate} holds the character "
                f"U+{ord(char):04X}, which RDF/XML (XML 1.0) cannot carry; available: "
                + ", ".join(available), details={"available": list(available)})
    text = ox.serialize(triples, format=ox.RdfFormat.RDF_XML,
                        prefixes=used_prefixes(triples, base))
    out: list[bytes] = []
    xml_guard(out.append, "RDF/XML", list(available))(text)  # and a CR becomes &#13;
    return out[0]


def render_rdfxml(doc: Document) -> bytes:
    return rdfxml(_ordered(doc.triples), doc.base)


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
