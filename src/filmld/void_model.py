"""The VoID description as a page for people: the same triples as its RDF forms, read back.

Why: the site's navigation links to /.well-known/void, and a browser asking for it got a
Turtle file to save. The page is built from `void.void_triples`, so it shows exactly what
the RDF says, with the classes' and properties' labels from the store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import RDFS_LABEL, SCHEMA_NAME, names_of
from filmld.store import Store
from filmld.view_model import Link, labels, link
from filmld.void import DCT, VOID, dataset_iri

DUMP_LABELS = {"ttl": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD",
               "nq": "N-Quads (with named graphs)"}
COUNTS = (("triples", "Triples"), ("entities", "Entities (IRIs under the URI space)"),
          ("distinctSubjects", "Distinct subjects"), ("classes", "Classes"),
          ("properties", "Properties"))


@dataclass
class VoidModel:
    title: str
    description: str
    counts: list[tuple[str, int]]
    facts: list[tuple[str, list[Link]]]
    """(heading, values): licence, endpoint, URI space, examples, vocabularies, dumps."""
    classes: list[tuple[Link, int]] = field(default_factory=list)
    properties: list[tuple[Link, int]] = field(default_factory=list)


def void_model(triples: list[ox.Triple], store: Store, base: str) -> VoidModel:
    """The page's model from the VoID triples (void_triples) of the dataset at `base`."""
    by_subject: dict[str, dict[str, list]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
            t.object)
    dataset = by_subject.get(dataset_iri(base), {})

    def values(subject: dict, name: str) -> list:
        return subject.get(name, [])

    def first(subject: dict, name: str) -> str:
        found = values(subject, name)
        return found[0].value if found else ""

    named = {t.object for t in triples if t.predicate.value in (
        VOID + "class", VOID + "property", VOID + "rootResource", VOID + "exampleResource")}
    names = labels(names_of(store, named, (RDFS_LABEL, SCHEMA_NAME)))

    def partitions(kind: str, measure: str) -> list[tuple[Link, int]]:
        found = []
        for part in values(dataset, VOID + f"{kind}Partition"):
            facts = by_subject.get(part.value, {})
            term = values(facts, VOID + kind)
            if term:
                found.append((link(term[0], names, base), int(first(facts, VOID + measure))))
        return sorted(found, key=lambda pair: (-pair[1], pair[0].text.lower()))

    dumps = [Link(dump.value, DUMP_LABELS.get(dump.value.rsplit(".", 1)[-1], dump.value))
             for dump in values(dataset, VOID + "dataDump")]
    facts = [
        ("Licence", [link(v, names, base) for v in values(dataset, DCT + "license")]),
        ("SPARQL endpoint", [Link(v.value, v.value)
                             for v in values(dataset, VOID + "sparqlEndpoint")]),
        ("URI space", [Link(None, first(dataset, VOID + "uriSpace"))]),
        ("Root resource", [link(v, names, base) for v in values(dataset, VOID + "rootResource")]),
        ("Examples", [link(v, names, base) for v in values(dataset, VOID + "exampleResource")]),
        ("Vocabularies", [link(v, names, base) for v in values(dataset, VOID + "vocabulary")]),
        ("Dumps", dumps),
    ]
    counts = [(label, int(first(dataset, VOID + name))) for name, label in COUNTS
              if first(dataset, VOID + name)]
    return VoidModel(first(dataset, DCT + "title"), first(dataset, DCT + "description"),
                     counts, [(heading, found) for heading, found in facts if found],
                     partitions("class", "entities"), partitions("property", "triples"))
