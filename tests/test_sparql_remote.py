"""/sparql on the remote backend (issue 7's RemoteStore against a real Oxigraph server)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from filmld.config import Settings
from filmld.web import create_app
from filmld.web.sparql import close_query_pool

BASE = "http://127.0.0.1:8000/"
FILM = BASE + "id/film/mask-1985"
CAST = f"""PREFIX schema: <https://schema.org/>
SELECT ?actor WHERE {{ <{FILM}> schema:actor/schema:actor ?actor }} ORDER BY ?actor"""


@pytest.fixture(scope="module")
def client(oxigraph_server):
    oxigraph_server.clear()
    app = create_app(Settings(store=oxigraph_server.url, query_timeout=2.0, result_limit=30))
    app.config["TESTING"] = True
    yield app.test_client()
    close_query_pool(app)
    app.extensions["filmld.store"].close()


def test_select_through_the_remote_store(client):
    response = client.get("/sparql", query_string={"query": CAST})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["results"]["bindings"]) == 5
    csv = client.get("/sparql", query_string={"query": CAST, "format": "csv"})
    assert csv.get_data().startswith(b"actor\r\n")


def test_result_cap_and_graph_results_through_the_remote_store(client):
    cut = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert cut.headers["X-Filmld-Result-Truncated"] == "true"
    assert len(cut.get_json()["results"]["bindings"]) == 30
    graph = client.get("/sparql", query_string={"query": f"DESCRIBE <{FILM}>"})
    assert graph.mimetype == "text/turtle"
    assert any(q.subject == ox.NamedNode(FILM)
               for q in ox.parse(graph.get_data(), format=ox.RdfFormat.TURTLE))
    ask = client.get("/sparql", query_string={"query": f"ASK {{ <{FILM}> ?p ?o }}"})
    assert ask.get_json()["boolean"] is True


def test_policy_applies_before_the_remote_store(client):
    for query in ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "CLEAR ALL",
                  "SELECT * FROM <http://127.0.0.1:9/g> { ?s ?p ?o }"):
        assert client.get("/sparql", query_string={"query": query}).status_code == 400
    bad = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p }"})
    assert bad.status_code == 400


def test_query_page_through_the_remote_store(client):
    page = client.get("/sparql", query_string={"query": CAST}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and ">Cher</a>" in page.get_data(as_text=True)


def test_remote_queries_share_a_concurrency_limit(client):
    from filmld.web.sparql import remote_slots

    app = client.application
    with app.app_context():
        slots = remote_slots(app)
    for _ in range(slots.concurrency):
        slots.semaphore.acquire()
    slots.waiting = slots.waiting_limit  # as if the queue were full
    try:
        refused = client.get("/sparql", query_string={"query": CAST})
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert client.get("/id/film/mask-1985.ttl").status_code == 200
    finally:
        slots.waiting = 0
        for _ in range(slots.concurrency):
            slots.semaphore.release()
    assert client.get("/sparql", query_string={"query": CAST}).status_code == 200


# -- the server's bytes passed through, or relayed (issue 7) -----------------------------------
def _values(count: int) -> str:
    """`count` rows; the first is a literal that CSV must quote (line break, comma, quote)."""
    values = ['"a\\nb, \\"c\\""'] + [str(n) for n in range(2, count + 1)]
    return " ".join(values[:count])


def _select(count: int) -> str:
    return f"SELECT ?n WHERE {{ VALUES ?n {{ {_values(count)} }} }}"


def _construct(count: int) -> str:
    return (f"CONSTRUCT {{ ?s <urn:p> ?n }} WHERE {{ VALUES ?n {{ {_values(count)} }} "
            'BIND(IRI(CONCAT("urn:s", MD5(STR(?n)))) AS ?s) }')


def _parsed(body: bytes, fmt: str):
    """A result as comparable rows: what a client parses, never the bytes."""
    import csv
    import io
    import json

    if fmt == "nt":
        return sorted(str(t) for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    if fmt == "csv":
        return [row for row in csv.reader(io.StringIO(body.decode(), newline=""))]
    if fmt == "json":
        data = json.loads(body)
        data.pop("x-filmld-truncated", None)
        return data
    kind = {"xml": ox.QueryResultsFormat.XML, "tsv": ox.QueryResultsFormat.TSV}[fmt]
    parsed = ox.parse_query_results(body, format=kind)
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = [v.value for v in parsed.variables]
    return names, [[str(s[n]) for n in names] for s in parsed]


def _both_paths(client, monkeypatch, query: str, fmt: str):
    """The answer passed through, then the same request through the relay."""
    from filmld.store.remote import RemoteStore

    passed = client.get("/sparql", query_string={"query": query, "format": fmt})
    with monkeypatch.context() as patch:
        patch.setattr(RemoteStore, "answers_in", lambda self, kind, name: False)
        relayed = client.get("/sparql", query_string={"query": query, "format": fmt})
    assert passed.status_code == relayed.status_code == 200, passed.get_data(as_text=True)
    return passed, relayed


@pytest.mark.parametrize("rows, cut", [(0, False), (30, False), (31, True), (45, True)])
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv", "nt"])
def test_passed_through_answers_equal_relayed_ones_at_and_over_the_cap(
        client, monkeypatch, fmt, rows, cut):
    """The module's cap is 30: empty, exactly at the cap, one over it, well over it."""
    store = client.application.extensions["filmld.store"]
    kind = "graph" if fmt == "nt" else "tabular"
    assert store.answers_in(kind, fmt)  # Oxigraph server: the pass-through path
    query = _construct(rows) if fmt == "nt" else _select(rows)
    passed, relayed = _both_paths(client, monkeypatch, query, fmt)
    for response in (passed, relayed):
        assert response.headers["X-Filmld-Result-Truncated"] == ("true" if cut else "false")
        assert ("X-Filmld-Result-Note" in response.headers) is cut
    assert passed.content_type == relayed.content_type
    assert _parsed(passed.data, fmt) == _parsed(relayed.data, fmt)
    found = _parsed(passed.data, fmt)
    count = {"json": lambda: len(found["results"]["bindings"]), "csv": lambda: len(found) - 1,
             "nt": lambda: len(found)}.get(fmt, lambda: len(found[1]))()
    assert count == min(rows, 30)


@pytest.mark.parametrize("fmt, passes", [("json", True), ("xml", True), ("csv", False),
                                         ("tsv", False)])
def test_ask_passes_through_where_oxigraph_writes_it_as_filmld_does(client, monkeypatch,
                                                                   fmt, passes):
    """Oxigraph writes ASK in CSV and TSV as a bare `true`, without `_askResult`: relayed."""
    store = client.application.extensions["filmld.store"]
    assert store.answers_in("boolean", fmt) is passes
    passed, relayed = _both_paths(client, monkeypatch, f"ASK {{ <{FILM}> ?p ?o }}", fmt)
    assert passed.data == relayed.data if fmt in ("csv", "tsv") else \
        _parsed(passed.data, fmt) == _parsed(relayed.data, fmt)
    assert passed.headers["X-Filmld-Result-Truncated"] == "false"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv", "nt"])
def test_large_answers_stream_and_say_their_cut_at_the_end(client, monkeypatch, fmt):
    """Beyond HOLD_BYTES (made small here) the body streams with 'unknown' and a cut is said
    at its end, as the relay says it; a complete one has no note and parses whole."""
    import filmld.sparql_passthrough
    import filmld.web.sparql
    from filmld.sparql_results import write_solutions

    for module in (filmld.sparql_passthrough, filmld.web.sparql):
        monkeypatch.setattr(module, "HOLD_BYTES", 60)
    monkeypatch.setattr(write_solutions, "__defaults__", (60,))  # the relay's CSV/TSV rule
    over = _construct(40) if fmt == "nt" else _select(40)
    passed, relayed = _both_paths(client, monkeypatch, over, fmt)
    note = b"filmld: result truncated after 30 "
    ending = {"json": b',"x-filmld-truncated":{"limit":30}}\n', "xml": b" --></sparql>\n",
              "csv": b" (the endpoint's result limit)\r\n",
              "tsv": b" (the endpoint's result limit)\n",
              "nt": b" (the endpoint's result limit)\n"}[fmt]
    for response in (passed, relayed):
        assert response.headers["X-Filmld-Result-Truncated"] == "unknown"
        assert response.data.endswith(ending)
        assert fmt == "json" or note in response.data.splitlines()[-1]
    if fmt in ("csv", "tsv"):  # the note is a last line of its own, which parsers refuse
        assert passed.data.splitlines()[-1] == relayed.data.splitlines()[-1]
        assert _parsed(passed.data.rsplit(b"\n# ", 1)[0] + b"\n", fmt) == \
            _parsed(relayed.data.rsplit(b"\n# ", 1)[0] + b"\n", fmt)
    else:
        assert _parsed(passed.data, fmt) == _parsed(relayed.data, fmt)
    complete = _construct(30) if fmt == "nt" else _select(30)
    passed, relayed = _both_paths(client, monkeypatch, complete, fmt)
    assert passed.headers["X-Filmld-Result-Truncated"] == "unknown"
    assert b"truncated" not in passed.data
    assert _parsed(passed.data, fmt) == _parsed(relayed.data, fmt)


class _StopsAfter:
    """A remote answer that times out after `size` bytes (a runaway query on Oxigraph
    server would keep its CPU after the test: shared/stores/README.md)."""

    def __init__(self, stream, size: int) -> None:
        self.stream, self.left, self.deadline = stream, size, 0.0

    def read(self, size: int = -1) -> bytes:
        from filmld.errors import QueryTimeout

        if self.left <= 0:
            raise QueryTimeout("the query ran longer than 2 s")
        data = self.stream.read(min(size, self.left))
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.stream.close()


@pytest.mark.parametrize("fmt", ["json", "csv", "nt"])
def test_passed_through_errors_keep_line_column_and_the_time_limit(client, monkeypatch, fmt):
    bad = client.get("/sparql", query_string={"query": "SELECT *\nWHERE {\n?s ?p }",
                                              "format": fmt if fmt != "nt" else "csv"})
    assert bad.status_code == 400 and bad.get_json()["error"]["line"] == 3
    import filmld.native_results
    import filmld.sparql_passthrough
    import filmld.web.sparql

    store = client.application.extensions["filmld.store"]
    real = store.query_stream
    size = 1000 if fmt == "json" else 100
    monkeypatch.setattr(store, "query_stream",
                        lambda *a, **k: _StopsAfter(real(*a, **k), size))
    query = _construct(25) if fmt == "nt" else _select(25)
    early = client.get("/sparql", query_string={"query": query, "format": fmt})
    assert early.status_code == 503 and early.headers["Retry-After"]  # before any byte
    for module in (filmld.sparql_passthrough, filmld.web.sparql):
        monkeypatch.setattr(module, "HOLD_BYTES", 60)
    # JSON's rows are found by native_results.RowWriter, which holds SCAN_BYTES first
    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", 200)
    late = client.get("/sparql", query_string={"query": query, "format": fmt})
    assert late.status_code == 200  # the headers were sent: the body says the cut
    assert late.headers["X-Filmld-Result-Truncated"] == "unknown"
    assert late.data.rstrip().endswith(b"this response is incomplete")
    assert b"RESULT STREAM CUT" in late.data


def test_relative_iris_and_blank_nodes_pass_through_as_relayed(client, monkeypatch):
    query = ('BASE <http://127.0.0.1:8000/> SELECT ?x ?b WHERE { BIND(<id/film/mask-1985> AS ?x)'
             " BIND(BNODE() AS ?b) }")
    relative = "SELECT ?x WHERE { BIND(<id/film/mask-1985> AS ?x) }"
    for fmt in ("json", "xml", "tsv"):
        passed, relayed = _both_paths(client, monkeypatch, relative, fmt)
        assert _parsed(passed.data, fmt) == _parsed(relayed.data, fmt)
        assert FILM.encode() in passed.data
        answer = client.get("/sparql", query_string={"query": query, "format": fmt})
        assert answer.status_code == 200 and b"_:" in answer.data or b"bnode" in answer.data


def test_a_graph_another_worker_registers_is_queried_at_once(client, oxigraph_server):
    """No registry kept between queries: GET and POST both see it (issue 7)."""
    from filmld.store.remote import RemoteStore

    other = RemoteStore(oxigraph_server.url, base=BASE)
    graph = BASE + "contributions/fresh"
    query = f"ASK {{ <{BASE}id/person/fresh> ?p ?o }}"
    assert client.post("/sparql", data={"query": query}).get_json()["boolean"] is False
    try:
        other.add_graph(graph, [ox.Triple(ox.NamedNode(f"{BASE}id/person/fresh"),
                                          ox.NamedNode("https://schema.org/name"),
                                          ox.Literal("Fresh"))])
        assert client.post("/sparql", data={"query": query}).get_json()["boolean"] is True
        assert client.get("/sparql", query_string={"query": query}).get_json()["boolean"]
        named = client.get("/sparql", query_string={
            "query": f"ASK FROM <{graph}> {{ ?s ?p ?o }}"})
        assert named.status_code == 200 and named.get_json()["boolean"] is True
    finally:
        other.remove_graph(graph)
        other.close()
    assert client.post("/sparql", data={"query": query}).get_json()["boolean"] is False
