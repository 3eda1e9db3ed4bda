"""Opening the dataset: the configured store, with the curated graphs rebuilt from the files."""

from __future__ import annotations

from filmld.config import Settings
from filmld.loading import read_folder
from filmld.store import Store, open_store


def open_dataset(settings: Settings) -> Store:
    """The store, holding ontology/ and data/ exactly as the files say (they are the truth)."""
    store = open_store(settings)
    store.replace_graph(store.graph_iri("ontology"),
                        read_folder(settings.ontology_dir, settings.base_url))
    store.replace_graph(store.graph_iri("curated"),
                        read_folder(settings.data_dir, settings.base_url))
    return store
