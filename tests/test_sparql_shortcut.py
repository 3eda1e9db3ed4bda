"""The short way to /sparql (web/sparql_shortcut.py) answers exactly as the Flask view does.

Each request is sent twice: through the whole app (plain GETs take the short way) and
straight to the Flask view under it; status, headers and body must be the same. Errors met
while evaluating are answered once, in the one error shape.
"""

from __future__ import annotations

import time

import pytest
from flask import request_started
from werkzeug.test import Client

from filmld.config import Settings
from filmld.web import create_app
from filmld.web.http import CACHE_MARK
from filmld.web.sparql import close_query_pool
from filmld.web.sparql_shortcut import SparqlShortcut

BASE = "http://127.0.0.1:8000/"
CAST = f"""PREFIX schema: <https://schema.org/>
SELECT ?actor ?name WHERE {{ <{BASE}id/film/mask-1985> schema:actor/schema:actor ?actor .
  ?actor schema:name ?name }} ORDER BY ?actor"""
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(store=str(tmp_path_factory.mktemp("shortcut") / "store"),
                        query_timeout=1.0, result_limit=20, query_workers=1)
    app = create_app(settings)
    yield app
    close_query_pool(app)
    app.extensions["filmld.store"].close()


def _flask_only(app) -> Client:
    """A client for the Flask view alone: under the render cache and the short way."""
    shortcut = app.wsgi_app.app
    assert isinstance(shortcut, SparqlShortcut)
    return Client(shortcut.app)


def _comparable(response) -> tuple:
    """Status, headers and body; without Date, and without the render cache's internal mark
    (the view sets it, the cache removes it before sending)."""
    headers = sorted((k, v) for k, v in response.headers.items()
                     if k not in ("Date", CACHE_MARK))
    return response.status_code, headers, response.get_data()


CASES = [
    ({"query": CAST}, "application/sparql-results+json"),
    ({"query": CAST}, "application/sparql-results+xml"),
    ({"query": CAST, "format": "csv"}, None),
    ({"query": CAST, "output": "tsv"}, None),
    ({"query": "SELECT * { ?s ?p ?o }"}, "application/sparql-results+json"),  # cut at 20
    ({"query": f"ASK {{ <{BASE}id/film/mask-1985> ?p ?o }}"}, None),
    ({"query": f"DESCRIBE <{BASE}id/person/cher>"}, "text/turtle"),
    ({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}, "application/n-triples"),
    ({"query": "SELECT ?s { ?s ?p ?o } LIMIT 3"}, "application/ld+json"),  # 406
    ({"query": "SELEKT * { ?s ?p ?o }"}, None),  # refused by the policy: Flask answers
    ({"query": "SELECT * { ?s ?p ?o } ORDER BY"}, None),  # syntax error met by the worker
    ({"query": f"SELECT * {{ SERVICE <{BASE}> {{ ?s ?p ?o }} }}"}, None),  # refused
]


@pytest.mark.parametrize("params,accept", CASES)
def test_the_short_way_answers_as_the_view(app, params, accept):
    headers = {"Accept": accept} if accept else {}
    whole = app.test_client().get("/sparql", query_string=params, headers=headers)
    alone = _flask_only(app).get("/sparql", query_string=params, headers=headers)
    assert _comparable(whole) == _comparable(alone)
    assert whole.status_code in (200, 400, 406)


def test_a_query_over_the_time_limit_is_stopped_once(app):
    """The evaluation's 503 is answered by the view from the environ: not evaluated again."""
    started = time.monotonic()
    response = app.test_client().get("/sparql", query_string={"query": SLOW},
                                     headers={"Accept": "application/sparql-results+json"})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "time limit" in response.get_json()["error"]["message"]
    assert elapsed < 1.8  # the limit is 1 s; twice would be 2 s and more


def test_a_syntax_error_met_while_evaluating_has_its_line_and_column(app):
    response = app.test_client().get("/sparql", query_string={
        "query": "SELECT *\nWHERE { ?s ?p ?o }\nORDER BY"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["line"] == 3 and error["column"] >= 1


def test_plain_gets_take_the_short_way_and_the_rest_reach_flask(app):
    """What the short way is for: a plain query never builds Flask's request."""
    seen: list[str] = []

    def count(sender, **extra) -> None:
        seen.append("flask")

    client = app.test_client()
    with request_started.connected_to(count, app):
        plain = client.get("/sparql", query_string={"query": CAST + "\n# plain"})
        assert plain.status_code == 200 and seen == []
        posted = client.post("/sparql", data={"query": CAST})
        assert posted.status_code == 200 and seen == ["flask"]
        with_dataset = client.get("/sparql", query_string={
            "query": CAST, "default-graph-uri": BASE + "graph/curated"})
        assert with_dataset.status_code == 200 and seen == ["flask", "flask"]
