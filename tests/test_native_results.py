"""SELECT answers written by pyoxigraph's own serialiser keep the row cap exact.

The row boundaries are found in the bytes (native_results.py), so the data here holds
literals built to look like row boundaries in each format, and rows with no binding at all.
Every answer is compared, parsed, with the one write_solutions gives for the same rows.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from filmld.config import Settings
from filmld.native_results import NATIVE, native_solutions
from filmld.sparql_results import RESULT_FORMATS, write_solutions
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


@pytest.mark.parametrize("name", sorted(NATIVE))
@pytest.mark.parametrize("query", sorted(QUERIES))
@pytest.mark.parametrize("limit", [0, 1, 7, 8, 9, 10, 100])
def test_native_answer_equals_the_python_serialiser(name, query, limit):
    store = _store()
    fmt = RESULT_FORMATS[name]
    native = native_solutions(fmt, store.query(QUERIES[query]), limit)
    pieces: list[bytes] = []
    result = store.query(QUERIES[query])
    rows, cut = write_solutions(fmt, [v.value for v in result.variables], result, limit,
                                pieces.append)
    expected = b"".join(pieces)
    if native is None:  # only where JSON holds '{}' (an empty row, or a literal like one)
        whole = store.query(QUERIES[query]).serialize(format=NATIVE[name])  # and a cut
        assert name == "json" and cut and (b",{}" in whole or b"[{}" in whole)
        return
    body, native_rows, native_cut = native
    if native_rows is None:  # not counted: the bytes are too few for more than the cap
        assert not native_cut and not cut and rows <= limit
    else:
        assert (native_rows, native_cut) == (rows, cut)
    assert _rows(body, name) == _rows(expected, name)
    if name == "json" and cut:
        assert json.loads(body)["x-filmld-truncated"] == {"limit": limit}
    if name == "xml" and cut:
        assert b"<!-- filmld: result truncated after" in body


def test_an_answer_over_the_bound_is_left_to_the_python_serialiser():
    store = _store()
    fmt = RESULT_FORMATS["json"]
    assert native_solutions(fmt, store.query(QUERIES["tricky literals"]), 100, bound=64) \
        is None


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
