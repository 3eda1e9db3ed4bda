"""The remote store on Virtuoso 7 (shared/stores/README.md quirks): runs where `virtuoso-t`
comes from Debian (virtuoso-opensource-7-bin), which `bash .ci/run` installs."""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from filmld.config import Settings
from filmld.store.remote import RESULTS_JSON, RemoteStore, rows_from_json
from filmld.web import create_app
from tests.conftest import free_port

BASE = "http://127.0.0.1:8000/"
NAME = ox.NamedNode("https://schema.org/name")

INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
[SPARQL]
ResultSetMaxRows = 100000
"""


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory) -> Iterator[str]:
    """A Virtuoso of its own, with SPARQL updates granted; its /sparql URL."""
    folder = tmp_path_factory.mktemp("virtuoso")
    sql, http = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(INI.format(d=folder, sql=sql, http=http))
    with (folder / "stdout.log").open("wb") as log:
        process = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", "virtuoso.ini"],
                                   cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}/sparql"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((folder / "stdout.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        subprocess.run(["isql-vt", str(sql), "dba", "dba",
                        'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                       check=True, capture_output=True, timeout=60)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def store(virtuoso: str) -> Iterator[RemoteStore]:
    store = RemoteStore(virtuoso, base=BASE, timeout=30)
    for graph in store.graph_names():
        store.remove_graph(graph)
    yield store
    store.close()


def test_quirks_are_absorbed_batches_blank_nodes_ask_and_system_graphs(store: RemoteStore):
    assert store.endpoints.dialect == "virtuoso"
    many = [ox.Triple(ox.NamedNode(f"{BASE}id/x{i}"), NAME, ox.Literal(f"n{i}", language="en"))
            for i in range(2500)]  # above Virtuoso's ~1,000 triples per request
    nested = [ox.Triple(ox.NamedNode(f"{BASE}id/a"), ox.NamedNode("https://schema.org/address"),
                        ox.BlankNode("q")), ox.Triple(ox.BlankNode("q"), NAME, ox.Literal("st"))]
    store.replace_graph(store.graph_iri("curated"), many + nested)
    # Virtuoso's own system graphs (about 2,500 triples) stay out of the union.
    count = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
    assert count.value == "2502"
    assert store.select(f"SELECT ?v WHERE {{ <{BASE}id/a> <https://schema.org/address>/"
                        f"<{NAME.value}> ?v }}") == [{"v": ox.Literal("st")}]
    assert store.ask(f"ASK {{ <{BASE}id/x1> ?p ?o }}") is True  # __ASK_RETVAL
    assert store.ask(f"ASK {{ <{BASE}id/none> ?p ?o }}") is False
    assert store.graph_names() == [store.graph_iri("curated")]
    assert len(store.graph_triples(store.graph_iri("curated"))) == 2502
    with store.query_stream("ASK { ?s ?p ?o }", kind="boolean") as answer:
        assert json.loads(answer.read()) == {"head": {}, "boolean": True}


def test_versions_and_atomic_changes(store: RemoteStore):
    before = store.version()
    store.change_graphs(add={store.graph_iri("contribution/1"): [
        ox.Triple(ox.NamedNode(f"{BASE}id/y"), NAME, ox.Literal("y"))]})
    assert store.version() != before
    with store.write_lock():
        pass


def test_a_change_too_large_for_one_request_is_all_or_nothing(store: RemoteStore,
                                                               monkeypatch):
    """Beyond about 1,000 triples Virtuoso needs several requests; a store that fails
    after some of them leaves the graphs as they were, and no staging graph shows."""
    from filmld.errors import StoreUnavailable

    graph = store.graph_iri("contribution/big")
    old = [ox.Triple(ox.NamedNode(f"{BASE}id/old{i}"), NAME, ox.Literal("old")) for i in range(3)]
    store.change_graphs(add={graph: old})
    new = [ox.Triple(ox.NamedNode(f"{BASE}id/new{i}"), NAME, ox.Literal(f"n{i}"))
           for i in range(2500)]
    version = store.version()
    original = store._update
    calls = []

    def failing(sparql: str, **options) -> None:
        calls.append(sparql)
        if len(calls) == 3:  # the third request: batches already written
            raise StoreUnavailable("the store stopped answering")
        original(sparql, **options)

    monkeypatch.setattr(store, "_update", failing)
    with pytest.raises(StoreUnavailable):
        store.change_graphs(drop=[graph], add={graph: new})
    monkeypatch.setattr(store, "_update", original)
    assert sorted(t.subject.value for t in store.graph_triples(graph)) == \
        sorted(t.subject.value for t in old)
    assert store.version() == version
    assert store.graph_names() == [graph]
    every_graph = store._query(  # not only the registered graphs, as filmld's queries do
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{BASE}graph/staging/")) }}', RESULTS_JSON, dataset=False)
    assert rows_from_json(every_graph.content) == []  # what was staged is dropped
    store.change_graphs(drop=[graph], add={graph: new})  # and the same change succeeds
    assert len(store.graph_triples(graph)) == 2500
    assert store.version() != version


def test_pages_and_sparql_on_virtuoso(virtuoso: str, store: RemoteStore):
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    try:
        client = app.test_client()
        page = client.get("/id/film/mask-1985.ttl")
        assert page.status_code == 200 and b"Mask" in page.data
        answer = client.get("/sparql", query_string={
            "query": f"ASK {{ <{BASE}id/film/mask-1985> ?p ?o }}"})
        assert answer.get_json()["boolean"] is True
    finally:
        app.extensions["filmld.store"].close()


def test_filmld_load_into_virtuoso(virtuoso: str, store: RemoteStore, tmp_path: Path):
    from filmld.cli import main

    data = tmp_path / "x.ttl"
    data.write_text('@prefix s: <https://schema.org/> .\n<id/v> s:name "v"@EN ; '
                    's:address [ s:name "a" ] .\n')
    assert main(["load", str(data), "--store", virtuoso, "-q"]) == 0
    rows = store.select(f"SELECT ?v WHERE {{ <{BASE}id/v> <{NAME.value}> ?v }}")
    assert [r["v"].value for r in rows] == ["v"]
    assert rows[0]["v"].language == "en"  # Virtuoso lower-cases language tags on the way in


def test_sparql_answers_on_virtuoso_are_relayed_with_the_cap(virtuoso: str, store: RemoteStore):
    """Virtuoso's answers are not passed through (SPARQL 1.0 JSON, nodeID blank nodes, ASK
    as a SELECT): the relay caps them, empty, at the cap and one over, in every format."""
    app = create_app(Settings(store=virtuoso, store_timeout=30, result_limit=3))
    try:
        assert not app.extensions["filmld.store"].answers_in("tabular", "json")
        client = app.test_client()
        for rows, cut in ((0, False), (3, False), (4, True)):
            values = " ".join(str(n) for n in range(1, rows + 1))
            select = f"SELECT ?n WHERE {{ VALUES ?n {{ {values} }} }}"
            construct = (f"CONSTRUCT {{ ?s <urn:p> ?n }} WHERE {{ VALUES ?n {{ {values} }} "
                         'BIND(IRI(CONCAT("urn:s", STR(?n))) AS ?s) }')
            for fmt in ("json", "xml", "csv", "tsv", "nt"):
                answer = client.get("/sparql", query_string={
                    "query": construct if fmt == "nt" else select, "format": fmt})
                assert answer.status_code == 200, answer.get_data(as_text=True)
                assert answer.headers["X-Filmld-Result-Truncated"] == str(cut).lower()
                if fmt == "json":
                    count = len(answer.get_json()["results"]["bindings"])
                elif fmt == "xml":
                    count = answer.data.count(b"<result>")
                elif fmt == "nt":
                    count = len(list(ox.parse(answer.data, format=ox.RdfFormat.N_TRIPLES)))
                else:
                    count = len(answer.data.splitlines()) - 1
                assert count == min(rows, 3), (fmt, rows, answer.data)
    finally:
        app.extensions["filmld.store"].close()


def test_a_query_virtuoso_cannot_evaluate_is_a_query_failure_not_an_outage(virtuoso: str,
                                                                        store: RemoteStore):
    """Virtuoso refuses a sorted top over its MaxSortedTopRows (SR353) with a 500: the store
    is up and a retry fails the same, so the answer is the Protocol's 500 for a failed query
    with Virtuoso's reason, not a 503 "unavailable, try again" with Retry-After."""
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    try:
        client = app.test_client()
        answer = client.get("/sparql", query_string={
            "query": "SELECT ?n WHERE { VALUES ?n { 1 2 } } ORDER BY ?n LIMIT 12000"})
        assert answer.status_code == 500, answer.get_data(as_text=True)
        error = answer.get_json()["error"]
        assert error["title"] == "Query failed" and "Retry-After" not in answer.headers
        assert "could not evaluate this query" in error["message"]
        assert "SR353" in error["message"] or "10000" in error["message"], error["message"]
        assert client.get("/id/film/mask-1985.ttl").status_code == 200  # not taken as down
    finally:
        app.extensions["filmld.store"].close()


