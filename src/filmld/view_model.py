"""What the HTML pages show, computed from descriptions: labels instead of IRIs, grouped."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import RDFS_LABEL, RDF_TYPE, SCHEMA_NAME, Description, names_of
from filmld.store import Store


@dataclass
class Link:
    href: str | None
    text: str
    lang: str | None = None


@dataclass
class PropertyGroup:
    predicate: Link
    values: list[Link] = field(default_factory=list)


@dataclass
class PageModel:
    iri: str
    title: str
    types: list[Link]
    outgoing: list[PropertyGroup]
    incoming: list[PropertyGroup]


def labels(triples: list[ox.Triple]) -> dict[str, str]:
    """IRI -> English label (rdfs:label first, then schema:name)."""
    found: dict[str, tuple[int, str]] = {}
    for t in triples:
        if t.predicate.value in (RDFS_LABEL, SCHEMA_NAME) and isinstance(t.object, ox.Literal):
            rank = (0 if t.predicate.value == RDFS_LABEL else 2) + \
                (0 if t.object.language in ("en", None) else 1)
            key = t.subject.value
            if key not in found or rank < found[key][0]:
                found[key] = (rank, t.object.value)
    return {k: v for k, (_, v) in found.items()}


def _short(iri: str) -> str:
    return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri


def link(term, names: dict[str, str]) -> Link:
    if isinstance(term, ox.NamedNode):
        return Link(term.value, names.get(term.value, _short(term.value)))
    if isinstance(term, ox.Literal):
        return Link(None, term.value, term.language)
    return Link(None, "(blank node)")


def _group(triples, key, value, names) -> list[PropertyGroup]:
    groups: dict[str, PropertyGroup] = {}
    for t in triples:
        p = t.predicate
        group = groups.setdefault(p.value, PropertyGroup(link(p, names)))
        group.values.append(link(value(t), names))
    return sorted(groups.values(), key=lambda g: g.predicate.text.lower())


def page_model(description: Description, store: Store) -> PageModel:
    names = labels(description.triples)
    subject = description.subject
    own = [t for t in description.outgoing
           if t.subject.value == subject and t.predicate.value != RDF_TYPE]
    types = [link(t.object, names) for t in description.outgoing
             if t.subject.value == subject and t.predicate.value == RDF_TYPE]
    return PageModel(
        iri=subject,
        title=names.get(subject, _short(subject)),
        types=types,
        outgoing=_group(own, "p", lambda t: t.object, names),
        incoming=_group(description.incoming, "p", lambda t: t.subject, names),
    )


@dataclass
class HomeModel:
    film: list[Link]
    entities: dict[str, list[Link]]


def home_model(store: Store, base: str) -> HomeModel:
    rows = store.select(
        "SELECT ?s WHERE { GRAPH ?g { ?s a ?type } FILTER(STRSTARTS(STR(?s), "
        f'"{base}id/")) }}')
    subjects = sorted({r["s"] for r in rows}, key=lambda n: n.value)
    names = labels(names_of(store, set(subjects)))
    grouped: dict[str, list[Link]] = {}
    for s in subjects:
        kind = s.value[len(base) + 3:].split("/", 1)[0]
        grouped.setdefault(kind, []).append(link(s, names))
    for links in grouped.values():
        links.sort(key=lambda li: li.text.lower())
    return HomeModel(grouped.get("film", []), grouped)
