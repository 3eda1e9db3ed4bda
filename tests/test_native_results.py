"""SELECT answers written by pyoxigraph's own serialiser keep the row cap exact.

The row boundaries are found in the bytes (native_results.py), so the data here holds
literals built to look like row boundaries in each format, and rows with no binding at all.
Every answer is compared, parsed, with the one write_solutions gives for the same rows.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

import filmld.native_results
from filmld.config import Settings
from filmld.native_results import NATIVE, SCAN_BYTES, write_native
from filmld.sparql_results import RESULT_FORMATS, write_solutions, write_triples
from filmld.web import create_app
from filmld.web.sparql import close_query_pool

EX = "http://example.org/"
TRICKY = ['a,{"x":{"type":"uri"', 'b<result></result>', "c\n\td", 'd},{"s":{', "e,{}",
          '{}', "plain", 'f\\"},{"s":{"type":"literal","value":"g']


def _store() -> ox.Store:
    store = ox.Store()
    for index, text in enumerate(TRICKY):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"),
                          ox.Literal(text), ox.DefaultGraph()))
    return store


def _rows(body: bytes, name: str) -> list[dict]:
    if name == "json":  # pyoxigraph's reader refuses members after "results"; JSON does not
        data = json.loads(body)
        data.pop("x-filmld-truncated", None)
        body = json.dumps(data).encode()
    parsed = ox.parse_query_results(body, format=NATIVE[name])
    names = [v.value for v in parsed.variables]
    return [{n: str(s[n]) for n in names if s[n] is not None} for s in parsed]


QUERIES = {
    "tricky literals": "SELECT ?s ?o { ?s ?p ?o } ORDER BY ?s",
    "row-like literals": 'SELECT ?s ?o { ?s ?p ?o FILTER(!CONTAINS(?o, "{}")) } ORDER BY ?s',
    "empty rows and literals": "SELECT ?s ?o ?none { { ?s ?p ?o } UNION { VALUES ?none "
                               "{ UNDEF UNDEF } } } ORDER BY ?s",
    "no rows": "SELECT ?s { ?s ?p 42 }",
}


def _native(store: ox.Store, query: str, name: str, limit: int) -> tuple[bytes, int | None,
                                                                       bool, list[bytes]]:
    pieces: list[bytes] = []
    rows, cut = write_native(RESULT_FORMATS[name], store.query(query), limit, pieces.append)
    return b"".join(pieces), rows, cut, pieces


@pytest.mark.parametrize("scan", [7, 64, SCAN_BYTES])
@pytest.mark.parametrize("name", sorted(NATIVE))
@pytest.mark.parametrize("query", sorted(QUERIES))
@pytest.mark.parametrize("limit", [0, 1, 7, 8, 9, 10, 100])
def test_native_answer_equals_the_python_serialiser(name, query, limit, scan, monkeypatch):
    """`scan`: bytes held before rows are looked for; small values cut the answer into
    many pieces, so row starts fall across piece boundaries."""
    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", scan)
    store = _store()
    fmt = RESULT_FORMATS[name]
    body, native_rows, native_cut, _ = _native(store, QUERIES[query], name, limit)
    pieces: list[bytes] = []
    result = store.query(QUERIES[query])
    rows, cut = write_solutions(fmt, [v.value for v in result.variables], result, limit,
                                pieces.append)
    expected = b"".join(pieces)
    if native_rows is None:  # not counted: the bytes are too few for more than the cap
        assert not native_cut and not cut and rows <= limit
    else:
        assert (native_rows, native_cut) == (rows, cut)
    assert _rows(body, name) == _rows(expected, name)
    if name == "json" and cut:
        assert json.loads(body)["x-filmld-truncated"] == {"limit": limit}
    if name == "xml" and cut:
        assert b"<!-- filmld: result truncated after" in body


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_a_large_answer_streams_in_pieces_and_is_cut_exactly(name, monkeypatch):
    """Past SCAN_BYTES the bytes go on from the last row start: flat memory, one
    evaluation; the cut is at the cap exactly, and TSV says it in a last line once the
    answer is streaming (past HOLD_BYTES), as write_solutions does."""
    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", 4096)
    store = ox.Store()
    literal = 'x,{}"{"a":{' * 3
    for index in range(5000):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index:05}"), ox.NamedNode(EX + "p"),
                          ox.Literal(f"{literal}{index}"), ox.DefaultGraph()))
    query = "SELECT ?s ?o ?none { ?s ?p ?o } ORDER BY ?s"
    body, rows, cut, pieces = _native(store, query, name, 4000)
    assert (rows, cut) == (4000, True)
    assert len(pieces) > 10 and max(len(p) for p in pieces) < 64 << 10
    found = _rows(body, name)
    assert len(found) == 4000 and found[-1]["s"] == f"<{EX}s03999>"
    if name == "tsv":
        assert body.endswith(b"(the endpoint's result limit)\n") == (len(body) >= 1 << 20)
    whole, rows, cut, _ = _native(store, query, name, 5000)
    assert (rows, cut) == (5000, False) and len(_rows(whole, name)) == 5000


GRAPH_QUERIES = {
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "describe": f"DESCRIBE <{EX}s2> <{EX}s6>",
    "empty": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p 42 }",
}


@pytest.mark.parametrize("scan", [7, 64, SCAN_BYTES])
@pytest.mark.parametrize("query", sorted(GRAPH_QUERIES))
@pytest.mark.parametrize("limit", [0, 1, 2, 7, 8, 9, 100])
def test_native_n_triples_equal_the_python_serialiser_cap_and_all(query, limit, scan,
                                                                   monkeypatch):
    """A DESCRIBE or CONSTRUCT in N-Triples is counted in pyoxigraph's own bytes, a line a
    triple (the literals hold escaped line breaks, quotes and comment signs): the same
    bytes, count and cut as write_triples, wherever the pieces break."""
    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", scan)
    store = _store()
    store.add(ox.Quad(ox.NamedNode(f"{EX}s2"), ox.NamedNode(EX + "q"),
                      ox.Literal("# not a comment\n .\r\n"), ox.DefaultGraph()))
    body, rows, cut, _ = _native(store, GRAPH_QUERIES[query], "nt", limit)
    pieces: list[bytes] = []
    expected_rows, expected_cut = write_triples(RESULT_FORMATS["nt"],
                                                store.query(GRAPH_QUERIES[query]), limit,
                                                pieces.append)
    assert body == b"".join(pieces)
    assert cut == expected_cut and (rows is None and not cut or rows == expected_rows)
    if cut:
        assert body.endswith(b"(the endpoint's result limit)\n")
        assert body.count(b"\n") == limit + 1


def test_a_json_answer_with_no_row_start_to_count_at_is_refused_not_cut_silently(
        monkeypatch):
    """Millions of empty rows give no row start the bytes can be split at: past
    STUCK_BYTES the serialiser is stopped with an error (the worker then ends the stream
    with the visible cut marker), never passed on uncounted."""
    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", 64)
    monkeypatch.setattr(filmld.native_results, "STUCK_BYTES", 512)
    store = ox.Store()
    query = "SELECT ?x { VALUES ?x { " + "UNDEF " * 400 + "} }"
    with pytest.raises(ValueError, match="without a row start"):
        _native(store, query, "json", 10000)
    assert len(_rows(_native(store, query, "xml", 10000)[0], "xml")) == 400


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The endpoint with a cap of 5 rows, over the film plus the tricky literals."""
    settings = Settings(store=str(tmp_path_factory.mktemp("native") / "store"),
                        result_limit=5, query_workers=1)
    app = create_app(settings)
    store = app.extensions["filmld.store"]
    store.add_graph(settings.base_url + "graph/tricky", [
        ox.Triple(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(text))
        for i, text in enumerate(TRICKY)])
    yield app.test_client()
    close_query_pool(app)
    store.close()


@pytest.mark.parametrize("name", ["json", "xml", "tsv", "csv"])
def test_the_endpoint_cuts_at_the_cap_exactly_whatever_the_literals(client, name):
    query = f"SELECT ?s ?o {{ ?s <{EX}p> ?o }} ORDER BY ?s"
    cut = client.get("/sparql", query_string={"query": query, "format": name})
    assert cut.status_code == 200
    assert cut.headers["X-Filmld-Result-Truncated"] == "true"
    whole = client.get("/sparql", query_string={"query": query + " LIMIT 5", "format": name})
    assert whole.headers["X-Filmld-Result-Truncated"] == "false"
    if name == "csv":
        assert cut.get_data() == whole.get_data()
        return
    assert _rows(cut.get_data(), name) == _rows(whole.get_data(), name)
    assert len(_rows(cut.get_data(), name)) == 5
    assert [r["o"] for r in _rows(cut.get_data(), name)] == \
        [str(ox.Literal(t)) for t in TRICKY[:5]]
