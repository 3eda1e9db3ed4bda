"""The part of the store a change can affect: which nodes to validate, and the triples they need.

Validating a contribution against the whole store costs time that grows with the store
(pySHACL: about 2 s at 1k films, 18 s at 10k). A SHACL shape only ever reads a bounded
neighbourhood of its focus node: the triples its paths walk (SHACL 2.3.1, property paths)
and, on the value nodes they reach, what sh:class, sh:node, sh:not, sh:or... read in turn.
`reach(shapes)` works out that bound once from the shapes; `pull` fetches exactly that much
around the touched nodes with a few SPARQL queries, into a plain in-memory rdflib graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from filmld.describe import BATCH  # nodes per UNION query, measured there
from filmld.store import Store
from filmld.terms import to_rdflib

Node = ox.NamedNode | ox.BlankNode
OUT, IN = "out", "in"


@dataclass(frozen=True)
class Reach:
    """How far the shapes look from a focus node.

    `reads` holds (distance, predicate, direction): a shape reads triples with that
    predicate leaving (OUT) or entering (IN) nodes that many hops from its focus node.
    """

    reads: frozenset[tuple[int, str, str]]

    @property
    def depth(self) -> int:
        """Hops of triples to load around a focus node (1: only its own triples)."""
        return 1 + max((d for d, _, _ in self.reads), default=0)

    def affects_linkers(self, predicate: str, direction: str) -> int:
        """How many hops back from a changed node other focus nodes may see the change."""
        return max((d for d, p, way in self.reads if p == predicate and way == direction),
                   default=0)

    def outgoing_at(self, distance: int) -> set[str]:
        return {p for d, p, way in self.reads if d == distance and way == OUT}

    def inverse_at(self, distance: int) -> set[str]:
        return {p for d, p, way in self.reads if d == distance and way == IN}


class UnboundedShapes(ValueError):
    """The shapes use a construct whose reach filmld cannot bound (SPARQL, * and + paths)."""


@dataclass
class _Walk:
    shapes: rdflib.Graph
    reads: set[tuple[int, str, str]] = field(default_factory=set)
    visiting: set = field(default_factory=set)

    def shape(self, shape, distance: int) -> None:
        """A shape applied to nodes `distance` hops from the focus node."""
        key = (shape, distance)
        if key in self.visiting or distance > 8:
            return
        self.visiting.add(key)
        g = self.shapes
        if (shape, SH.sparql, None) in g or (shape, SH.js, None) in g:
            raise UnboundedShapes(f"shape {shape} uses SPARQL or JS constraints")
        path = g.value(shape, SH.path)
        values = distance
        if path is not None:
            values = self.path(path, distance)
            for pair in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
                for other in g.objects(shape, pair):
                    self.reads.add((distance, str(other), OUT))
        # Constraints on the value nodes (the focus node itself for a node shape).
        for _ in g.objects(shape, SH["class"]):
            self.reads.add((values, str(RDF.type), OUT))
        for predicate in (SH.node, SH.qualifiedValueShape, SH["not"], SH.property):
            for nested in g.objects(shape, predicate):
                self.shape(nested, values)
        for predicate in (SH["and"], SH["or"], SH.xone):
            for members in g.objects(shape, predicate):
                for nested in Collection(g, members):
                    self.shape(nested, values)

    def path(self, path, distance: int) -> int:
        """Record what a path reads; return the distance of the nodes it reaches."""
        g = self.shapes
        if isinstance(path, rdflib.URIRef):
            self.reads.add((distance, str(path), OUT))
            return distance + 1
        if (path, RDF.first, None) in g:  # sequence path
            for step in Collection(g, path):
                distance = self.path(step, distance)
            return distance
        inverse = g.value(path, SH.inversePath)
        if isinstance(inverse, rdflib.URIRef):
            self.reads.add((distance, str(inverse), IN))
            return distance + 1
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            return max(self.path(step, distance) for step in Collection(g, alternatives))
        raise UnboundedShapes(f"path {path} (inverse of a complex path, *, + or ?) "
                              "has no bounded length")


def reach(shapes: rdflib.Graph) -> Reach:
    """What every shape in the graph reads, from its targets outwards."""
    walk = _Walk(shapes)
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    roots = {s for t in targets for s in shapes.subjects(t, None)}
    roots |= set(shapes.subjects(RDF.type, SH.NodeShape))
    roots |= {s for s in shapes.subjects(RDF.type, SH.PropertyShape)
              if (None, SH.property, s) not in shapes}
    for shape in roots:
        walk.shape(shape, 0)
    for predicate in shapes.objects(None, SH.targetSubjectsOf):
        walk.reads.add((0, str(predicate), OUT))
    for predicate in shapes.objects(None, SH.targetObjectsOf):
        walk.reads.add((0, str(predicate), IN))
    walk.reads.add((0, str(RDF.type), OUT))  # class targets
    return Reach(frozenset(walk.reads))


# -- pulling the neighbourhood from the store -------------------------------------------

def _ref(node: ox.NamedNode) -> str:
    return f"<{node.value}>"


# One block per node joined with UNION, the node written out as a constant in each: with
# `VALUES ?s { ... }` instead, pyoxigraph 0.5 may scan every `?s rdf:type ?o` of the store
# first (measured: 84 ms at 3k films against 1 ms), and the cost would grow with the store.
def _outgoing(nodes: list[ox.NamedNode], predicates: set[str] | None) -> str:
    """Outgoing triples of the nodes (only `predicates` if given), with two levels of blank
    nodes below them (structured values), in one query so blank node identifiers agree."""
    closure = ("OPTIONAL { ?o ?p1 ?o1 FILTER(isBlank(?o)) "
               "OPTIONAL { ?o1 ?p2 ?o2 FILTER(isBlank(?o1)) } }")
    blocks = []
    for node in nodes:
        if predicates is None:
            blocks.append(f"{{ BIND({_ref(node)} AS ?s) {_ref(node)} ?p ?o {closure} }}")
        else:
            blocks += [f"{{ BIND({_ref(node)} AS ?s) BIND(<{p}> AS ?p) {_ref(node)} <{p}> ?o "
                       f"{closure} }}" for p in sorted(predicates)]
    return "SELECT ?s ?p ?o ?p1 ?o1 ?p2 ?o2 WHERE { " + " UNION ".join(blocks) + " }"


def _incoming(nodes: list[ox.NamedNode], predicates: set[str] | None) -> str:
    """Triples pointing at the nodes (only `predicates` if given)."""
    blocks = []
    for node in nodes:
        if predicates is None:
            blocks.append(f"{{ BIND({_ref(node)} AS ?o) ?s ?p {_ref(node)} }}")
        else:
            blocks += [f"{{ BIND({_ref(node)} AS ?o) BIND(<{p}> AS ?p) ?s <{p}> {_ref(node)} }}"
                       for p in sorted(predicates)]
    return "SELECT ?s ?p ?o WHERE { " + " UNION ".join(blocks) + " }"


def touched(store: Store, triples: list[ox.Triple], shape_reach: Reach, *,
            removed: bool = False) -> set[Node]:
    """The nodes whose validity a contribution (or, `removed`, a withdrawal) can change.

    The subjects and objects of its triples, and, where the shapes look at a node from
    further away (a sh:class check reads the rdf:type of the node a property points to),
    the nodes that link to a changed node, as many hops back as the shapes look.
    """
    focus: set[Node] = set()
    back: dict[Node, int] = {}
    for t in triples:
        focus.add(t.subject)
        if isinstance(t.object, (ox.NamedNode, ox.BlankNode)):
            focus.add(t.object)
    # Triples already stored change nothing: restating `<person> a schema:Person` must not
    # send us through every role of a busy actor.
    news = [t for t in triples if shape_reach.affects_linkers(t.predicate.value, OUT)
            or shape_reach.affects_linkers(t.predicate.value, IN)]
    stored = set() if removed else already_stored(store, news)
    for t in news:
        if t in stored:
            continue
        hops = shape_reach.affects_linkers(t.predicate.value, IN)
        if hops and isinstance(t.object, (ox.NamedNode, ox.BlankNode)):
            back[t.object] = max(back.get(t.object, 0), hops)
        hops = shape_reach.affects_linkers(t.predicate.value, OUT)
        if hops:
            back[t.subject] = max(back.get(t.subject, 0), hops)
    frontier = {n: hops for n, hops in back.items() if hops > 0}
    while frontier:
        named = [n for n in frontier if isinstance(n, ox.NamedNode)]
        linkers: list[tuple[Node, Node]] = []
        for chunk in _chunks(named, BATCH):
            rows = store.select(_incoming(chunk, None))
            linkers += [(r["s"], r["o"]) for r in rows]
        linkers += [(t.subject, t.object) for t in triples if t.object in frontier]
        following: dict[Node, int] = {}
        for linker, target in linkers:
            left = frontier[target] - 1
            if left > 0 and linker not in focus:
                following[linker] = max(following.get(linker, 0), left)
            focus.add(linker)
        frontier = following
    return focus


def already_stored(store: Store, triples: list[ox.Triple]) -> set[ox.Triple]:
    """Which of the triples (without blank nodes) the store already holds, in one query."""
    ground = [t for t in triples if not isinstance(t.subject, ox.BlankNode)
              and not isinstance(t.object, ox.BlankNode)]
    found: set[ox.Triple] = set()
    for chunk in _chunks(ground, BATCH):
        blocks = [f"{{ BIND({i} AS ?i) {t.subject} {t.predicate} {t.object} }}"
                  for i, t in enumerate(chunk)]
        rows = store.select("SELECT ?i WHERE { " + " UNION ".join(blocks) + " }")
        found |= {chunk[int(r["i"].value)] for r in rows}
    return found


def only_in(store: Store, graph: str, triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples of `graph` that no other graph holds (what dropping it takes away)."""
    ground = [t for t in triples if not isinstance(t.subject, ox.BlankNode)
              and not isinstance(t.object, ox.BlankNode)]
    elsewhere: set[ox.Triple] = set()
    for chunk in _chunks(ground, BATCH):
        blocks = [f"{{ BIND({i} AS ?i) GRAPH ?g {{ {t.subject} {t.predicate} {t.object} }} "
                  f"FILTER(?g != <{graph}>) }}" for i, t in enumerate(chunk)]
        rows = store.select("SELECT DISTINCT ?i WHERE { " + " UNION ".join(blocks) + " }")
        elsewhere |= {chunk[int(r["i"].value)] for r in rows}
    return [t for t in triples if t not in elsewhere]


