"""Compact JSON-LD with filmld's published @context, so plain JSON clients read names.

The context (served at /context.jsonld, and embedded whole in every document so that no
client, and no test, needs a second request or the network) is a fixed table: schema.org's
own short names for schema.org terms (`name`, `actor`, `character` ...), our ontology's
local names, `id` and `type` for @id and @type, and English as the default language, so
`{"name": "Mask"}` means "Mask"@en. It only grows; a term never changes meaning.

Documents are written by hand rather than by a generic compaction algorithm so that they
read like plain JSON: the described entity first, and every node it reaches embedded where
it is first referenced (a film's `actor` holds the roles, each with its `actor` and
`character` and their names). https://www.w3.org/TR/json-ld11/#compacted-document-form
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import pyoxigraph as ox
import rdflib

from filmld.namespaces import COMMON_PREFIXES
from filmld.terms import from_rdflib_graph

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# term -> (prefix:local, coercion); coercion "@id" for links, an xsd datatype, or None.
_SCHEMA_TERMS = {
    "name": None, "description": None, "alternateName": None, "text": None,
    "genre": None, "keywords": None, "jobTitle": None, "characterName": None,
    "inLanguage": None, "encodingFormat": None, "position": None, "identifier": None,
    "datePublished": "xsd:date", "birthDate": "xsd:date", "deathDate": "xsd:date",
    "actor": "@id", "director": "@id", "sameAs": "@id", "parent": "@id",
    "children": "@id", "memberOf": "@id", "member": "@id", "containedInPlace": "@id",
    "byArtist": "@id", "location": "@id", "about": "@id", "isBasedOn": "@id",
    "url": "@id",
}
_SCHEMA_CLASSES = ("Movie", "Person", "PerformanceRole", "Role", "Place", "Event",
                   "MusicRecording", "MedicalCondition", "MedicalSymptom", "Organization",
                   "CreativeWork", "DigitalDocument", "DefinedTerm", "Thing")
_OUR_TERMS = {
    "character": "@id", "basedOnPerson": "@id", "basedOnStoryOf": "@id", "motherOf": "@id",
    "boyfriendOf": "@id", "girlfriendOf": "@id", "firstLoveOf": "@id",
    "bestFriendOf": "@id", "motivatedBy": "@id", "acceptsWithoutQuestion": "@id",
    "givesLoveAndRespectTo": "@id", "treatedWith": "@id", "overcomes": "@id",
    "hasTrait": "@id", "atOddsWith": "@id", "hasCondition": "@id", "deathEvent": "@id",
    "plotEvent": "@id", "involvesCharacter": "@id", "theme": "@id", "setting": "@id",
    "soundtrack": "@id", "playsDuring": "@id",
    "settingTime": None, "settingYear": "xsd:gYear", "goal": None,
    "lifeExpectancyOutlived": None, "plotPosition": None,
}
_OUR_CLASSES = ("Character", "Theme", "Trait", "Attitude", "PlotSummary")
_OTHER_TERMS = {
    "label": ("rdfs:label", None), "comment": ("rdfs:comment", None),
    "source": ("dct:source", "@id"), "license": ("dct:license", "@id"),
    "primaryTopic": ("foaf:primaryTopic", "@id"),
    "totalItems": ("hydra:totalItems", None), "itemsPerPage": ("hydra:itemsPerPage", None),
    "next": ("hydra:next", "@id"), "previous": ("hydra:previous", "@id"),
    "first": ("hydra:first", "@id"), "last": ("hydra:last", "@id"),
}
PREFIXES = {**COMMON_PREFIXES, "hydra": "http://www.w3.org/ns/hydra/core#"}
# The xsd:integer literals a JSON number carries exactly: canonical ones (`-0` would read
# back as `0`) within IEEE 754's exact integers (RFC 8259 section 6), since a JSON parser may
# read a larger number as a double and a JSON-LD processor writes every number from 10^21 up
# as an xsd:double (JSON-LD 1.1 section 8.6). Any other stays a value object.
_NATIVE_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,15}")
_MAX_EXACT = 2**53 - 1


def context(base: str) -> dict:
    """The @context served at /context.jsonld (the `@context` value, not the document)."""
    ctx: dict = {"@version": 1.1, "@language": "en", "id": "@id", "type": "@type"}
    ctx.update(PREFIXES)
    ctx["filmld"] = f"{base}ontology/"
    for name in _SCHEMA_CLASSES:
        ctx[name] = f"schema:{name}"
    for name in _OUR_CLASSES:
        ctx[name] = f"filmld:{name}"
    terms = {**{k: (f"schema:{k}", v) for k, v in _SCHEMA_TERMS.items()},
             **{k: (f"filmld:{k}", v) for k, v in _OUR_TERMS.items()}, **_OTHER_TERMS}
    for name, (iri, coercion) in terms.items():
        ctx[name] = {"@id": iri, "@type": coercion} if coercion else {"@id": iri}
    return ctx


class _Compactor:
    """IRI <-> term tables for one base, built once and reused for every document."""

    def __init__(self, base: str) -> None:
        self.context = context(base)
        self.prefixes = {k: v for k, v in self.context.items()
                         if isinstance(v, str) and v.endswith(("/", "#"))}
        # Longest namespace first, so filmld's ontology/ wins over a shorter match.
        self._by_length = sorted(self.prefixes.items(), key=lambda kv: -len(kv[1]))
        self.terms: dict[str, tuple[str, str | None]] = {}
        self.classes: dict[str, str] = {}
        for name, value in self.context.items():
            if name.startswith("@") or name in ("id", "type") or name in self.prefixes:
                continue
            if isinstance(value, str):
                self.classes[self.expand(value)] = name
            else:
                coercion = value.get("@type")
                if coercion not in (None, "@id"):
                    coercion = self.expand(coercion)
                self.terms[self.expand(value["@id"])] = (name, coercion)

    def expand(self, compact: str) -> str:
        prefix, _, local = compact.partition(":")
        return self.prefixes[prefix] + local if prefix in self.prefixes else compact

    def compact_iri(self, iri: str) -> str:
        for prefix, namespace in self._by_length:
            if iri.startswith(namespace):
                local = iri[len(namespace):]
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", local):
                    return f"{prefix}:{local}"
        return iri

    def key(self, predicate: str) -> tuple[str, str | None]:
        return self.terms.get(predicate) or (self.compact_iri(predicate), None)

    def literal(self, value: ox.Literal, coercion: str | None):
        datatype = value.datatype.value if value.datatype else XSD_STRING
        if value.language:
            if value.language == "en" and coercion is None:
                return value.value
            return {"@value": value.value, "@language": value.language}
        if coercion is not None and coercion == datatype:
            return value.value
        if coercion is None and datatype == XSD + "integer" and _NATIVE_INTEGER.fullmatch(
                value.value) and abs(int(value.value)) <= _MAX_EXACT:
            return int(value.value)
        if coercion is None and datatype == XSD + "boolean" and value.value in ("true", "false"):
            return value.value == "true"
        if datatype == XSD_STRING:
            return {"@value": value.value}
        return {"@value": value.value, "@type": self.compact_iri(datatype)}


_COMPACTORS: dict[str, _Compactor] = {}


def _compactor(base: str) -> _Compactor:
    if base not in _COMPACTORS:
        _COMPACTORS[base] = _Compactor(base)
    return _COMPACTORS[base]


def _term_key(term) -> tuple:
    return (isinstance(term, ox.BlankNode), term.value)


def document(triples: Iterable[ox.Triple], base: str, main: str | None = None, *,
             keep_blank_labels: bool = False) -> dict:
    """A compact JSON-LD document: `main` first, every reachable node embedded once.

    Blank nodes get fresh labels (`_:b0` ...) unless `keep_blank_labels`, which keeps the
    store's labels so that documents written piece by piece agree on them."""
    compactor = _compactor(base)
    by_subject: dict = {}
    references: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
        if not isinstance(t.object, ox.Literal) and t.predicate.value != RDF_TYPE:
            references[t.object] = references.get(t.object, 0) + 1
    emitted: set = set()
    labels: dict = {}

    def bnode_id(node: ox.BlankNode) -> str:
        if keep_blank_labels:
            return f"_:{node.value}"
        return labels.setdefault(node, f"_:b{len(labels)}")

    def embeddable(node) -> bool:
        return not keep_blank_labels and references.get(node, 0) == 1

    def node_object(subject, named: bool = False) -> dict:
        emitted.add(subject)
        node: dict = {}
        if isinstance(subject, ox.NamedNode):
            node["id"] = subject.value
        elif named or not embeddable(subject):
            node["id"] = bnode_id(subject)
        grouped: dict[str, list] = {}
        types: list[str] = []
        for t in sorted(by_subject.get(subject, []),
                        key=lambda t: (t.predicate.value, _term_key(t.object))):
            if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                types.append(compactor.classes.get(t.object.value)
                             or compactor.compact_iri(t.object.value))
                continue
            key, coercion = compactor.key(t.predicate.value)
            grouped.setdefault(key, []).append(value(t.object, coercion))
        if types:
            node["type"] = types[0] if len(types) == 1 else types
        for key in sorted(grouped, key=lambda k: (k not in ("name", "label"), k)):
            values = grouped[key]
            node[key] = values[0] if len(values) == 1 else values
        return node

    def value(obj, coercion):
        if isinstance(obj, ox.Literal):
            return compactor.literal(obj, coercion)
        if obj in by_subject and obj not in emitted and (
                isinstance(obj, ox.NamedNode) or embeddable(obj)):
            return node_object(obj)
        if isinstance(obj, ox.BlankNode):
            return {"id": bnode_id(obj)}
        return obj.value if coercion == "@id" else {"id": obj.value}

    roots = []
    order = sorted(by_subject, key=_term_key)
    if main is not None and ox.NamedNode(main) in by_subject:
        order.insert(0, ox.NamedNode(main))
    # Roots: the main entity, then named nodes, then blank nodes nobody references once.
    for subject in order:
        if subject in emitted:
            continue
        if isinstance(subject, ox.BlankNode) and embeddable(subject):
            continue  # it will be embedded where it is referenced
        roots.append(node_object(subject))
    for subject in order:  # blank nodes in cycles only reachable from each other: the
        if subject not in emitted:  # root names itself, the reference closing the cycle
            roots.append(node_object(subject, named=True))  # points back at it
    return {"@context": compactor.context, "@graph": roots}


