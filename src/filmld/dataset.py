"""Opening the dataset: the configured store, with the curated graphs rebuilt from the files."""

from __future__ import annotations

import logging

import pyoxigraph as ox
from rdflib.compare import isomorphic

from filmld.config import Settings
from filmld.loading import read_folder
from filmld.store import Store, open_store
from filmld.terms import to_rdflib_graph

log = logging.getLogger("filmld.dataset")

OWNED_GRAPHS = ("graph/curated", "graph/ontology", "graph/meta", "graph/shapes")
"""Graphs filmld rebuilds from the files at every start, recognised by their path suffix."""


def open_dataset(settings: Settings) -> Store:
    """The store, holding ontology/, shapes/ and data/ exactly as the files say (they are
    the truth). The shapes are a graph of their own, like the ontology, so that the shape
    IRIs a refusal names (`sh:sourceShape`) dereference (issue 4)."""
    store = open_store(settings)
    drop_other_bases(store)
    rebuild(store, "ontology", read_folder(settings.ontology_dir, settings.base_url))
    rebuild(store, "shapes", read_folder(settings.shapes_dir, settings.base_url))
    rebuild(store, "curated", read_folder(settings.data_dir, settings.base_url))
    return store


def rebuild(store: Store, name: str, triples: list[ox.Triple]) -> None:
    """Make `graph/<name>` hold `triples`, leaving it (and the version, so every ETag) as it
    is when it already does. A backend tells that by comparing triples, which fails for
    blank nodes (the shapes' RDF lists): parsing names them afresh every time. A graph
    with blank nodes is compared here instead, by isomorphism (RDF 1.1 Concepts 3.6)."""
    iri = store.graph_iri(name)
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
           for t in triples) and isomorphic(to_rdflib_graph(store.graph_triples(iri)),
                                            to_rdflib_graph(triples)):
        return
    store.replace_graph(iri, triples)


def drop_other_bases(store: Store) -> list[str]:
    """Remove the rebuilt graphs left by a run under another base IRI (`--base-url`, or a
    different host:port when the base follows them): kept, they would double every fact under
    the old IRIs in dumps, VoID and SPARQL. Contributions minted under another base are not
    ours to drop: they stay, with one warning saying how many (README, "The store and its
    base IRI")."""
    names = store.graph_names()
    stale = [g for g in names if g.endswith(OWNED_GRAPHS) and not g.startswith(store.base)]
    for graph in stale:
        store.remove_graph(graph)
    if stale:
        log.warning("dropped %d graph(s) of another base IRI (rebuilt under %s): %s",
                    len(stale), store.base, ", ".join(stale))
    foreign = [g for g in names if "/contributions/" in g and not g.startswith(store.base)]
    if foreign:
        log.warning("%d contribution graph(s) in this store were minted under another base IRI "
                    "and are kept as they are; a store is tied to its base IRI: set "
                    "FILMLD_BASE_URL to keep it stable", len(foreign))
    return stale
