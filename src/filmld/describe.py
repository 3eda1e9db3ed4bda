"""What an entity IRI returns: its triples, the blank nodes they reach, its incoming links,
and the labels and types of everything it links to (so no second request is needed).

A description is a list of *statements*: each outgoing triple together with the blank nodes
its object reaches (a Concise Bounded Description, https://www.w3.org/submission/CBD/), and
each incoming triple. Statements are sorted, then paged `page_size` triples at a time: a
statement is never split across pages, so a page is never silently truncated. The names and
types of the neighbours of the statements on a page, the labels of their classes, and the
entity's own type and names (`context`) come on top of the page, so every page can be shown
with names whichever statements it holds; and so do the outgoing triples of the schema.org Role nodes it reaches (a film -> schema:actor ->
role -> actor and character), which are n-ary relations a reader needs to see whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.store import Store

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SCHEMA_NAME = "https://schema.org/name"
SCHEMA = "https://schema.org/"
NAMING = (RDF_TYPE, RDFS_LABEL, SCHEMA_NAME)
ROLE_TYPES = {f"{SCHEMA}Role", f"{SCHEMA}PerformanceRole", f"{SCHEMA}OrganizationRole",
              f"{SCHEMA}LinkRole"}


@dataclass
class Statement:
    """One triple of the description, with the blank-node triples its object reaches."""

    triple: ox.Triple
    closure: list[ox.Triple] = field(default_factory=list)

    @property
    def size(self) -> int:
        return 1 + len(self.closure)


@dataclass
class Description:
    """One page of the triples about one IRI.

    `outgoing` and `incoming` are this page's own statements (their triples); `context`
    the names and types of their neighbours and the Role nodes they reach; `total` the
    triples of the whole description, all pages.
    """

    subject: str
    outgoing: list[ox.Triple] = field(default_factory=list)
    incoming: list[ox.Triple] = field(default_factory=list)
    context: list[ox.Triple] = field(default_factory=list)
    page: int = 1
    pages: int = 1
    total: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)

    @property
    def triples(self) -> list[ox.Triple]:
        seen: dict[ox.Triple, None] = {}
        for t in (*self.outgoing, *self.incoming, *self.context):
            seen.setdefault(t, None)
        return list(seen)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


# One query, so blank node labels agree; three levels of blank nodes (lists, structured
# values). SPARQL cannot name a blank node in a second query, hence the fixed depth.
_OUTGOING = """SELECT ?p ?o ?p1 ?o1 ?p2 ?o2 ?p3 ?o3 WHERE {
  $S ?p ?o .
  OPTIONAL { ?o ?p1 ?o1 . FILTER(isBlank(?o))
    OPTIONAL { ?o1 ?p2 ?o2 . FILTER(isBlank(?o1))
      OPTIONAL { ?o2 ?p3 ?o3 . FILTER(isBlank(?o2)) } } }
}"""


_NOT_IN_IRI = re.compile('[<>"{}|^`\\\\\x00-\x20\x7f]')


def is_iri(value: str) -> bool:
    """Whether `value` is an absolute IRI (RFC 3987: no space, control character, `<>"{}|^`\\`,
    and `%` only as a percent-encoded octet), the only thing a description can be about."""
    if _NOT_IN_IRI.search(value):
        return False
    try:
        ox.NamedNode(value)  # Oxigraph's own IRI check: what the store could hold
    except ValueError:
        return False
    return True


def iri_ref(value: str) -> str:
    """`<value>` for a SPARQL query; refuses anything that could break out of the IRI."""
    if not is_iri(value):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def _sort_key(term) -> tuple:
    kind = 0 if isinstance(term, ox.NamedNode) else 1 if isinstance(term, ox.Literal) else 2
    return (kind, term.value, getattr(term, "language", None) or "",
            getattr(getattr(term, "datatype", None), "value", ""))


def statements(store: Store, iri: str) -> tuple[list[Statement], list[Statement]]:
    """Every outgoing statement (with its blank-node closure) and every incoming one."""
    subject = ox.NamedNode(iri)
    ref = iri_ref(iri)
    outgoing: dict[ox.Triple, Statement] = {}
    for row in store.select(_OUTGOING.replace("$S", ref)):
        head = ox.Triple(subject, row["p"], row["o"])
        statement = outgoing.setdefault(head, Statement(head))
        for level in ("1", "2", "3"):
            parent = row["o" if level == "1" else f"o{int(level) - 1}"]
            if f"p{level}" not in row:
                break
            triple = ox.Triple(parent, row[f"p{level}"], row[f"o{level}"])
            if triple not in statement.closure:
                statement.closure.append(triple)
    incoming = [Statement(ox.Triple(row["s"], row["p"], subject))
                for row in store.select(f"SELECT ?s ?p WHERE {{ ?s ?p {ref} }}")]
    out = sorted(outgoing.values(), key=lambda s: (s.triple.predicate.value != RDF_TYPE,
                                                  s.triple.predicate.value,
                                                  _sort_key(s.triple.object)))
    incoming.sort(key=lambda s: (s.triple.predicate.value, _sort_key(s.triple.subject)))
    return out, incoming


@dataclass
class _Tagged:
    tag: str
    statement: Statement

    @property
    def size(self) -> int:
        return self.statement.size


def _paginate(items: list[_Tagged], page_size: int) -> list[list[_Tagged]]:
    """Statements in order, a new page when the next would pass `page_size` triples."""
    pages: list[list[_Tagged]] = [[]]
    used = 0
    for item in items:
        if pages[-1] and used + item.size > page_size:
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += item.size
    return pages


def describe(store: Store, iri: str, *, page: int = 1, page_size: int = 0) -> Description:
    """Page `page` (from 1) of the description of `iri`; `page_size` 0 means one page.

    A page past the last is empty (`exists` is False), so it answers 404 like an unknown IRI.
    """
    out, inc = statements(store, iri)
    everything = [*(("out", s) for s in out), *(("in", s) for s in inc)]
    total = sum(s.size for _, s in everything)
    if page_size > 0:
        wrapped = [_Tagged(tag, s) for tag, s in everything]
        pages = _paginate(wrapped, page_size)
    else:
        pages = [[_Tagged(tag, s) for tag, s in everything]]
    desc = Description(iri, page=page, pages=len(pages), total=total)
    if page < 1 or page > len(pages):
        return desc
    for item in pages[page - 1]:
        target = desc.outgoing if item.tag == "out" else desc.incoming
        target.append(item.statement.triple)
        target.extend(item.statement.closure)
    desc.context = context_of(store, iri, desc.outgoing + desc.incoming)
    return desc


def context_of(store: Store, iri: str, triples: list[ox.Triple]) -> list[ox.Triple]:
    """The entity's own type and names, names and types of the neighbours, the labels of
    all their classes, and the whole of the Role nodes among the neighbours."""
    subject = ox.NamedNode(iri)
    neighbours = {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    neighbours |= {t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}
    neighbours |= {t.predicate for t in triples}
    neighbours.add(subject)  # its own name and type on every page, whatever the page holds
    context = names_of(store, neighbours)
    roles = {t.subject for t in context
             if t.predicate.value == RDF_TYPE and t.object.value in ROLE_TYPES}
    if roles:
        role_triples = role_closure(store, roles)
        context += role_triples
        seen = neighbours | {subject}
        further = {t.object for t in role_triples if isinstance(t.object, ox.NamedNode)}
        further |= {t.subject for t in role_triples}
        further |= {t.predicate for t in role_triples}
        context += names_of(store, further - seen)
    # The classes of everything shown, named too (a client shows "Character", not an IRI).
    classes = {t.object for t in (*triples, *context)
               if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode)}
    context += names_of(store, classes, LABELS)
    return context


LABELS = (RDFS_LABEL, SCHEMA_NAME)


def names_of(store: Store, nodes: set, predicates: tuple[str, ...] = NAMING) -> list[ox.Triple]:
    """rdf:type, rdfs:label and schema:name of each node (or `predicates`), in few queries.

    One UNION branch per node, each with its subject written out, and the predicates as a
    FILTER: Oxigraph evaluates `VALUES ?x {...} VALUES ?p {...} ?x ?p ?v` as a cross
    product joined against the store (150-280 ms at 1k films, growing with the data) and
    even `VALUES ?x` alone scans, while a bound subject is one index lookup (1-2 ms for the
    same rows; benchmarks/README.md, "Entity requests")."""
    ordered = sorted((n for n in nodes if isinstance(n, ox.NamedNode)), key=lambda n: n.value)
    allowed = ", ".join(f"<{p}>" for p in predicates)
    triples: list[ox.Triple] = []
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start:start + BATCH]
        branches = " UNION ".join(
            f"{{ {iri_ref(n.value)} ?p ?v BIND({iri_ref(n.value)} AS ?x) }}" for n in batch)
        rows = store.select(f"SELECT ?x ?p ?v WHERE {{ {branches} FILTER(?p IN ({allowed})) }}")
        triples += [ox.Triple(r["x"], r["p"], r["v"]) for r in rows]
    return triples


def role_closure(store: Store, roles: set) -> list[ox.Triple]:
    """The non-blank triples from and to each Role node, one UNION branch per node (the
    nodes written out, not a `VALUES` list: see `names_of`)."""
    ordered = sorted(roles, key=lambda n: n.value)
    triples: list[ox.Triple] = []
    for start in range(0, len(ordered), BATCH):
        branches = []
        for node in ordered[start:start + BATCH]:
            ref = iri_ref(node.value)
            branches += [f"{{ {ref} ?p ?o FILTER(!isBlank(?o)) BIND({ref} AS ?s) }}",
                         (f"{{ ?o ?p {ref} FILTER(!isBlank(?o)) BIND({ref} AS ?s) "
                          "BIND(true AS ?in) }")]
        for row in store.select("SELECT ?s ?p ?o ?in WHERE { " + " UNION ".join(branches)
                                + " }"):
            if "in" in row:
                triples.append(ox.Triple(row["o"], row["p"], row["s"]))
            else:
                triples.append(ox.Triple(row["s"], row["p"], row["o"]))
    return triples


BATCH = 25
"""Nodes per query of `names_of` and `role_closure`. Oxigraph's cost grows faster than the
number of UNION branches: the 655 roles of the busiest actor at 1k films took 0.55 s in
batches of 200, 0.17 s in batches of 50 and 0.11 s in batches of 20 (names_of of their
1,310 films and roles: 0.22, 0.11, 0.095 s). Smaller batches only add round trips."""


def is_described(store: Store, iri: str) -> bool:
    """Whether the dataset says anything about `iri` (a cheap ASK, for the 303 answer)."""
    ref = iri_ref(iri)
    return store.ask(f"ASK {{ {{ {ref} ?p ?o }} UNION {{ ?s ?q {ref} }} }}")


HYDRA = "http://www.w3.org/ns/hydra/core#"
FOAF_PRIMARY_TOPIC = "http://xmlns.com/foaf/0.1/primaryTopic"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def page_iri(iri: str, page: int) -> str:
    """The format-neutral IRI of one page of a description (it 303s like the entity)."""
    return f"{iri}?page={page}"


def page_metadata(desc: Description, page_size: int) -> list[ox.Triple]:
    """Triples about the page itself, the same in every format: what it describes, how many
    triples the whole description has (hydra:totalItems) and the next and previous pages.
    https://www.w3.org/community/hydra/wiki/Pagination"""
    page = ox.NamedNode(page_iri(desc.subject, desc.page))

    def number(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD_INTEGER))

    triples = [
        ox.Triple(page, ox.NamedNode(FOAF_PRIMARY_TOPIC), ox.NamedNode(desc.subject)),
        ox.Triple(page, ox.NamedNode(HYDRA + "totalItems"), number(desc.total)),
        ox.Triple(page, ox.NamedNode(HYDRA + "first"),
                  ox.NamedNode(page_iri(desc.subject, 1))),
        ox.Triple(page, ox.NamedNode(HYDRA + "last"),
                  ox.NamedNode(page_iri(desc.subject, desc.pages))),
    ]
    if page_size > 0:
        triples.append(ox.Triple(page, ox.NamedNode(HYDRA + "itemsPerPage"), number(page_size)))
    if desc.next_page:
        triples.append(ox.Triple(page, ox.NamedNode(HYDRA + "next"),
                                 ox.NamedNode(page_iri(desc.subject, desc.next_page))))
    if desc.previous_page:
        triples.append(ox.Triple(page, ox.NamedNode(HYDRA + "previous"),
                                 ox.NamedNode(page_iri(desc.subject, desc.previous_page))))
    return triples