def test_many_graphs_do_not_overflow_the_answers_headers(virtuoso: str, store: RemoteStore):
    """Virtuoso echoes each default-graph-uri and named-graph-uri as a response header field,
    and Python's HTTP client refuses more than 100: with about 48 graphs registered (each
    contribution is one), every query failed and the whole site answered 503."""
    graphs = {store.graph_iri(f"contributions/g{i}"): [
        ox.Triple(ox.NamedNode(f"{BASE}id/person/p{i}"), NAME, ox.Literal(f"p{i}"))]
        for i in range(60)}
    store.change_graphs(add=graphs)
    count = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
    assert count.value == "60"
    assert store.ask(f"ASK {{ <{BASE}id/person/p59> ?p ?o }}") is True
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    try:
        client = app.test_client()
        assert client.get("/id/person/p7.ttl").status_code == 200
        answer = client.get("/sparql", query_string={
            "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            "format": "json"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        names = {row["g"]["value"] for row in answer.get_json()["results"]["bindings"]}
        assert set(graphs) <= names
    finally:
        app.extensions["filmld.store"].close()


def test_blank_nodes_in_select_answers(virtuoso: str, store: RemoteStore):
    """Virtuoso writes blank nodes as "nodeID://b10004", which no results parser takes: a
    SELECT returning one was a 500 in every format. Enough rows to cross read boundaries."""
    address = ox.NamedNode("https://schema.org/address")
    triples = []
    for i in range(900):
        node = ox.BlankNode(f"a{i}")
        triples += [ox.Triple(ox.NamedNode(f"{BASE}id/place/p{i}"), address, node),
                    ox.Triple(node, NAME, ox.Literal(f"street {i}"))]
    store.change_graphs(add={store.graph_iri("bn"): triples})
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    try:
        client = app.test_client()
        query = ("SELECT ?s ?b ?n WHERE { ?s <https://schema.org/address> ?b . "
                 "?b <https://schema.org/name> ?n }")
        for fmt in ("json", "xml", "csv", "tsv"):
            answer = client.get("/sparql", query_string={"query": query, "format": fmt})
            assert answer.status_code == 200, (fmt, answer.get_data(as_text=True)[:300])
            if fmt == "json":
                rows = answer.get_json()["results"]["bindings"]
                assert len(rows) == 900
                assert {row["b"]["type"] for row in rows} == {"bnode"}
                assert len({row["b"]["value"] for row in rows}) == 900  # still 900 nodes
            else:
                assert answer.data.count(b"street ") == 900
    finally:
        app.extensions["filmld.store"].close()


def test_blank_node_labels_rewritten_across_read_boundaries():
    from filmld.store.remote import _VirtuosoBlankNodes

    row = b'    { "b": { "type": "bnode", "value": "nodeID://b1%04d" }},\n'
    body = b'{ "results": { "bindings": [\n' + b"".join(row % i for i in range(500)) + b"]}}"

    class Pieces(io.RawIOBase):  # a source that answers 7 bytes at a time
        def __init__(self) -> None:
            self.data = body

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            piece, self.data = self.data[:7], self.data[7:]
            buffer[:len(piece)] = piece
            return len(piece)

    out = _VirtuosoBlankNodes(Pieces()).read()
    assert b"nodeID" not in out
    assert out == body.replace(b"nodeID://", b"")


def test_protocol_graphs_replace_the_querys_from_on_virtuoso(virtuoso: str, store: RemoteStore):
    """default-graph-uri / named-graph-uri replace the query's FROM / FROM NAMED (SPARQL 1.1
    Protocol 2.1.4), as on the embedded store; Virtuoso let the query's clauses win."""
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    curated, shapes = f"{BASE}graph/curated", f"{BASE}graph/shapes"
    try:
        client = app.test_client()

        def count(query: str, **dataset) -> int:
            answer = client.get("/sparql", query_string={"query": query, "format": "json",
                                                         **dataset})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return int(answer.get_json()["results"]["bindings"][0]["n"]["value"])

        default = f"SELECT (COUNT(*) AS ?n) FROM <{curated}> WHERE {{ ?s ?p ?o }}"
        named = ("SELECT (COUNT(*) AS ?n) FROM NAMED <graph/curated> # a comment\n"
                 "WHERE { GRAPH ?g { ?s ?p ?o } }")
        in_curated = count(default)
        assert in_curated > 0 and count(named) == in_curated
        assert count(default, **{"named-graph-uri": curated}) == 0  # empty default graph
        assert count(default, **{"default-graph-uri": shapes}) == count(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <graph/shapes> { ?s ?p ?o } }")
        assert count(named, **{"default-graph-uri": curated}) == 0  # no named graph
    finally:
        app.extensions["filmld.store"].close()


def test_describe_is_the_concise_bounded_description(virtuoso: str, store: RemoteStore):
    """DESCRIBE answers as on the embedded store and Oxigraph server: the resource's own
    triples and its blank nodes', not the triples that point at it (Virtuoso's default)."""
    app = create_app(Settings(store=virtuoso, store_timeout=30))
    try:
        client = app.test_client()
        shape = f"{BASE}shapes/Movie-datePublished"
        answer = client.get("/sparql", query_string={"query": f"DESCRIBE <{shape}>",
                                                     "format": "nt"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        triples = list(ox.parse(answer.data, format=ox.RdfFormat.N_TRIPLES))
        assert all(t.object != ox.NamedNode(shape) for t in triples)  # nothing inbound
        subjects = {t.subject for t in triples}
        assert ox.NamedNode(shape) in subjects
        assert any(isinstance(s, ox.BlankNode) for s in subjects)  # the sh:or list's nodes
        expected = store.construct(
            f"CONSTRUCT {{ <{shape}> ?p ?o }} WHERE {{ <{shape}> ?p ?o }}")
        assert len(triples) == len(expected) + 4  # sh:or ( DateValue YearValue ): 2 nodes
    finally:
        app.extensions["filmld.store"].close()
