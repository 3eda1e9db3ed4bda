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
