"""What the ontology page shows: the ontology's metadata and every term it declares."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from filmld.describe import RDF_TYPE
from filmld.view_model import Link, labels, link

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"


@dataclass
class TermModel:
    iri: str
    name: str
    label: str
    comment: str | None
    kind: str
    domain: list[Link] = field(default_factory=list)
    range: list[Link] = field(default_factory=list)
    parents: list[Link] = field(default_factory=list)


@dataclass
class OntologyModel:
    iri: str
    title: str
    description: str | None
    metadata: list[tuple[str, Link]]
    classes: list[TermModel]
    properties: list[TermModel]


def ontology_model(triples: list[ox.Triple], base: str) -> OntologyModel:
    namespace = f"{base}ontology/"
    names = labels(triples)
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, []).append(t)

    def values(subject: str, predicate: str) -> list:
        return [t.object for t in by_subject.get(subject, []) if t.predicate.value == predicate]

    def text(subject: str, predicate: str) -> str | None:
        found = [v.value for v in values(subject, predicate) if isinstance(v, ox.Literal)]
        return found[0] if found else None

    classes, properties = [], []
    for subject in sorted(by_subject):
        if not subject.startswith(namespace) or subject == namespace:
            continue
        types = {v.value for v in values(subject, RDF_TYPE)}
        is_class = bool(types & {OWL + "Class", RDFS + "Class"})
        kind = "Class" if is_class else ("Object property" if OWL + "ObjectProperty" in types
                                         else "Datatype property"
                                         if OWL + "DatatypeProperty" in types else "Property")
        term = TermModel(
            iri=subject, name=subject[len(namespace):], label=names.get(subject, subject),
            comment=text(subject, RDFS + "comment"), kind=kind,
            domain=[link(v, names, base) for v in values(subject, RDFS + "domain")],
            range=[link(v, names, base) for v in values(subject, RDFS + "range")],
            parents=[link(v, names, base) for v in
                     values(subject, RDFS + ("subClassOf" if is_class else "subPropertyOf"))])
        (classes if is_class else properties).append(term)
    metadata = []
    for predicate, title in ((OWL + "versionInfo", "Version"), (DCT + "license", "Licence"),
                             (DCT + "creator", "Creator")):
        for value in values(namespace, predicate):
            metadata.append((title, link(value, names, base)))
    title = text(namespace, DCT + "title") or names.get(namespace, "filmld ontology")
    description = text(namespace, DCT + "description") or text(namespace, RDFS + "comment")
    for predicate, heading, shown in ((RDFS + "label", "Label", title),
                                      (RDFS + "comment", "Comment", description)):
        said = text(namespace, predicate)  # every fact on the page, once
        if said and said != shown:
            metadata.append((heading, Link(None, said)))
    return OntologyModel(iri=namespace, title=title, description=description,
                         metadata=metadata, classes=classes, properties=properties)
