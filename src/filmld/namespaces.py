"""Prefixes used in every serialisation; ours depend on the base IRI."""

from __future__ import annotations

COMMON_PREFIXES = {
    "schema": "https://schema.org/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "vann": "http://purl.org/vocab/vann/",
}

ENTITY_KINDS = ("film", "person", "character", "role", "place", "recording", "event", "theme",
                "condition", "organization", "summary", "trait", "attitude", "source")


def prefixes(base: str) -> dict[str, str]:
    """Prefixes for Turtle output: the common vocabularies, our ontology and entity kinds."""
    ours = {"filmld": f"{base}ontology/", "fsh": f"{base}shapes/"}
    ours.update({kind: f"{base}id/{kind}/" for kind in ENTITY_KINDS})
    return {**COMMON_PREFIXES, **ours}
