"""What an entity IRI returns: its triples, the blank nodes they reach, its incoming links,
and the labels and types of everything it links to (so no second request is needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.store import Store

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SCHEMA_NAME = "https://schema.org/name"
NAMING = (RDF_TYPE, RDFS_LABEL, SCHEMA_NAME)


@dataclass
class Description:
    """The triples about one IRI; `core` are its own, `context` the names of its neighbours."""

    subject: str
    outgoing: list[ox.Triple] = field(default_factory=list)
    incoming: list[ox.Triple] = field(default_factory=list)
    context: list[ox.Triple] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)

    @property
    def triples(self) -> list[ox.Triple]:
        seen: dict[ox.Triple, None] = {}
        for t in (*self.outgoing, *self.incoming, *self.context):
            seen.setdefault(t, None)
        return list(seen)


# One query, so blank node labels agree; two levels of blank nodes (lists, structured values).
_OUTGOING = """CONSTRUCT { $S ?p ?o . ?o ?p1 ?o1 . ?o1 ?p2 ?o2 } WHERE {
  $S ?p ?o .
  OPTIONAL { ?o ?p1 ?o1 . FILTER(isBlank(?o))
    OPTIONAL { ?o1 ?p2 ?o2 . FILTER(isBlank(?o1)) } }
}"""


def _iri(value: str) -> str:
    if any(c in value for c in '<>"{}|^`\\ \n'):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def describe(store: Store, iri: str) -> Description:
    subject = ox.NamedNode(iri)
    desc = Description(iri)
    ref = _iri(iri)
    desc.outgoing = store.construct(_OUTGOING.replace("$S", ref))
    for row in store.select(f"SELECT ?s ?p WHERE {{ ?s ?p {ref} }}"):
        desc.incoming.append(ox.Triple(row["s"], row["p"], subject))
    neighbours = {t.object for t in desc.outgoing if isinstance(t.object, ox.NamedNode)}
    neighbours |= {t.subject for t in desc.incoming if isinstance(t.subject, ox.NamedNode)}
    neighbours |= {t.predicate for t in (*desc.outgoing, *desc.incoming)}
    neighbours.discard(subject)
    desc.context = names_of(store, neighbours)
    return desc


def names_of(store: Store, nodes: set) -> list[ox.Triple]:
    """rdf:type, rdfs:label and schema:name of each node, in one query."""
    if not nodes:
        return []
    values = " ".join(_iri(n.value) for n in nodes)
    rows = store.select(
        f"SELECT ?x ?p ?v WHERE {{ VALUES ?x {{ {values} }} VALUES ?p {{ "
        + " ".join(f"<{p}>" for p in NAMING) + " } ?x ?p ?v }")
    return [ox.Triple(r["x"], r["p"], r["v"]) for r in rows]