def pull(store: Store, focus: Iterable[Node], shape_reach: Reach,
         extra: list[ox.Triple] = ()) -> list[ox.Triple]:
    """The store's triples within the shapes' reach of the focus nodes.

    `extra` (the contribution) counts as if it were stored when following links outwards.
    """
    found: dict[ox.Triple, None] = {}
    seen: set[Node] = set()
    frontier = set(focus)
    for distance in range(shape_reach.depth):
        seen |= frontier
        named = [n for n in frontier if isinstance(n, ox.NamedNode)]
        reached: set[Node] = set()
        # The focus nodes' own triples in full (labels for the report, every path); further
        # out only what the shapes read there (the rdf:type a sh:class checks).
        wanted = None if distance == 0 else shape_reach.outgoing_at(distance)
        if named and wanted != set():
            for chunk in _chunks(named, BATCH):
                for row in store.select(_outgoing(chunk, wanted)):
                    triple = ox.Triple(row["s"], row["p"], row["o"])
                    found.setdefault(triple, None)
                    reached.add(row["o"])
                    if "p1" in row:
                        found.setdefault(ox.Triple(row["o"], row["p1"], row["o1"]), None)
                        if "p2" in row:
                            found.setdefault(ox.Triple(row["o1"], row["p2"], row["o2"]), None)
        inverse = shape_reach.inverse_at(distance)
        if named and inverse:
            for chunk in _chunks(named, BATCH):
                rows = store.select(_incoming(chunk, inverse))
                for row in rows:
                    found.setdefault(ox.Triple(row["s"], row["p"], row["o"]), None)
                    reached.add(row["s"])
        reached |= {t.object for t in extra if t.subject in frontier}
        frontier = {n for n in reached if isinstance(n, (ox.NamedNode, ox.BlankNode))} - seen
    return list(found)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_graph(triples: Iterable[ox.Triple], graph: rdflib.Graph) -> rdflib.Graph:
    """Add triples to a plain in-memory rdflib graph (never one backed by pyoxigraph:
    pySHACL's many small lookups against it are quadratic in the store's size)."""
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph
