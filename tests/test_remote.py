"""The remote SPARQL store: same answers as the embedded store, shared versions, 503 on failure."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from filmld.config import Settings
from filmld.errors import StoreUnavailable
from filmld.formats import NQUADS, NTRIPLES
from filmld.store.embedded import EmbeddedStore
from filmld.store.remote import (
    Endpoints,
    RemoteStore,
    _connected_batches,
    boolean_from_json,
    derive_endpoints,
    rows_from_json,
)
from filmld.web import create_app
from tests.conftest import OxigraphServer, free_port, start_oxigraph

BASE = "http://127.0.0.1:8000/"
EX = "http://127.0.0.1:8000/id/thing/"
P = ox.NamedNode("https://schema.org/name")


def triple(s: str, o: str | ox.Literal | ox.BlankNode, p: ox.NamedNode = P) -> ox.Triple:
    subject = ox.BlankNode(s[2:]) if s.startswith("_:") else ox.NamedNode(EX + s)
    obj = o if isinstance(o, ox.Literal | ox.BlankNode) else ox.NamedNode(EX + o)
    return ox.Triple(subject, p, obj)


def without_labels(rows: list[dict]) -> list[dict]:
    """Rows with blank nodes as "_:" (each store labels its blank nodes its own way)."""
    return [{k: "_:" if isinstance(v, ox.BlankNode) else v for k, v in row.items()}
            for row in rows]


SAMPLE = [
    triple("a", ox.Literal("A", language="en")),
    triple("a", "b", ox.NamedNode("https://schema.org/knows")),
    triple("b", ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    triple("a", ox.BlankNode("n1"), ox.NamedNode("https://schema.org/address")),
    triple("_:n1", ox.Literal("Main street")),
]


@pytest.fixture
def remote(oxigraph_server: OxigraphServer):
    oxigraph_server.clear()
    store = RemoteStore(oxigraph_server.url, base=BASE, timeout=5)
    yield store
    store.close()


# -- pure parts ----------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "update", "graph_store", "dialect"), [
    ("http://h:7878/query", "http://h:7878/update", "http://h:7878/store", "oxigraph"),
    ("http://h:8890/sparql", "http://h:8890/sparql", "http://h:8890/sparql-graph-crud",
     "virtuoso"),
    ("http://h:3030/ds/query", "http://h:3030/ds/update", "http://h:3030/ds/data", "generic"),
    ("http://h/any/endpoint", "http://h/any/endpoint", None, "generic"),
])
def test_update_and_graph_store_endpoints_are_derived_from_the_query_url(
        query, update, graph_store, dialect):
    assert derive_endpoints(query) == Endpoints(query, update, graph_store, dialect,
                                                dataset_pragmas=dialect == "virtuoso")


def test_update_url_setting_overrides_the_derived_one():
    assert derive_endpoints("http://h/query", "http://h/u").update == "http://h/u"


def test_virtuoso_json_is_understood():
    select = {"head": {"vars": ["x", "n", "b"]}, "results": {"bindings": [{
        "x": {"type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer",
              "value": "7"},
        "n": {"type": "literal", "xml:lang": "en", "value": "Mask"},
        "b": {"type": "bnode", "value": "nodeID://b10006"}}]}}
    row = rows_from_json(json.dumps(select).encode())[0]
    assert row["x"] == ox.Literal("7", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))
    assert row["n"] == ox.Literal("Mask", language="en")
    assert isinstance(row["b"], ox.BlankNode)
    ask = {"head": {"vars": ["__ASK_RETVAL"]},
           "results": {"bindings": [{"__ASK_RETVAL": {"type": "literal", "value": "1"}}]}}
    assert boolean_from_json(json.dumps(ask).encode()) is True
    assert boolean_from_json(b'{"head": {}, "boolean": false}') is False


def test_batches_keep_the_triples_of_one_blank_node_together():
    chain = [ox.Triple(ox.BlankNode(f"b{i}"), P, ox.BlankNode(f"b{i + 1}")) for i in range(30)]
    ground = [triple(f"s{i}", ox.Literal(str(i))) for i in range(25)]
    other = [ox.Triple(ox.BlankNode("z"), P, ox.Literal("z"))]
    batches = list(_connected_batches(ground + chain + other, 10))
    assert all(len(b) <= 10 for blank, b in batches if not blank)
    chain_batches = [b for blank, b in batches if blank and chain[0] in b]
    assert len(chain_batches) == 1 and set(chain) <= set(chain_batches[0])
    assert sorted(map(str, (t for _, b in batches for t in b))) == sorted(
        map(str, ground + chain + other))


# -- against a real Oxigraph server ---------------------------------------------------------
def test_reads_answer_like_the_embedded_store(remote: RemoteStore, tmp_path: Path):
    embedded = EmbeddedStore(tmp_path / "embedded", base=BASE)
    try:
        for store in (remote, embedded):
            store.replace_graph(store.graph_iri("curated"), SAMPLE[:3])
            store.add_graph(store.graph_iri("contribution/1"), SAMPLE[3:] + SAMPLE[:1])
        queries = [
            "SELECT ?s ?o WHERE { ?s <https://schema.org/name> ?o } ORDER BY ?s ?o",
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
        ]
        for query in queries:
            assert without_labels(remote.select(query)) == without_labels(
                embedded.select(query)), query
        assert remote.ask(f"ASK {{ <{EX}a> ?p ?o }}") and not remote.ask(f"ASK {{ <{EX}z> ?p ?o }}")
        construct = f"CONSTRUCT {{ <{EX}b> ?p ?o }} WHERE {{ <{EX}b> ?p ?o }}"
        assert set(remote.construct(construct)) == set(embedded.construct(construct))
        assert remote.graph_names() == embedded.graph_names()
        assert set(remote.graph_triples(remote.graph_iri("curated"))) == set(SAMPLE[:3])
        blank = remote.graph_triples(remote.graph_iri("contribution/1"))
        assert len(blank) == 3 and any(isinstance(t.subject, ox.BlankNode) for t in blank)
    finally:
        embedded.close()


def test_meta_graph_and_other_graphs_stay_out_of_answers(remote: RemoteStore,
                                                         oxigraph_server: OxigraphServer):
    import requests

    remote.replace_graph(remote.graph_iri("curated"), SAMPLE[:1])
    # A graph filmld did not write (another application's, or a server's system graph).
    requests.post(oxigraph_server.url.replace("/query", "/update"), timeout=5, data={
        "update": "INSERT DATA { GRAPH <http://other/g> { <http://x> <http://y> <http://z> } }"})
    assert remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value == "1"
    assert remote.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }") == [
        {"g": ox.NamedNode(remote.graph_iri("curated"))}]
    assert remote.graph_names() == [remote.graph_iri("curated")]


def test_a_write_through_one_worker_changes_the_version_another_worker_reads(
        oxigraph_server: OxigraphServer):
    oxigraph_server.clear()
    one = RemoteStore(oxigraph_server.url, base=BASE)
    other = RemoteStore(oxigraph_server.url, base=BASE)
    before = other.version()
    assert before == one.version()
    assert other.select("SELECT * WHERE { ?s ?p ?o }") == []
    one.add_graph(one.graph_iri("contribution/7"), SAMPLE[:1])
    assert other.version() != before
    assert len(other.select("SELECT * WHERE { ?s ?p ?o }")) == 1  # no stale graph list
    after = other.version()
    one.remove_graph(one.graph_iri("contribution/7"))
    assert other.version() != after
    assert other.select("SELECT * WHERE { ?s ?p ?o }") == []


def test_replacing_a_graph_with_the_same_triples_keeps_the_version(remote: RemoteStore):
    remote.replace_graph(remote.graph_iri("curated"), SAMPLE[:3])
    version = remote.version()
    restarted = RemoteStore(remote.endpoints.query, base=BASE)
    restarted.replace_graph(restarted.graph_iri("curated"), list(reversed(SAMPLE[:3])))
    assert restarted.version() == version
    restarted.replace_graph(restarted.graph_iri("curated"), SAMPLE[:2])
    assert restarted.version() != version
    assert len(remote.graph_triples(remote.graph_iri("curated"))) == 2
    assert remote.last_modified() > time.time() - 60


def test_dump_streams_every_graph_with_its_name(remote: RemoteStore):
    remote.replace_graph(remote.graph_iri("curated"), SAMPLE[:3])
    remote.add_graph(remote.graph_iri("extra"), SAMPLE[3:])
    quads = list(ox.parse(b"".join(remote.dump(NQUADS)), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {remote.graph_iri("curated"),
                                                   remote.graph_iri("extra")}
    assert len(quads) == 5
    assert len(list(ox.parse(b"".join(remote.dump(NTRIPLES)),
                             format=ox.RdfFormat.N_TRIPLES))) == 5


def test_virtuoso_batching_and_blank_nodes_write_the_same_graph(remote: RemoteStore):
    """Virtuoso's quirks (batches of at most 1,000 triples, blank nodes through
    INSERT {} WHERE {}) exercised against Oxigraph, which accepts both forms."""
    remote.endpoints = replace(remote.endpoints, dialect="virtuoso", graph_store=None)
    many = [triple(f"s{i}", ox.Literal(f"name {i}", language="en")) for i in range(2500)]
    nested = [triple("a", ox.BlankNode("x"), ox.NamedNode("https://schema.org/address")),
              triple("_:x", ox.BlankNode("y"), ox.NamedNode("https://schema.org/geo")),
              triple("_:y", ox.Literal("1.5"))]
    remote.replace_graph(remote.graph_iri("curated"), many + nested)
    assert remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value == "2503"
    rows = remote.select(f"SELECT ?v WHERE {{ <{EX}a> <https://schema.org/address>/"
                         "<https://schema.org/geo>/<https://schema.org/name> ?v }")
    assert rows == [{"v": ox.Literal("1.5")}]
    assert len(remote.graph_triples(remote.graph_iri("curated"))) == 2503  # CONSTRUCT path


# -- failure and recovery -------------------------------------------------------------------
def test_a_store_that_refuses_connections_is_a_503_with_retry_after():
    store = RemoteStore(f"http://127.0.0.1:{free_port()}/query", base=BASE, retry_after=7)
    with pytest.raises(StoreUnavailable) as caught:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == "7"
    assert "unavailable" in caught.value.message and "127.0.0.1" in caught.value.message
    # version() never raises: a token never seen before, so no cache keyed by it is stale.
    assert store.version() != store.version()


def test_a_store_that_never_answers_times_out_as_a_503():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    accepting = threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True)
    accepting.start()
    try:
        port = listener.getsockname()[1]
        store = RemoteStore(f"http://127.0.0.1:{port}/query", base=BASE, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="no answer within 0.5 s"):
            store.select("SELECT * WHERE { ?s ?p ?o }")
        assert time.monotonic() - started < 3
    finally:
        for conn in held:
            conn.close()
        listener.close()


def test_pages_answer_503_while_the_store_is_down_and_recover_when_it_returns(tmp_path: Path):
    server = start_oxigraph(tmp_path)
    try:
        settings = Settings(store=server.url, store_timeout=3)
        app = create_app(settings)
        client = app.test_client()
        assert client.get("/id/film/mask-1985").status_code == 303
        server.stop()
        down = client.get("/id/film/mask-1985")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == str(settings.store_retry_after)
        assert "unavailable" in down.get_json()["error"]["message"]
        server.start()
        back = client.get("/id/film/mask-1985")
        assert back.status_code == 303, back.get_data(as_text=True)[:500]
        app.extensions["filmld.store"].close()
    finally:
        server.stop()


def test_a_hung_store_is_one_store_timeout_per_request_not_one_per_call(tmp_path: Path):
    """Every call of a request waited its own store_timeout, and updates 60 s at least: with
    store_timeout=1 a page took 3 s and a contribution over a minute (clients gave up)."""
    import signal

    server = start_oxigraph(tmp_path)
    try:
        settings = Settings(store=server.url, store_timeout=1, tokens="alice:s3cret")
        app = create_app(settings)
        client = app.test_client()
        assert client.get("/id/film/mask-1985.ttl").status_code == 200
        server.process.send_signal(signal.SIGSTOP)  # it accepts connections, answers nothing
        try:
            for request in (
                    lambda: client.get("/id/person/cher.ttl"),
                    lambda: client.post("/contributions", data=(
                        '<id/person/x> a <https://schema.org/Person> ; '
                        '<https://schema.org/name> "X" .'), headers={
                        "Authorization": "Bearer s3cret", "Content-Type": "text/turtle"})):
                time.sleep(1.5)  # a new request, not the tail of the last one
                started = time.monotonic()
                answer = request()
                assert answer.status_code == 503
                assert answer.headers["Retry-After"] == str(settings.store_retry_after)
                assert "no answer within 1 s" in answer.get_json()["error"]["message"]
                assert time.monotonic() - started < 1.9
        finally:
            server.process.send_signal(signal.SIGCONT)
        time.sleep(1.5)
        assert client.get("/id/person/cher.ttl").status_code == 200  # and it recovers
        app.extensions["filmld.store"].close()
    finally:
        server.stop()


# -- contributions' contract: change_graphs and write_lock (store/base.py) -------------------
def test_change_graphs_drops_and_adds_in_one_step_with_a_new_version(remote: RemoteStore):
    remote.add_graph(remote.graph_iri("contribution/1"), SAMPLE[:1])
    remote.add_graph(remote.graph_iri("contribution/2"), SAMPLE[1:2])
    version = remote.version()
    remote.change_graphs(drop=[remote.graph_iri("contribution/1")],
                         add={remote.graph_iri("contribution/3"): SAMPLE[2:]})
    assert remote.version() != version
    assert remote.graph_names() == [remote.graph_iri("contribution/2"),
                                    remote.graph_iri("contribution/3")]
    assert len(remote.graph_triples(remote.graph_iri("contribution/3"))) == 3


def test_change_graphs_is_all_or_nothing(remote: RemoteStore, monkeypatch):
    remote.add_graph(remote.graph_iri("contribution/1"), SAMPLE[:1])
    version = remote.version()
    # The last operation of the request fails while it runs (after the drop and the insert).
    bump = remote._bump
    monkeypatch.setattr(remote, "_bump", lambda *a, **k: bump(*a, **k)
                        + " ;\nLOAD <http://127.0.0.1:1/refused> INTO GRAPH <http://x/>")
    with pytest.raises(StoreUnavailable):
        remote.change_graphs(drop=[remote.graph_iri("contribution/1")],
                             add={remote.graph_iri("contribution/2"): SAMPLE[1:2]})
    assert remote.version() == version
    assert remote.graph_names() == [remote.graph_iri("contribution/1")]
    assert remote.select("SELECT * WHERE { ?s ?p ?o }") != []


def test_write_lock_serialises_read_then_write_across_workers(
        oxigraph_server: OxigraphServer):
    """Two workers (two store objects, as in two processes) increment one counter."""
    oxigraph_server.clear()
    counter = "http://127.0.0.1:8000/graph/counter"

    def increment(store: RemoteStore, times: int) -> None:
        for _ in range(times):
            with store.write_lock():
                rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{counter}> {{ ?s ?p ?n }} }}")
                value = int(rows[0]["n"].value) if rows else 0
                store.replace_graph(counter, [triple("counter", ox.Literal(str(value + 1)))])

    workers = [RemoteStore(oxigraph_server.url, base=BASE) for _ in range(2)]
    threads = [threading.Thread(target=increment, args=(w, 15)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    rows = workers[0].select(f"SELECT ?n WHERE {{ GRAPH <{counter}> {{ ?s ?p ?n }} }}")
    assert rows[0]["n"].value == "30"


def test_write_lock_is_reentrant_and_freed_after_an_error(remote: RemoteStore):
    with pytest.raises(RuntimeError), remote.write_lock(), remote.write_lock():
        raise RuntimeError("validation failed")
    other = RemoteStore(remote.endpoints.query, base=BASE)
    other.lock_wait = 2
    with other.write_lock():
        pass


# -- query_stream: /sparql on a remote store (store/base.py contract, issue 5) ---------------
def test_query_stream_streams_json_and_n_triples_over_the_dataset(remote: RemoteStore):
    remote.replace_graph(remote.graph_iri("curated"), SAMPLE[:3])
    remote.add_graph(remote.graph_iri("other"), SAMPLE[3:])
    with remote.query_stream("SELECT ?s WHERE { ?s ?p ?o }", kind="tabular") as answer:
        rows = json.loads(answer.read())["results"]["bindings"]
    assert len(rows) == 5
    with remote.query_stream("ASK { ?s ?p ?o }", kind="boolean",
                             default_graphs=[]) as answer:
        assert json.loads(answer.read()) == {"head": {}, "boolean": False}
    with remote.query_stream("CONSTRUCT WHERE { ?s ?p ?o }", kind="graph",
                             default_graphs=[remote.graph_iri("curated")]) as answer:
        assert len(list(ox.parse(answer, format=ox.RdfFormat.N_TRIPLES))) == 3
    with remote.query_stream("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", kind="tabular",
                             named_graphs=[remote.graph_iri("other")]) as answer:
        graphs = {r["g"]["value"] for r in json.loads(answer.read())["results"]["bindings"]}
    assert graphs == {remote.graph_iri("other")}


def test_query_stream_errors_follow_the_contract(remote: RemoteStore):
    from filmld.errors import SyntaxProblem

    with pytest.raises(SyntaxProblem):
        remote.query_stream("SELECT WHERE {", kind="tabular")
    down = RemoteStore(f"http://127.0.0.1:{free_port()}/query", base=BASE)
    with pytest.raises(StoreUnavailable):
        down.query_stream("SELECT * WHERE { ?s ?p ?o }", kind="tabular", default_graphs=[],
                          named_graphs=[])


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT * FROM <http://x/g> { ?s ?p ?o }", True),
    ("select * from named <http://x/g> { graph ?g { ?s ?p ?o } }", True),
    ('SELECT ?from { ?from ?p "FROM" } # FROM <http://x/g>', False),
    ("PREFIX ex: <http://x/> SELECT * { ?s ex:from ?o }", False),
    ("SELECT * { ?s <http://x/FROM> ?o }", False),
])
def test_a_query_with_its_own_dataset_keeps_it(query: str, expected: bool):
    from filmld.store.remote import has_dataset_clause

    assert has_dataset_clause(query) is expected


def test_from_in_a_query_is_not_replaced_by_the_union(remote: RemoteStore):
    remote.replace_graph(remote.graph_iri("curated"), SAMPLE[:1])
    remote.replace_graph(remote.graph_iri("ontology"), SAMPLE[1:2])
    query = f"ASK FROM <{remote.graph_iri('ontology')}> {{ <{EX}a> <{P.value}> ?o }}"
    with remote.query_stream(query, kind="boolean") as answer:
        assert json.loads(answer.read())["boolean"] is False


def test_the_servers_syntax_error_keeps_its_line_and_column(remote: RemoteStore):
    from filmld.errors import SyntaxProblem

    with pytest.raises(SyntaxProblem) as caught:
        remote.query_stream("SELECT *\nWHERE {\n?s ?p }", kind="tabular")
    assert caught.value.line == 3 and caught.value.column is not None
