"""The contribution policy: what a contribution may say beyond what the shapes check, so the
graph stays in the model (issue 6 review, defects 2, 5, 7, 10). Refusals are report results
(422), in the same shape as SHACL's.

- Subjects are this dataset's resources, written as clean IRIs `{base}id/<kind>/<slug>`
  (RFC 3986 section 6.2.2: no dot segments, no percent-encoded unreserved characters, no
  query, no fragment), or blank nodes reached from them (at most MAX_BLANK_DEPTH deep).
- Every predicate and every class is a term declared in ontology/ (rdf:type, rdfs:label too).
- A new subject (one the store says nothing about) is typed with a class some shape targets,
  the class of its kind: the kind -> class table is read from the curated data.
- owl:sameAs and schema:sameAs point only outside this dataset.
Refusals the shapes can express (Character and Person disjoint) are in shapes/ instead.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH

from filmld.store import Store
from filmld.terms import to_rdflib
from filmld.validation import Report, Result, _report_graph

# A person, their role, an address: film facts need a few levels of blank nodes; a
# 10,000-level chain is refused here, in linear time, before any validation.
MAX_BLANK_DEPTH = 16
# Blank nodes are nested structures ([ ... ] in Turtle): each the value of one triple, so
# they form trees. Shared or cyclic blank nodes are refused: RDFC-1.0 canonicalisation (the
# content hash) takes 8 s on a ring of 400 (it is exponential in the worst case), under the
# write lock. Trees of this size canonicalise in milliseconds.
MAX_BLANK_NODES = 1000
SAME_AS = {str(OWL.sameAs), "https://schema.org/sameAs"}
ALWAYS_ALLOWED = {str(RDF.type), str(RDFS.label)}
PROPERTY_TYPES = {RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty,
                  OWL.AnnotationProperty}
CLASS_TYPES = {RDFS.Class, OWL.Class}
UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")
CLEAN_PATH = re.compile(r"^id/([a-z][a-z0-9-]*)/([A-Za-z0-9][A-Za-z0-9._~-]*)$")
POLICY = "ContributionPolicy"


@dataclass(frozen=True)
class Model:
    """The terms a contribution may use and the class each kind of resource has."""

    properties: frozenset[str]
    classes: frozenset[str]
    kinds: dict[str, frozenset[str]]

    @classmethod
    def from_graphs(cls, ontology: rdflib.Graph, shapes: rdflib.Graph, data: rdflib.Graph,
                    base: str) -> Model:
        properties = {str(s) for t in PROPERTY_TYPES for s in ontology.subjects(RDF.type, t)}
        classes = {str(s) for t in CLASS_TYPES for s in ontology.subjects(RDF.type, t)}
        targeted = {str(c) for c in shapes.objects(None, SH.targetClass)}
        kinds: dict[str, set[str]] = defaultdict(set)
        for subject, cls_ in data.subject_objects(RDF.type):
            match = CLEAN_PATH.match(str(subject)[len(base):]) \
                if str(subject).startswith(base) else None
            if match and str(cls_) in targeted:
                kinds[match.group(1)].add(str(cls_))
        return cls(frozenset(properties | ALWAYS_ALLOWED), frozenset(classes),
                   {k: frozenset(v) for k, v in kinds.items()})


def normalise(iri: str) -> str:
    """RFC 3986 section 6.2.2 syntax-based normalisation: percent-encoded unreserved
    characters decoded (6.2.2.2), dot segments removed (5.2.4); scheme and host lower case."""
    parts = urlsplit(iri)

    def decode(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if re.match(r"[A-Za-z0-9._~-]", char) else match.group(0).upper()

    path = _remove_dot_segments(UNRESERVED.sub(decode, parts.path))
    text = f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
    if parts.query or iri.endswith("?"):
        text += "?" + parts.query
    if parts.fragment or iri.endswith("#"):
        text += "#" + parts.fragment
    return text


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)


class _Results:
    def __init__(self) -> None:
        self.items: list[Result] = []

    def add(self, rule: str, focus: str, message: str, *, path: str | None = None,
            value: str | None = None) -> None:
        label = focus.rstrip("/#").rsplit("/", 1)[-1] or focus
        self.items.append(Result(
            focus=focus, focus_label=label, path=path,
            path_label=path.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if path else None,
            value=value, message=message, severity="Violation", source_shape=None,
            constraint=f"{POLICY}:{rule}"))


def check(triples: list[ox.Triple], model: Model, base: str, store: Store | None) -> Report:
    """The policy results for a contribution (conforms when there are none). `store`
    answers which subjects are new; without one (no store), every subject counts as new."""
    found = _Results()
    ours = f"{base}id/"
    kinds = _subjects(triples, base, ours, model, found)
    _blank_nodes(triples, ours, found)
    for t in triples:
        focus = _name(t.subject)
        if t.predicate.value not in model.properties:
            found.add("declared-property", focus,
                      f"<{t.predicate.value}> is not a property of this dataset's model "
                      "(ontology/); use one it declares", path=t.predicate.value)
        if t.predicate.value == str(RDF.type) and (not isinstance(t.object, ox.NamedNode)
                                                   or t.object.value not in model.classes):
            found.add("declared-class", focus, f"{t.object} is not a class of this dataset's "
                      "model (ontology/); use one it declares", path=str(RDF.type),
                      value=_name(t.object))
        if t.predicate.value in SAME_AS and (not isinstance(t.object, ox.NamedNode)
                                             or t.object.value.startswith(base)):
            found.add("same-as-outside", focus, "sameAs links a resource to the same thing "
                      "in another dataset: point it at an IRI outside this one (to say two "
                      "resources here are one, ask the operator)", path=t.predicate.value,
                      value=_name(t.object))
        if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(base) \
                and normalise(t.object.value) != t.object.value:
            found.add("clean-iri", focus, f"write <{t.object.value}> as "
                      f"<{normalise(t.object.value)}>", path=t.predicate.value,
                      value=t.object.value)
    _new_subjects_are_typed(triples, kinds, model, store, found)
    report = Report(conforms=not found.items, results=found.items)
    report.graph = _graph(found.items)
    return report


def _name(term) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _subjects(triples, base: str, ours: str, model: Model, found: _Results) -> dict[str, str]:
    """Each named subject's kind; results for those that are not clean resources here."""
    kinds: dict[str, str] = {}
    for iri in dict.fromkeys(t.subject.value for t in triples
                             if isinstance(t.subject, ox.NamedNode)):
        clean = normalise(iri)
        parts = urlsplit(iri)
        if not clean.startswith(ours):
            found.add("subject-in-dataset", iri, "a contribution may describe only this "
                      f"dataset's resources (<{ours}<kind>/<slug>>), as subjects; other IRIs "
                      "only as objects")
        elif parts.query or parts.fragment or "?" in iri or "#" in iri:
            found.add("clean-iri", iri, "a resource IRI has no query (?...) or fragment "
                      f"(#...): describe <{clean.split('?')[0].split('#')[0]}> itself")
        elif clean != iri:
            found.add("clean-iri", iri, f"write this IRI in its normal form <{clean}> (RFC "
                      "3986: no ./.. segments, no percent-encoded letters or digits)")
        else:
            match = CLEAN_PATH.match(iri[len(base):])
            if not match or match.group(1) not in model.kinds:
                known = ", ".join(f"id/{k}/" for k in sorted(model.kinds))
                found.add("known-kind", iri, "a resource lives under the path of its kind, "
                          f"one of: {known}, then a slug of letters, digits and - . _ ~")
            else:
                kinds[iri] = match.group(1)
    return kinds


