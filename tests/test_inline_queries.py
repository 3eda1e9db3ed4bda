"""Queries bounded by construction are answered in the server process (inline_queries.py),
with the same bytes as a worker, and nothing that could run away is ever taken for one."""

from __future__ import annotations

import json

import pytest

from filmld import inline_queries
from filmld.config import Settings
from filmld.inline_queries import evaluate, is_bounded
from filmld.query_pool import QueryRequest
from filmld.web import create_app
from filmld.web.sparql import close_query_pool, query_pool

BASE = "http://127.0.0.1:8000/"
CHER = f"<{BASE}id/person/cher>"
FILM = f"<{BASE}id/film/mask-1985>"
RDFS = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"

BOUNDED = [
    f"DESCRIBE {CHER}",
    f"DESCRIBE {CHER} {FILM}",
    f"{RDFS}SELECT ?label WHERE {{ {CHER} rdfs:label ?label }}",
    f"{RDFS}SELECT * {{ ?s rdfs:label \"Cher\"@en . }}",
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 7",
    "ASK { ?s a <https://schema.org/Movie> }",
    f"BASE <{BASE}> SELECT ?o {{ <id/person/cher> ?p ?o }}",
    'SELECT ?s { ?s ?p "1985"^^<http://www.w3.org/2001/XMLSchema#gYear> }',
]

UNBOUNDED = [
    "SELECT ?s { ?s ?p ?s }",  # a repeated variable scans everything to return a few
    "SELECT DISTINCT ?p { ?s ?p ?o }",
    "SELECT ?s { ?s ?p ?o } ORDER BY ?s",
    "SELECT ?s { ?s ?p ?o } OFFSET 100000",
    "SELECT ?s { ?s ?p ?o . ?o ?q ?r }",
    "SELECT ?s { ?s ?p ?o FILTER(STRLEN(?o) > 100000) }",
    "SELECT ?s { ?s <http://a>/<http://b>* ?o }",
    "SELECT ?s { ?s ?p ?o OPTIONAL { ?o ?q ?r } }",
    "SELECT ?s { { ?s ?p ?o } UNION { ?a ?b ?c } }",
    "SELECT ?s { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s FROM <http://example.org/g> { ?s ?p ?o }",
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "SELECT ?s { ?s ?p ?o BIND(1 AS ?x) }",
    "SELECT ?s { VALUES ?s { <http://a> } ?s ?p ?o }",
    "SELECT ?s { ?s ?p [ ?q ?r ] }",
    "SELECT ?s { { SELECT ?s { ?s ?p ?o } } }",
    "DESCRIBE ?s WHERE { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o }",
    "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
]


@pytest.mark.parametrize("query", BOUNDED)
def test_a_lookup_is_bounded(query):
    assert is_bounded(query)


@pytest.mark.parametrize("query", UNBOUNDED)
def test_anything_that_could_run_away_goes_to_a_worker(query):
    assert not is_bounded(query)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(Settings(store=str(tmp_path_factory.mktemp("inline") / "store"),
                              result_limit=5, query_workers=1))
    yield app
    close_query_pool(app)
    app.extensions["filmld.store"].close()


def _both(app, query: str, fmt: str):
    pool = query_pool(app)
    answers = []
    for inline in (True, False):
        request = QueryRequest(query, fmt, 5, base_iri=BASE, inline=inline)
        stream = pool.run(request)
        body = stream.body if stream.body is not None else stream.read_all()
        answers.append((stream.media_type, stream.truncated, body))
    return answers


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("query", [BOUNDED[2], BOUNDED[4], BOUNDED[5], BOUNDED[6]])
def test_inline_answers_are_the_workers_bytes(app, query, fmt):
    inline, worker = _both(app, query, fmt)
    assert inline == worker
    assert inline[2]


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld", "rdf"])
def test_inline_descriptions_are_the_workers_bytes(app, fmt):
    inline, worker = _both(app, f"DESCRIBE {FILM}", fmt)
    assert inline == worker
    assert inline[1] is True  # the film has more than 5 triples: cut at the limit, said


def test_a_cut_is_said_as_the_worker_says_it(app):
    inline, worker = _both(app, "SELECT * { ?s ?p ?o }", "json")
    assert inline == worker
    assert inline[1] is True
    assert len(json.loads(inline[2])["results"]["bindings"]) == 5


def test_a_syntax_error_in_a_lookup_is_a_400_with_line_and_column(app):
    query = 'SELECT ?o WHERE {\n  undeclared:cher ?p ?o }'
    assert is_bounded(query)
    response = app.test_client().get("/sparql", query_string={"query": query},
                                     headers={"Accept": "application/json"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["line"] == 2 and error["column"] >= 3


def test_an_answer_too_large_to_hold_goes_to_a_worker_and_arrives_whole(app, monkeypatch):
    query = "SELECT ?s ?p ?o { ?s ?p ?o }"
    request = {"query": query, "format": "json", "limit": 5, "base_iri": BASE}
    store = app.extensions["filmld.store"].store
    whole = evaluate(store, request)
    assert whole is not None
    monkeypatch.setattr(inline_queries, "HOLD_BYTES", 100)
    assert evaluate(store, request) is None
    response = app.test_client().get("/sparql", query_string={"query": query + " # spilled"},
                                     headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.data == whole.body


def test_lookups_answer_while_every_query_slot_is_taken(app):
    """A burst of heavy queries fills the slots and the queue; a lookup does not wait."""
    slots = query_pool(app).slots
    for _ in range(slots.concurrency):
        assert slots.semaphore.acquire(blocking=False)
    slots.waiting += slots.waiting_limit
    try:
        client = app.test_client()
        heavy = client.get("/sparql", query_string={"query": UNBOUNDED[4]},
                           headers={"Accept": "application/sparql-results+json"})
        assert heavy.status_code == 503
        lookup = client.get("/sparql", query_string={"query": BOUNDED[2]},
                            headers={"Accept": "application/sparql-results+json"})
        assert lookup.status_code == 200
        assert lookup.get_json()["results"]["bindings"][0]["label"]["value"] == "Cher"
    finally:
        slots.waiting -= slots.waiting_limit
        for _ in range(slots.concurrency):
            slots.semaphore.release()

