"""The VoID description of the dataset (https://www.w3.org/TR/void/): size, class and
property partitions, dumps, the SPARQL endpoint and the licence, computed from the store."""

from __future__ import annotations

import pyoxigraph as ox

from filmld.describe import RDF_TYPE
from filmld.store import Store

VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
DUMP_SUFFIXES = ("ttl", "nt", "jsonld", "nq")


def void_iri(base: str) -> str:
    return f"{base}.well-known/void"


def dataset_iri(base: str) -> str:
    return f"{void_iri(base)}#dataset"


def _count(store: Store, sparql: str) -> int:
    rows = store.select(sparql)
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def void_triples(store: Store, base: str) -> list[ox.Triple]:
    """Every triple of the VoID document; partitions get hash IRIs so output is stable."""
    doc = ox.NamedNode(void_iri(base))
    dataset = ox.NamedNode(dataset_iri(base))
    triples: list[ox.Triple] = []

    def add(s, p: str, o) -> None:
        triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def number(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))

    add(doc, RDF_TYPE, ox.NamedNode(VOID + "DatasetDescription"))
    add(doc, FOAF + "primaryTopic", dataset)
    add(dataset, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
    add(dataset, DCT + "title", ox.Literal("filmld: film facts as linked data", language="en"))
    add(dataset, DCT + "description", ox.Literal(
        "Facts about films (cast, characters, plot, setting, soundtrack), hand-mapped to "
        "schema.org and the filmld ontology, with contributions in named graphs.",
        language="en"))
    licences = store.select(
        "SELECT DISTINCT ?l WHERE { ?o a <http://www.w3.org/2002/07/owl#Ontology> ; "
        f"<{DCT}license> ?l }} ORDER BY ?l")
    for row in licences or [{"l": ox.NamedNode(DEFAULT_LICENSE)}]:
        add(dataset, DCT + "license", row["l"])
    add(dataset, VOID + "triples", number(_count(
        store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
    add(dataset, VOID + "entities", number(_count(
        store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o "
        f'FILTER(STRSTARTS(STR(?s), "{base}id/")) }}')))
    add(dataset, VOID + "distinctSubjects", number(_count(
        store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }")))
    add(dataset, VOID + "uriSpace", ox.Literal(f"{base}id/"))
    add(dataset, VOID + "sparqlEndpoint", ox.NamedNode(f"{base}sparql"))
    add(dataset, VOID + "rootResource", ox.NamedNode(f"{base}id/film/mask-1985"))
    add(dataset, VOID + "exampleResource", ox.NamedNode(f"{base}id/film/mask-1985"))
    add(dataset, VOID + "exampleResource", ox.NamedNode(f"{base}id/person/cher"))
    add(dataset, VOID + "vocabulary", ox.NamedNode("https://schema.org/"))
    add(dataset, VOID + "vocabulary", ox.NamedNode(f"{base}ontology/"))
    for suffix in DUMP_SUFFIXES:
        add(dataset, VOID + "dataDump", ox.NamedNode(f"{base}dataset.{suffix}"))
    classes = store.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c "
                           "FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c")
    add(dataset, VOID + "classes", number(len(classes)))
    for i, row in enumerate(classes, 1):
        part = ox.NamedNode(f"{void_iri(base)}#class-{i}")
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", row["c"])
        add(part, VOID + "entities", number(int(row["n"].value)))
    properties = store.select("SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                              "GROUP BY ?p ORDER BY ?p")
    add(dataset, VOID + "properties", number(len(properties)))
    for i, row in enumerate(properties, 1):
        part = ox.NamedNode(f"{void_iri(base)}#property-{i}")
        add(dataset, VOID + "propertyPartition", part)
        add(part, VOID + "property", row["p"])
        add(part, VOID + "triples", number(int(row["n"].value)))
    return triples
