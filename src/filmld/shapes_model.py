"""What the shapes pages show: each SHACL shape with its targets, its property shapes (their
paths named by the ontology's labels) and its constraints, as a reader needs them to fix data.

https://www.w3.org/TR/shacl/#constraints-section: every `sh:` parameter other than the ones
that name, target or attach a shape is a constraint, shown as written (`sh:minCount 1`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import RDF_TYPE
from filmld.view_model import Link, labels, link

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DCT = "http://purl.org/dc/terms/"
TARGETS = {SH + "targetClass": "Target class", SH + "targetNode": "Target node",
           SH + "targetSubjectsOf": "Subjects of", SH + "targetObjectsOf": "Objects of"}
NOT_CONSTRAINTS = {RDF_TYPE, SH + "name", SH + "message", SH + "description", SH + "path",
                   SH + "property", SH + "severity", *TARGETS}
REFERENCES = (SH + "property", SH + "node", SH + "not", SH + "or", SH + "and", SH + "xone",
              SH + "qualifiedValueShape")
"""Parameters whose values are shapes: who uses a shape (its `used_by`)."""


@dataclass
class Constraint:
    name: str
    values: list[Link]


@dataclass
class ShapeModel:
    iri: str
    name: str
    title: str
    kind: str
    message: str | None
    severity: str | None = None
    path: Link | None = None
    targets: list[tuple[str, list[Link]]] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    properties: list[ShapeModel] = field(default_factory=list)
    used_by: list[Link] = field(default_factory=list)


@dataclass
class ShapesModel:
    iri: str
    title: str
    description: str | None
    shapes: list[ShapeModel]


class _Graph:
    """The shapes' triples by subject, with the names of shapes and ontology terms."""

    def __init__(self, shapes: list[ox.Triple], ontology: list[ox.Triple], base: str) -> None:
        self.base = base
        self.by_subject: dict[object, list[ox.Triple]] = {}
        for t in shapes:
            self.by_subject.setdefault(t.subject, []).append(t)
        self.names = labels(ontology)
        for t in shapes:
            if t.predicate.value == SH + "name" and isinstance(t.object, ox.Literal):
                self.names[t.subject.value] = t.object.value

    def values(self, subject, predicate: str) -> list:
        return [t.object for t in self.by_subject.get(subject, [])
                if t.predicate.value == predicate]

    def text(self, subject, predicate: str) -> str | None:
        found = [v.value for v in self.values(subject, predicate) if isinstance(v, ox.Literal)]
        return found[0] if found else None

    def items(self, node) -> list:
        """An RDF list's members (`sh:or ( ... )`, `sh:in`), or the node itself."""
        if not isinstance(node, ox.BlankNode) or not self.values(node, RDF + "first"):
            return [node]
        members, seen = [], set()
        while isinstance(node, ox.BlankNode) and node not in seen:
            seen.add(node)
            members += self.values(node, RDF + "first")
            rest = self.values(node, RDF + "rest")
            node = rest[0] if rest else None
        return members

    def link(self, term) -> Link:
        return link(term, self.names, self.base)


def _shape(graph: _Graph, node: ox.NamedNode, users: dict[str, list[Link]]) -> ShapeModel:
    types = {v.value for v in graph.values(node, RDF_TYPE)}
    paths = graph.values(node, SH + "path")
    severity = graph.values(node, SH + "severity")
    shape = ShapeModel(
        iri=node.value, name=node.value.rsplit("/", 1)[-1],
        title=graph.names.get(node.value, node.value.rsplit("/", 1)[-1]),
        kind="Property shape" if paths or SH + "PropertyShape" in types else "Node shape",
        message=graph.text(node, SH + "message"),
        severity=severity[0].value.rsplit("#", 1)[-1] if severity else None,
        path=graph.link(paths[0]) if paths else None,
        used_by=sorted(users.get(node.value, []), key=lambda u: u.href or ""))
    for predicate, title in TARGETS.items():
        targets = sorted((graph.link(v) for v in graph.values(node, predicate)),
                         key=lambda t: t.text.lower())
        if targets:
            shape.targets.append((title, targets))
    constraints: dict[str, list[Link]] = {}
    for t in graph.by_subject.get(node, []):
        if t.predicate.value not in NOT_CONSTRAINTS and t.predicate.value.startswith(SH):
            values = constraints.setdefault(t.predicate.value[len(SH):], [])
            values += [graph.link(v) for v in graph.items(t.object)]  # a list keeps its order
    shape.constraints = [Constraint(name, values) for name, values in sorted(constraints.items())]
    members = sorted((v for v in graph.values(node, SH + "property")
                      if isinstance(v, ox.NamedNode)), key=lambda v: v.value)
    shape.properties = [_shape(graph, member, users) for member in members]
    return shape


def _users(graph: _Graph) -> dict[str, list[Link]]:
    """Shape IRI -> the shapes that use it (as a property shape, in sh:or, sh:not ...)."""
    users: dict[str, list[Link]] = {}
    for subject, triples in graph.by_subject.items():
        for t in triples:
            if t.predicate.value in REFERENCES:
                for used in graph.items(t.object):
                    users.setdefault(used.value, []).append(graph.link(subject))
    return users


def shapes_model(shapes: list[ox.Triple], ontology: list[ox.Triple], base: str) -> ShapesModel:
    """Every shape of the shapes graph that is not a property shape of another, by IRI,
    each with its property shapes."""
    namespace = f"{base}shapes/"
    graph = _Graph(shapes, ontology, base)
    users = _users(graph)
    properties = {t.object.value for t in shapes if t.predicate.value == SH + "property"}
    tops = sorted((s for s in graph.by_subject if isinstance(s, ox.NamedNode)
                   and s.value.startswith(namespace) and s.value != namespace
                   and s.value not in properties), key=lambda s: s.value)
    root = ox.NamedNode(namespace)
    return ShapesModel(
        iri=namespace, title=graph.text(root, DCT + "title") or "filmld shapes",
        description=graph.text(root, DCT + "description"),
        shapes=[_shape(graph, s, users) for s in tops])


def shape(shapes: list[ox.Triple], ontology: list[ox.Triple], base: str,
          iri: str) -> ShapeModel | None:
    """One shape (node or property shape) of the shapes graph, or None if it is none."""
    node = ox.NamedNode(iri)
    if not any(t.subject == node for t in shapes) or iri == f"{base}shapes/":
        return None
    graph = _Graph(shapes, ontology, base)
    return _shape(graph, node, _users(graph))