def dumps(data: dict) -> bytes:
    """The context on one line (it is the same in every document), the graph indented."""
    if set(data) != {"@context", "@graph"}:
        return json.dumps(data, ensure_ascii=False, indent=1).encode()
    graph = json.dumps(data["@graph"], ensure_ascii=False, indent=1)
    return (f'{{"@context": {json.dumps(data["@context"], ensure_ascii=False)},\n'
            f'"@graph": {graph}}}\n').encode()


def render(triples: list[ox.Triple], base: str, main: str | None = None) -> bytes:
    return dumps(document(triples, base, main))


def compact_jsonld(graph: rdflib.Graph, base: str) -> bytes:
    """An rdflib graph as filmld's compact JSON-LD (the CLI's dump)."""
    return render(from_rdflib_graph(graph), base)


def stream(subject_groups: Iterator[list[ox.Triple]], base: str) -> Iterator[bytes]:
    """A JSON-LD document written group by group (triples grouped by subject), so a dump
    never holds the dataset in memory; a subject split across groups is still one graph."""
    compactor = _compactor(base)
    yield b'{"@context": ' + json.dumps(compactor.context).encode() + b',\n"@graph": [\n'
    first = True
    for group in subject_groups:
        for node in document(group, base, keep_blank_labels=True)["@graph"]:
            yield (b"" if first else b",\n") + json.dumps(node, ensure_ascii=False).encode()
            first = False
    yield b"\n]}\n"
