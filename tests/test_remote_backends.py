"""The mechanism that runs the HTTP behaviour suite on both backends (tests/conftest.py)."""

from __future__ import annotations

from filmld.store.embedded import EmbeddedStore
from filmld.store.remote import RemoteStore
from filmld.web import create_app


def test_each_pass_opens_the_backend_it_names(backend, settings):
    app = create_app(settings)
    try:
        store = app.extensions["filmld.store"]
        expected = RemoteStore if backend == "oxigraph" else EmbeddedStore
        assert isinstance(store, expected)
        assert store.ask("ASK { ?s ?p ?o }")  # the curated data is there
    finally:
        app.extensions["filmld.store"].close()


def test_each_store_directory_is_a_clean_dataset_of_its_own(backend, tmp_path):
    from filmld.config import Settings

    one = create_app(Settings(store=str(tmp_path / "one")))
    two = create_app(Settings(store=str(tmp_path / "two")))
    try:
        first, second = one.extensions["filmld.store"], two.extensions["filmld.store"]
        first.add_graph(first.graph_iri("contribution/x"), [])
        graph = first.graph_iri("only-in-one")
        import pyoxigraph as ox

        first.add_graph(graph, [ox.Triple(ox.NamedNode(graph), ox.NamedNode(graph),
                                          ox.Literal("x"))])
        assert graph in first.graph_names()
        assert graph not in second.graph_names()
    finally:
        for app in (one, two):
            app.extensions["filmld.store"].close()
