"""ontology/: the filmld terms (declared both ways against data/ and shapes/), their labels,
comments, domains and ranges, the ontology's metadata, and labels for the external terms."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, XSD, Literal, URIRef

from filmld.config import DEFAULT_BASE
from filmld.loading import read_data, read_ontology, read_shapes

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "https://schema.org/"
FILMLD = rdflib.Namespace(DEFAULT_BASE + "ontology/")
ONTOLOGY = URIRef(DEFAULT_BASE + "ontology/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
VANN = rdflib.Namespace("http://purl.org/vocab/vann/")

# schema.org's own class hierarchy, as far as the data needs it (a Movie is a CreativeWork ...)
SCHEMA_SUPERCLASSES = {
    URIRef(SCHEMA + "Movie"): {URIRef(SCHEMA + "CreativeWork")},
    URIRef(SCHEMA + "DigitalDocument"): {URIRef(SCHEMA + "CreativeWork")},
    URIRef(SCHEMA + "MusicRecording"): {URIRef(SCHEMA + "CreativeWork")},
}


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return read_ontology()


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    return read_data()


def ours(term) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(str(FILMLD)) and term != ONTOLOGY


def declared(ontology: rdflib.Graph) -> set[URIRef]:
    return {s for s in ontology.subjects() if ours(s)}


def classes(ontology: rdflib.Graph) -> set[URIRef]:
    return {s for s in ontology.subjects(RDF.type, OWL.Class) if ours(s)}


def properties(ontology: rdflib.Graph) -> set[URIRef]:
    return {s for kind in (OWL.ObjectProperty, OWL.DatatypeProperty)
            for s in ontology.subjects(RDF.type, kind) if ours(s)}


def used_in(graph: rdflib.Graph) -> set[URIRef]:
    return {term for triple in graph for term in triple if ours(term)}


def english(graph: rdflib.Graph, s, p) -> list[Literal]:
    return [o for o in graph.objects(s, p) if isinstance(o, Literal) and o.language == "en"]


@pytest.mark.parametrize("path", sorted((ROOT / "ontology").glob("*.ttl")), ids=lambda p: p.name)
def test_each_ontology_file_parses_with_relative_iris(path):
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=DEFAULT_BASE)
    assert len(graph) > 50
    text = path.read_text(encoding="utf-8")
    assert "\n@base" not in text and "<http://127.0.0.1" not in text


def test_ontology_metadata(ontology):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY, OWL.versionInfo) is not None
    assert english(ontology, ONTOLOGY, DCT.title) and english(ontology, ONTOLOGY, DCT.description)
    assert english(ontology, ONTOLOGY, RDFS.label)
    assert (ONTOLOGY, DCT.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in ontology
    assert ontology.value(ONTOLOGY, DCT.creator) is not None
    assert str(ontology.value(ONTOLOGY, VANN.preferredNamespacePrefix)) == "filmld"
    assert ontology.value(ONTOLOGY, VANN.preferredNamespaceUri) == ONTOLOGY


def test_every_filmld_term_in_data_is_declared_and_every_declared_term_is_used(ontology, data):
    assert used_in(data) == declared(ontology), used_in(data) ^ declared(ontology)
    assert declared(ontology) == classes(ontology) | properties(ontology)
    assert len(classes(ontology)) >= 4 and len(properties(ontology)) >= 25


def test_every_filmld_term_in_shapes_is_declared(ontology):
    assert used_in(read_shapes()) - declared(ontology) == set()


def test_classes_are_described(ontology):
    for cls in classes(ontology):
        assert (cls, RDF.type, RDFS.Class) in ontology, cls
        assert len(english(ontology, cls, RDFS.label)) == 1, cls
        assert len(english(ontology, cls, RDFS.comment)) == 1, cls
        assert (cls, RDFS.isDefinedBy, ONTOLOGY) in ontology, cls
        supers = list(ontology.objects(cls, RDFS.subClassOf))
        assert supers and all(str(s).startswith(SCHEMA) for s in supers), cls


def test_properties_are_described(ontology):
    for prop in properties(ontology):
        kinds = set(ontology.objects(prop, RDF.type)) & {OWL.ObjectProperty, OWL.DatatypeProperty}
        assert len(kinds) == 1, prop
        assert len(english(ontology, prop, RDFS.label)) == 1, prop
        assert len(english(ontology, prop, RDFS.comment)) == 1, prop
        assert (prop, RDFS.isDefinedBy, ONTOLOGY) in ontology, prop
        domains, ranges = list(ontology.objects(prop, RDFS.domain)), list(ontology.objects(prop, RDFS.range))
        assert len(domains) == 1 and len(ranges) == 1, prop
        assert str(domains[0]).startswith(SCHEMA) or domains[0] in classes(ontology), prop
        if OWL.ObjectProperty in kinds:
            assert str(ranges[0]).startswith(SCHEMA) or ranges[0] in classes(ontology), prop
        else:
            assert str(ranges[0]).startswith(str(XSD)) or ranges[0] == RDF.langString, prop
        for sup in ontology.objects(prop, RDFS.subPropertyOf):
            assert str(sup).startswith(SCHEMA), prop


def superclasses(ontology: rdflib.Graph, cls: URIRef) -> set[URIRef]:
    seen, todo = {cls, URIRef(SCHEMA + "Thing")}, [cls]
    while todo:
        c = todo.pop()
        for sup in set(ontology.objects(c, RDFS.subClassOf)) | SCHEMA_SUPERCLASSES.get(c, set()):
            if sup not in seen:
                seen.add(sup)
                todo.append(sup)
    return seen


def test_data_respects_domains_and_ranges(ontology, data):
    problems = []
    for prop in properties(ontology):
        domain, rng = ontology.value(prop, RDFS.domain), ontology.value(prop, RDFS.range)
        for s, o in data.subject_objects(prop):
            if not any(domain in superclasses(ontology, t) for t in data.objects(s, RDF.type)):
                problems.append(f"{s} {prop}: subject is not a {domain}")
            if (prop, RDF.type, OWL.DatatypeProperty) in ontology:
                kind = RDF.langString if isinstance(o, Literal) and o.language else \
                    getattr(o, "datatype", None)
                if kind != rng:
                    problems.append(f"{s} {prop} {o!r}: not a {rng}")
            elif not any(rng in superclasses(ontology, t) for t in data.objects(o, RDF.type)):
                problems.append(f"{s} {prop} {o}: object is not a {rng}")
    assert not problems, problems


def test_every_external_term_in_data_has_a_label_and_comment(ontology, data):
    external = {p for p in data.predicates() if not ours(p)}
    external |= {c for c in data.objects(None, RDF.type) if not ours(c)}
    external |= {o for p in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range)
                 for o in ontology.objects(None, p) if str(o).startswith(SCHEMA)}
    missing = [t for t in external
               if not english(ontology, t, RDFS.label) or not english(ontology, t, RDFS.comment)]
    assert not missing, missing
    assert len(external) >= 35


def test_external_terms_file_holds_plain_facts_only():
    graph = rdflib.Graph()
    graph.parse(ROOT / "ontology" / "external-terms.ttl", format="turtle", publicID=DEFAULT_BASE)
    assert set(graph.predicates()) == {RDF.type, RDFS.label, RDFS.comment}
    # rdfs:Resource: so that pySHACL's ontology mix-in keeps a type for the properties
    assert set(graph.objects(None, RDF.type)) == {RDFS.Class, RDF.Property, RDFS.Resource}
    assert not any(ours(term) for triple in graph for term in triple)


def test_ontology_iris_follow_the_public_base():
    other = "https://films.example.org/"
    moved = read_ontology(base=other)
    assert (URIRef(other + "ontology/"), RDF.type, OWL.Ontology) in moved
    assert (URIRef(other + "ontology/Character"), RDF.type, OWL.Class) in moved