def _blank_nodes(triples, ours: str, found: _Results) -> None:
    """Blank-node subjects must hang from a named subject, at most MAX_BLANK_DEPTH deep:
    one breadth-first walk over an index of blank subjects (linear in the triples)."""
    below: dict[ox.BlankNode, list[ox.BlankNode]] = defaultdict(list)
    roots: set[ox.BlankNode] = set()
    blank_subjects: set[ox.BlankNode] = set()
    uses: dict[ox.BlankNode, int] = defaultdict(int)
    for t in triples:
        if isinstance(t.object, ox.BlankNode):
            uses[t.object] += 1
        if isinstance(t.subject, ox.BlankNode):
            blank_subjects.add(t.subject)
            if isinstance(t.object, ox.BlankNode):
                below[t.subject].append(t.object)
        elif isinstance(t.object, ox.BlankNode):
            roots.add(t.object)
    shared = [node for node, count in uses.items() if count > 1]
    if shared:
        found.add("blank-node-tree", str(shared[0]), f"{len(shared)} blank node(s) are the "
                  "value of more than one triple: a blank node is written once, nested "
                  "([ ... ] in Turtle); give a resource that is shared an IRI of its own")
    if len(blank_subjects | uses.keys()) > MAX_BLANK_NODES:
        found.add("blank-node-count", ours, f"{len(blank_subjects | uses.keys())} blank "
                  f"nodes; at most {MAX_BLANK_NODES} are accepted: give resources IRIs")
    depth = {node: 1 for node in roots}
    queue = deque(roots)
    deepest = 1 if roots else 0
    while queue:
        node = queue.popleft()
        for child in below.get(node, ()):
            if child not in depth:
                depth[child] = depth[node] + 1
                deepest = max(deepest, depth[child])
                queue.append(child)
    if deepest > MAX_BLANK_DEPTH:
        found.add("blank-node-depth", ours, f"blank nodes nested {deepest} levels deep; at "
                  f"most {MAX_BLANK_DEPTH} are accepted: give deeper resources IRIs of their own")
    stray = blank_subjects - depth.keys()
    if stray:
        found.add("blank-node-reached", str(min(stray, key=str)),
                  f"{len(stray)} blank node(s) are subjects but not reached from any of this "
                  f"dataset's resources (<{ours}...>): attach them to one")


