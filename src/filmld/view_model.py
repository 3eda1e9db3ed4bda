"""What the HTML pages show, computed from descriptions: labels instead of IRIs, grouped,
the cast as a table, ordered parts (plot events) in order, texts (summaries) readable."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import (
    RDF_TYPE,
    RDFS_LABEL,
    ROLE_TYPES,
    SCHEMA,
    SCHEMA_NAME,
    Description,
    describe,
    iri_ref,
    names_of,
)
from filmld.store import Store

SCHEMA_DESCRIPTION = SCHEMA + "description"
SCHEMA_POSITION = SCHEMA + "position"
SCHEMA_TEXT = SCHEMA + "text"
SCHEMA_ACTOR = SCHEMA + "actor"
SCHEMA_CHARACTER_NAME = SCHEMA + "characterName"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


@dataclass
class Link:
    href: str | None
    text: str
    lang: str | None = None
    external: bool = False


@dataclass
class PropertyGroup:
    predicate: Link
    values: list[Link] = field(default_factory=list)


@dataclass
class CastMember:
    actor: Link | None
    character: Link | None
    role: Link


@dataclass
class OrderedPart:
    position: int | None
    link: Link
    text: str | None


@dataclass
class OrderedSection:
    title: str
    parts: list[OrderedPart]


@dataclass
class Neighbour:
    """A resource drawn in the neighbourhood picture: linked to (outgoing) or from."""

    link: Link
    outgoing: bool
    rank: int = 0


@dataclass
class PageModel:
    iri: str
    title: str
    summary: str | None
    types: list[Link]
    outgoing: list[PropertyGroup]
    incoming: list[PropertyGroup]
    cast: list[CastMember] = field(default_factory=list)
    roles: list[CastMember] = field(default_factory=list)
    sections: list[OrderedSection] = field(default_factory=list)
    texts: list[OrderedSection] = field(default_factory=list)
    neighbours: list[Neighbour] = field(default_factory=list)
    overview_of: tuple[int, int] | None = None
    """(triples the overview was drawn from, all triples) when it shows only the first."""


OVERVIEW_TRIPLES = 1000
"""The overview (cast, roles, plot, picture) of a paged entity is drawn from its first this
many triples: an actor in 5,000 films would otherwise render every role on page 1 (13 s at
100k films); the notice on the page says so, and the pages hold every triple."""


def labels(triples: list[ox.Triple], *, short: bool = False) -> dict[str, str]:
    """IRI -> English label (rdfs:label first, then schema:name; `short`: name first, for
    tables where the context is already given, "Rusty Dennis" not "... (character in Mask)")."""
    found: dict[str, tuple[int, str]] = {}
    first = SCHEMA_NAME if short else RDFS_LABEL
    for t in triples:
        if t.predicate.value in (RDFS_LABEL, SCHEMA_NAME) and isinstance(t.object, ox.Literal):
            rank = (0 if t.predicate.value == first else 2) + \
                (0 if t.object.language in ("en", None) else 1)
            key = t.subject.value
            if key not in found or rank < found[key][0]:
                found[key] = (rank, t.object.value)
    return {k: v for k, (_, v) in found.items()}


def _short(iri: str) -> str:
    """The last segment of an unnamed IRI, or the whole IRI when that says nothing ("4.0")."""
    short = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return short if any(c.isalpha() for c in short) else iri


def link(term, names: dict[str, str], base: str = "") -> Link:
    if isinstance(term, ox.NamedNode):
        external = bool(base) and not term.value.startswith(base)
        return Link(term.value, names.get(term.value, _short(term.value)),
                    external=external)
    if isinstance(term, ox.Literal):
        return Link(None, term.value, term.language)
    return Link(None, "(blank node)")


def _group(triples, value, names, base) -> list[PropertyGroup]:
    groups: dict[str, PropertyGroup] = {}
    for t in triples:
        p = t.predicate
        group = groups.setdefault(p.value, PropertyGroup(link(p, names, base)))
        group.values.append(link(value(t), names, base))
    for group in groups.values():
        group.values.sort(key=lambda v: v.text.lower())
    return sorted(groups.values(), key=lambda g: g.predicate.text.lower())


def _literal(triples, subject: str, predicate: str) -> str | None:
    for t in triples:
        if t.subject.value == subject and t.predicate.value == predicate and \
                isinstance(t.object, ox.Literal):
            return t.object.value
    return None


def _cast(triples: list[ox.Triple], names: dict[str, str], base: str,
          roles: list[str]) -> list[CastMember]:
    by_subject: dict[str, list[ox.Triple]] = {}
    wanted = set(roles)
    for t in triples:  # one pass: an actor in thousands of films has thousands of roles
        if t.subject.value in wanted:
            by_subject.setdefault(t.subject.value, []).append(t)
    cast = []
    for role in roles:
        actor = character = None
        own = by_subject.get(role, [])
        for t in own:
            if not isinstance(t.object, ox.NamedNode):
                continue
            if t.predicate.value == SCHEMA_ACTOR:
                actor = link(t.object, names, base)
            elif t.predicate.value.endswith("/character") and \
                    not t.predicate.value.startswith(SCHEMA):
                character = link(t.object, names, base)
        if character is None:
            name = _literal(own, role, SCHEMA_CHARACTER_NAME)
            character = Link(None, name) if name else None
        cast.append(CastMember(actor, character, link(ox.NamedNode(role), names, base)))
    return cast


def _ordered_sections(store: Store, subject: str, predicates: list[ox.NamedNode],
                      names: dict[str, str], reverse: bool = False,
                      base: str = "") -> list[OrderedSection]:
    """Linked resources that carry schema:position or filmld:plotPosition, in order, with their name and text.

    Outgoing (`reverse` False): at least two parts (a plot, not one event), text from
    schema:text or schema:description. Incoming: texts only (schema:text), e.g. summaries."""
    if not predicates:
        return []
    ref = iri_ref(subject)
    pattern = f"?x ?p {ref}" if reverse else f"{ref} ?p ?x"
    # The predicates as a FILTER on the bound subject's triples, not a `VALUES ?p` list
    # joined against the store (see describe.names_of).
    allowed = ", ".join(iri_ref(p.value) for p in predicates)
    # Plot events carry filmld:plotPosition (schema:position is for creative works and list
    # items, such as the summaries); either gives the order.
    positions = f"<{SCHEMA_POSITION}>" + (f"|<{base}ontology/plotPosition>" if base else "")
    rows = store.select(
        f"SELECT ?p ?x ?pos ?text ?description WHERE {{ {pattern} FILTER(?p IN ({allowed})) "
        f"?x {positions} ?pos . OPTIONAL {{ ?x <{SCHEMA_TEXT}> ?text }} "
        f"OPTIONAL {{ ?x <{SCHEMA_DESCRIPTION}> ?description }} }}")
    sections: dict[str, list[OrderedPart]] = {}
    seen: set[tuple[str, str]] = set()
    # The parts' own names (short: "Rocky dies in his sleep"), wherever they were described.
    part_names = labels(names_of(store, {row["x"] for row in rows
                                         if isinstance(row["x"], ox.NamedNode)}), short=True)
    names = {**names, **{k: v for k, v in part_names.items()
                         if k.startswith(base) and "/ontology/" not in k}}
    for row in rows:
        key = (row["p"].value, row["x"].value)
        if key in seen:
            continue
        seen.add(key)
        try:
            position = int(row["pos"].value)
        except ValueError:
            position = None
        text = row.get("text") if reverse else (row.get("text") or row.get("description"))
        if reverse and text is None:
            continue
        sections.setdefault(row["p"].value, []).append(OrderedPart(
            position, link(row["x"], names), text.value if text is not None else None))
    result = []
    for predicate, parts in sections.items():
        if not reverse and len(parts) < 2:
            continue
        parts.sort(key=lambda part: (part.position is None, part.position or 0,
                                     part.link.text))
        title = names.get(predicate, _short(predicate))
        result.append(OrderedSection(title, parts))
    return sorted(result, key=lambda s: s.title)


def _kind_rank(iri: str, base: str) -> int:
    """How much a neighbour matters in the picture: people and characters first, plot
    events, summaries and sources last (issue 4: the picture draws only MAX_NODES)."""
    kind = iri[len(base):].split("/")[1] if iri.startswith(f"{base}id/") else ""
    return _KIND_RANKS.get(kind, len(_KIND_RANKS))


_KIND_RANKS = {"person": 0, "character": 1, "place": 2, "organization": 2, "role": 3,
               "film": 4, "recording": 5, "condition": 6, "theme": 6, "trait": 7,
               "attitude": 7, "event": 8, "summary": 9, "source": 10}


def _neighbours(description: Description, names: dict[str, str],
                base: str) -> list[Neighbour]:
    subject = description.subject
    found: dict[str, Neighbour] = {}
    for t in description.outgoing:
        if t.subject.value == subject and isinstance(t.object, ox.NamedNode) and \
                t.predicate.value != RDF_TYPE and t.object.value.startswith(base):
            found.setdefault(t.object.value, Neighbour(
                link(t.object, names, base), True, _kind_rank(t.object.value, base)))
    for t in description.incoming:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(base):
            found.setdefault(t.subject.value, Neighbour(
                link(t.subject, names, base), False, _kind_rank(t.subject.value, base)))
    return list(found.values())


def page_model(description: Description, store: Store, base: str = "") -> PageModel:
    """What one page shows. Title, types and every label come with each page (the
    description's context); the overview (summary, cast, roles, plot, texts, picture) is
    about the whole entity, so a paged entity shows it on its first page."""
    subject = description.subject
    whole: Description | None = description
    if description.pages > 1:
        whole = describe(store, subject, page_size=OVERVIEW_TRIPLES) \
            if description.page == 1 else None
    triples = description.triples
    names = labels(triples)
    types = [link(t.object, names, base) for t in triples
             if t.subject.value == subject and t.predicate.value == RDF_TYPE]
    own = [t for t in description.outgoing if t.subject.value == subject]
    shown = [t for t in own if t.predicate.value != RDF_TYPE]
    model = PageModel(
        iri=subject,
        title=names.get(subject, _short(subject)),
        summary=None,
        types=types,
        outgoing=_group(shown, lambda t: t.object, names, base),
        incoming=_group(description.incoming, lambda t: t.subject, names, base),
    )
    if whole is not None:
        _overview(model, whole, store, base)
        if whole.pages > 1:
            model.overview_of = (sum(len(t) for t in (whole.outgoing, whole.incoming)),
                                 whole.total)
    return model


def _overview(model: PageModel, whole: Description, store: Store, base: str) -> None:
    """Summary, cast, roles, ordered sections, texts and neighbours of the whole entity."""
    subject = whole.subject
    triples = whole.triples
    names = labels(triples)
    own = [t for t in whole.outgoing if t.subject.value == subject]
    model.summary = _literal(own, subject, SCHEMA_DESCRIPTION) or \
        _literal(own, subject, RDFS_COMMENT)
    role_types = {t.subject.value for t in triples
                  if t.predicate.value == RDF_TYPE and t.object.value in ROLE_TYPES}
    cast_roles = [t.object.value for t in own
                  if t.predicate.value == SCHEMA_ACTOR and t.object.value in role_types]
    played = [t.subject.value for t in whole.incoming
              if t.predicate.value == SCHEMA_ACTOR and t.subject.value in role_types]
    short = labels(triples, short=True)
    model.roles = _cast(triples, short, base, played)
    film_of: dict[str, ox.NamedNode] = {}
    for t in triples:
        if t.predicate.value == SCHEMA_ACTOR:
            film_of.setdefault(t.object.value, t.subject)
    for member, role in zip(model.roles, played):
        film = film_of.get(role)
        member.actor = link(film, names, base) if film is not None else None
    model.cast = sorted(_cast(triples, short, base, cast_roles),
                        key=lambda m: m.actor.text if m.actor else "")
    out_predicates = sorted({t.predicate for t in own if t.predicate.value != RDF_TYPE},
                            key=lambda p: p.value)
    in_predicates = sorted({t.predicate for t in whole.incoming}, key=lambda p: p.value)
    part_names = {**names, **{k: v for k, v in short.items()
                              if k.startswith(base) and "/ontology/" not in k}}
    model.sections = _ordered_sections(store, subject, out_predicates, part_names, base=base)
    model.texts = [s for s in _ordered_sections(store, subject, in_predicates, part_names,
                                                reverse=True, base=base)
                   if any(p.text for p in s.parts)]
    model.neighbours = _neighbours(whole, part_names, base)