def _new_subjects_are_typed(triples, kinds: dict[str, str], model: Model,
                            store: Store | None, found: _Results) -> None:
    existing: set[str] = set()
    if store is not None and kinds:
        values = " ".join(f"<{iri}>" for iri in kinds)
        rows = store.select(f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {values} }} "
                            "?s ?p ?o }")
        existing = {r["s"].value for r in rows}
    types: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        if t.predicate.value == str(RDF.type) and isinstance(t.object, ox.NamedNode):
            types[_name(t.subject)].add(t.object.value)
    for iri, kind in kinds.items():
        if iri in existing:
            continue
        wanted = model.kinds[kind]
        if not types[iri] & wanted:
            names = " or ".join(f"<{c}>" for c in sorted(wanted))
            found.add("new-resource-typed", iri, f"a new resource under id/{kind}/ must be "
                      f"typed with its class: add <{iri}> a {names}", path=str(RDF.type))


def _graph(results: list[Result]) -> rdflib.Graph:
    """The refusal as a sh:ValidationReport, like a SHACL refusal (SHACL 3.6)."""
    graph = rdflib.Graph()
    nodes = []
    for r in results:
        node = rdflib.BNode()
        nodes.append(node)
        graph.add((node, RDF.type, SH.ValidationResult))
        focus = rdflib.BNode(r.focus[2:]) if r.focus.startswith("_:") else rdflib.URIRef(r.focus)
        graph.add((node, SH.focusNode, focus))
        graph.add((node, SH.resultSeverity, SH.Violation))
        graph.add((node, SH.resultMessage, rdflib.Literal(r.message, lang="en")))
        graph.add((node, SH.sourceConstraintComponent,
                   rdflib.URIRef(f"urn:filmld:policy:{r.constraint.split(':', 1)[1]}")))
        if r.path:
            graph.add((node, SH.resultPath, rdflib.URIRef(r.path)))
        if r.value is not None:
            graph.add((node, SH.value, _value_term(r.value)))
    return _report_graph(graph, nodes, not results)


def _value_term(value: str) -> rdflib.term.Node:
    """The term a result's value names (`_name`: an IRI, or a literal or blank node in
    N-Triples), as sh:value must hold it: the RDF term that caused the result (SHACL 3.6.2.3)."""
    if value.startswith("_:"):
        return rdflib.BNode(value[2:])
    if value.startswith('"'):
        line = f"<urn:x:s> <urn:x:p> {value} .".encode()
        return to_rdflib(next(iter(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))).object)
    return rdflib.URIRef(value)
