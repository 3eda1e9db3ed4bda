"""/sparql against the Flask app: protocol, negotiation, policy, limits, the query page."""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from filmld.config import Settings
from filmld.errors import BadRequest
from filmld.sparql import analyse
from filmld.web import create_app
from filmld.web.sparql import close_query_pool, query_pool

BASE = "http://127.0.0.1:8000/"
FILM = BASE + "id/film/mask-1985"
CAST = f"""PREFIX schema: <https://schema.org/>
SELECT ?actor WHERE {{ <{FILM}> schema:actor/schema:actor ?actor }} ORDER BY ?actor"""
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
RESULTS_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def app(tmp_path_factory, backend):
    """One app per backend (conftest runs this module on the embedded and a remote store)."""
    settings = Settings(store=str(tmp_path_factory.mktemp("sparql") / "store"),
                        query_timeout=1.0, result_limit=50, query_workers=2,
                        query_concurrency=2, max_query_length=30000, max_body_bytes=100000)
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    close_query_pool(app)
    app.extensions["filmld.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, query: str, accept: str | None = None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def assert_error(response, status: int, *words: str) -> dict:
    """filmld's one error shape, with a message that says what was wrong."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["status"] == status
    for word in words:
        assert word.lower() in body["error"]["message"].lower()
    return body["error"]


# -- protocol: the three ways in ---------------------------------------------------------------
def test_get_query_answers_json_results(client):
    response = get(client, CAST)
    assert response.status_code == 200
    assert response.mimetype == RESULTS_JSON
    actors = [b["actor"]["value"] for b in response.get_json()["results"]["bindings"]]
    assert BASE + "id/person/cher" in actors and len(actors) == 5


def test_form_post_and_direct_post_answer_like_get(client):
    by_get = get(client, CAST).get_json()
    by_form = client.post("/sparql", data={"query": CAST}).get_json()
    by_body = client.post("/sparql", data=CAST.encode(),
                          content_type="application/sparql-query; charset=UTF-8").get_json()
    assert by_get == by_form == by_body


@pytest.mark.parametrize("request_args, what", [
    ({"method": "GET", "query_string": "query=ASK%7B%7D&query=ASK%7B%7D"}, "2 query"),
    ({"method": "POST", "data": {"default-graph-uri": "http://x/"}}, "no query"),
    ({"method": "POST", "data": "ASK {}", "content_type": "application/sparql-query",
      "query_string": "query=ASK%7B%7D"}, "must not have a query"),
])
def test_none_or_two_queries_is_400(client, request_args, what):
    assert_error(client.open("/sparql", **request_args), 400, what)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_other_post_media_types_are_415(client, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post("/sparql", data=b"ASK {}", **kwargs)
    assert_error(response, 415, "application/sparql-query")


def test_non_utf8_charset_is_415_and_bad_bytes_400(client):
    assert_error(client.post("/sparql", data="ASK {}".encode("utf-16"),
                             content_type="application/sparql-query; charset=UTF-16"),
                 415, "UTF-8")
    assert_error(client.post("/sparql", data=b"ASK { \xff }",
                             content_type="application/sparql-query"), 400, "UTF-8")


def test_options_and_405_name_the_same_methods(client):
    allowed = {m.strip() for m in client.put("/sparql").headers["Allow"].split(",")}
    options = client.options("/sparql", headers={"Origin": "https://yasgui.example",
                                                 "Access-Control-Request-Method": "POST"})
    assert {m.strip() for m in options.headers["Allow"].split(",")} == allowed
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= allowed


def test_a_negotiated_error_says_vary_accept(client):
    """Errors are a page for browsers and JSON otherwise: caches must key them by Accept."""
    refused = client.get("/sparql", query_string={"query": "ASK {}"},
                         headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "Accept" in refused.headers["Vary"]
    bad = client.get("/sparql", query_string={"query": "SELECT nope"})
    assert bad.status_code == 400 and "Accept" in bad.headers["Vary"]


def test_put_is_405(client):
    assert client.put("/sparql", data={"query": "ASK {}"}).status_code == 405


# -- negotiation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("accept, media_type", [
    (None, RESULTS_JSON),
    ("*/*", RESULTS_JSON),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", RESULTS_JSON),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("text/csv;q=1, application/sparql-results+xml;q=0.2", "text/csv"),
    ("text/html", "text/html"),
])
def test_select_results_by_accept_with_q_values(client, accept, media_type):
    response = get(client, CAST, accept)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept, media_type", [
    (None, "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("text/turtle;q=0.1, application/n-triples", "application/n-triples"),
])
def test_construct_and_describe_by_accept(client, accept, media_type):
    for query in (f"CONSTRUCT {{ <{FILM}> ?p ?o }} WHERE {{ <{FILM}> ?p ?o }}",
                  f"DESCRIBE <{FILM}>"):
        response = get(client, query, accept)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == media_type
        fmt = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
               "application/n-triples": ox.RdfFormat.N_TRIPLES,
               "application/rdf+xml": ox.RdfFormat.RDF_XML}[media_type]
        triples = list(ox.parse(response.get_data(), format=fmt))
        assert any(t.subject == ox.NamedNode(FILM) for t in triples)


@pytest.mark.parametrize("accept, media_type, fmt", [
    # YASGUI's graph-format settings N-Quads and TriG send exactly these
    ("application/n-quads", "application/n-quads", ox.RdfFormat.N_QUADS),
    ("application/trig", "application/trig", ox.RdfFormat.TRIG),
    ("application/n-quads,*/*;q=0.9", "application/n-quads", ox.RdfFormat.N_QUADS),
])
def test_construct_and_describe_in_the_dataset_formats(client, accept, media_type, fmt):
    """A graph answer asked for as N-Quads or TriG is that dataset of one default graph, the
    same triples as N-Triples; a cut one says so in a comment. Both were a 406."""
    for query in (f"CONSTRUCT {{ <{FILM}> ?p ?o }} WHERE {{ <{FILM}> ?p ?o }}",
                  f"DESCRIBE <{FILM}>", "CONSTRUCT WHERE { ?s ?p ?o }"):
        response = get(client, query, accept)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == media_type
        quads = list(ox.parse(response.get_data(), format=fmt))
        assert all(q.graph_name == ox.DefaultGraph() for q in quads)
        as_nt = get(client, query, "application/n-triples")
        assert {q.triple for q in quads} == {
            q.triple for q in ox.parse(as_nt.get_data(), format=ox.RdfFormat.N_TRIPLES)}
        cut = response.headers["X-Filmld-Result-Truncated"] == "true"
        assert cut == (len(quads) == 50)  # the fixture's result_limit
        assert cut == response.get_data(as_text=True).rstrip().splitlines()[-1].startswith(
            "# filmld: result truncated after 50 triples")
    named = get(client, f"DESCRIBE <{FILM}>", format=media_type.split("/")[1])
    assert named.mimetype == media_type
    if fmt == ox.RdfFormat.TRIG:  # written with the base IRI's prefixes, as Turtle is
        assert b"@prefix schema: <https://schema.org/>" in named.get_data()
    described = client.get("/sparql", headers={"Accept": "application/n-triples"})
    formats = "http://www.w3.org/ns/formats/" + ("N-Quads" if "quads" in media_type else "TriG")
    assert f"<{formats}>".encode() in described.get_data()


@pytest.mark.parametrize("name, media_type", [
    ("json", RESULTS_JSON), ("xml", "application/sparql-results+xml"), ("csv", "text/csv"),
    ("tsv", "text/tab-separated-values"), ("text/csv", "text/csv")])
def test_format_parameter_overrides_accept(client, name, media_type):
    response = get(client, CAST, "application/sparql-results+json", format=name)
    assert response.mimetype == media_type


@pytest.mark.parametrize("query, accept, media_type", [
    (CAST, "application/sparql-results+json; charset=utf-8", RESULTS_JSON),
    (CAST, "text/csv;charset=UTF-8", "text/csv"),
    (CAST, "text/csv; header=present", "text/csv"),
    (CAST, "application/sparql-results+xml;charset=utf-8;q=0.9, text/csv;q=0.5",
     "application/sparql-results+xml"),
    (f"ASK {{ <{FILM}> ?p ?o }}", "text/tab-separated-values; charset=utf-8",
     "text/tab-separated-values"),
    (f"DESCRIBE <{FILM}>", "text/turtle; charset=utf-8", "text/turtle"),
    (f"DESCRIBE <{FILM}>", 'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
     "application/ld+json"),
    (CAST, "application/sparql-results+json;q=abc", RESULTS_JSON),  # no valid range: absent
])
def test_accept_parameters_other_than_q_never_prevent_a_match(client, query, accept,
                                                              media_type):
    """RFC 9110 12.5.1 and the README's negotiation rules: `text/csv; charset=utf-8` names the
    very type /sparql serves (it is UTF-8); it was a 406."""
    response = get(client, query, accept)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type
    described = client.get("/sparql", headers={"Accept": "application/n-triples; charset=utf-8"})
    assert described.mimetype == "application/n-triples"


def test_nothing_acceptable_is_406(client):
    assert_error(get(client, CAST, "image/png"), 406, "available")
    assert_error(get(client, CAST, format="ttl"), 406, "available")
    assert_error(get(client, f"DESCRIBE <{FILM}>", "text/csv"), 406)


def test_ask_in_every_tabular_format(client):
    query = f"ASK {{ <{FILM}> ?p ?o }}"
    assert get(client, query).get_json() == {"head": {}, "boolean": True}
    assert b"<boolean>true</boolean>" in get(client, query, format="xml").get_data()
    assert get(client, query, format="csv").get_data().endswith(b"true\r\n")


def test_csv_and_tsv_encode_terms_per_spec(client):
    query = 'SELECT ?a ?b ?c { BIND("x, \\"y\\"" AS ?a) BIND("t"@en AS ?b) BIND(7 AS ?c) }'
    csv = get(client, query, format="csv").get_data().decode()
    assert csv == 'a,b,c\r\n"x, ""y""",t,7\r\n'
    tsv = get(client, query, format="tsv").get_data().decode()
    assert tsv == '?a\t?b\t?c\n"x, \\"y\\""\t"t"@en\t7\n'


def test_json_and_xml_results_parse_with_pyoxigraph(client):
    for name, fmt in (("json", ox.QueryResultsFormat.JSON), ("xml", ox.QueryResultsFormat.XML)):
        data = get(client, CAST, format=name).get_data()
        solutions = ox.parse_query_results(data, format=fmt)
        assert len(list(solutions)) == 5


# -- syntax errors -----------------------------------------------------------------------------
def test_syntax_error_has_message_line_and_column(client):
    error = assert_error(get(client, "SELECT * WHERE {\n  ?s ?p \n"), 400, "line 3")
    assert error["title"] == "Syntax error"
    assert (error["line"], error["column"]) == (3, 1)


def test_syntax_error_in_html_for_browsers(client):
    response = get(client, "ASK {", "text/html")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert b"line 1" in response.get_data()


# -- service description and page ----------------------------------------------------------------
def test_service_description_in_rdf(client):
    for accept, fmt in (("text/turtle", ox.RdfFormat.TURTLE),
                        ("application/ld+json", ox.RdfFormat.JSON_LD), (None, ox.RdfFormat.TURTLE)):
        response = client.get("/sparql", headers={"Accept": accept} if accept else {})
        assert response.status_code == 200
        triples = [q.triple for q in ox.parse(response.get_data(), format=fmt)]
        sd = "http://www.w3.org/ns/sparql-service-description#"
        endpoint = ox.NamedNode(BASE + "sparql")
        assert ox.Triple(endpoint, ox.NamedNode(sd + "endpoint"), endpoint) in triples
        assert ox.NamedNode(sd + "SPARQL11Query") in {t.object for t in triples}
        assert ox.NamedNode(BASE + "graph/curated") in {t.object for t in triples}


def test_query_page_for_browsers_works_offline(client):
    response = client.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<textarea" in page
    for title in ("The cast of the film", "Everything about Rocky", "The plot in order",
                  "Characters and their relations"):
        assert title in page
    assert "https://cdn" not in page and "<script src=" not in page


def test_the_query_pages_format_menu_offers_every_result_format(client):
    from filmld.sparql_results import RESULT_FORMATS

    page = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    menu = page.split('<select name="format">')[1].split("</select>")[0]
    assert set(re.findall(r'<option value="([^"]+)"', menu)) == {"html", *RESULT_FORMATS}


def test_every_example_query_runs_and_finds_something(client):
    from filmld.web.sparql import EXAMPLES

    for title, text in EXAMPLES:
        response = get(client, text.format(base=BASE), "application/sparql-results+json, "
                       "text/turtle;q=0.9")
        assert response.status_code == 200, (title, response.get_data(as_text=True))
        assert len(response.get_data()) > 100, title


def test_page_shows_results_with_labels_links_and_downloads(client):
    response = get(client, CAST, "text/html")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="{BASE}id/person/cher"' in page and ">Cher</a>" in page
    for name, extension in (("json", "srj"), ("xml", "srx"), ("csv", "csv"), ("tsv", "tsv")):
        # the saved file gets a name a desktop can open (Chromium saved "sparql (1)")
        assert re.search(f'format={name}" download="result.{extension}"', page), name
    graph = get(client, "DESCRIBE <" + BASE + "id/person/cher>", "text/html")
    assert 'format=ttl" download="result.ttl"' in graph.get_data(as_text=True)


# -- safety: read-only ---------------------------------------------------------------------------
UPDATES = ["INSERT DATA { <http://a> <http://b> <http://c> }", "CLEAR ALL", "DROP GRAPH <x>",
           "LOAD <http://127.0.0.1:9/x>", "delete where { ?s ?p ?o }",
           "PREFIX ex: <http://e/> WITH ex:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
           "ASK {} ; CLEAR ALL", "\\u0049NSERT DATA { <http://a> <http://b> <http://c> }"]


@pytest.mark.parametrize("update", UPDATES)
def test_updates_are_refused_by_every_content_type(client, update):
    for response in (
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", data={"query": update}),
        client.post("/sparql", data=update, content_type="application/sparql-update"),
        client.post("/sparql", data=update, content_type="application/sparql-query"),
        client.get("/sparql", query_string={"update": update}),
        client.get("/sparql", query_string={"query": update}),
    ):
        assert_error(response, 400, "read-only")


def test_store_unchanged_after_update_attempts(app, client):
    before = app.extensions["filmld.store"].version()
    client.post("/sparql", data="CLEAR ALL", content_type="application/sparql-update")
    assert app.extensions["filmld.store"].version() == before
    assert get(client, CAST).status_code == 200


# -- safety: no outbound traffic ---------------------------------------------------------------
@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SERVICE ex:sparql { ?s ?p ?o } }",
    "SELECT * { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * { ?s ?p ?o SERVICE ?endpoint { ?s ?p ?o } }",
    "SELECT * FROM <http://127.0.0.1:9/graph> { ?s ?p ?o }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * FROM NAMED ex:g { GRAPH ?g { ?s ?p ?o } }",
    "BASE <http://127.0.0.1:9/> SELECT * FROM <g> { ?s ?p ?o }",
    "PREFIX ex: <http://e/> SELECT * { ?s ex:a\\#b ?o SERVICE <http://127.0.0.1:9/> {} }",
])
def test_outbound_queries_are_refused(client, query):
    assert_error(get(client, query), 400, "not")


@pytest.mark.parametrize("query", [
    "# SERVICE <http://127.0.0.1:9/>\nSELECT * { ?s ?p ?o } LIMIT 1",
    "SELECT * { ?s ?p 'SERVICE <http://127.0.0.1:9/> { }' } LIMIT 1",
    'SELECT * { ?s ?p """FROM <http://x/>\nLOAD""" } LIMIT 1',
    "PREFIX service: <http://e/> SELECT * { ?s service:load ?o } LIMIT 1",
    "SELECT ?service ?load { ?service ?load ?o } LIMIT 1",
    "SELECT * { ?s ?p <http://example.org/SERVICE> } LIMIT 1",
])
def test_lookalikes_in_comments_strings_and_names_are_allowed(client, query):
    assert get(client, query).status_code == 200


def test_policy_agrees_with_rdflib_parser_on_service_and_from():
    """The lexical policy against a real parse (rdflib's algebra) on tricky queries."""
    from rdflib.plugins.sparql.parser import parseQuery

    def rdflib_says_outbound(text: str) -> bool:
        tree = str(parseQuery(text))
        return "ServiceGraphPattern" in tree or "datasetClause" in tree

    queries = [
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * { ?s ?p 'SERVICE <http://x/>' }",
        "# SERVICE <http://x/>\nSELECT * { ?s ?p ?o }",
        "SELECT * FROM <http://x/g> { ?s ?p ?o }",
        "SELECT * { ?s <http://x/SERVICE> ?o }",
        "PREFIX service: <http://x/> SELECT * { ?s service:from ?o }",
        "SELECT * { OPTIONAL { SERVICE SILENT ?x { ?a ?b ?c } } }",
    ]
    for text in queries:
        try:
            shape = analyse(text)
            ours = shape.has_dataset_clause
        except BadRequest:
            ours = True
        assert ours == rdflib_says_outbound(text), text


def test_graph_parameters_must_name_graphs_of_this_dataset(client):
    curated = BASE + "graph/curated"
    assert get(client, "ASK { ?s ?p ?o }", **{"default-graph-uri": curated}).get_json()[
        "boolean"] is True
    assert_error(get(client, "ASK { ?s ?p ?o }",
                     **{"default-graph-uri": "http://127.0.0.1:9/g"}), 400, "not a graph")
    assert_error(get(client, "ASK { ?s ?p ?o }",
                     **{"named-graph-uri": "http://127.0.0.1:9/g"}), 400, "not a graph")
    ok = get(client, f"SELECT * FROM <{curated}> {{ ?s ?p ?o }} LIMIT 1")
    assert ok.status_code == 200


def test_default_graph_is_the_union_unless_from_selects(client):
    ontology = BASE + "graph/ontology"
    query = f"ASK {{ <{FILM}> ?p ?o }}"
    assert get(client, query).get_json()["boolean"] is True
    assert get(client, query, **{"default-graph-uri": ontology}).get_json()["boolean"] is False
    from_query = f"ASK FROM <{ontology}> {{ <{FILM}> ?p ?o }}"
    assert get(client, from_query).get_json()["boolean"] is False


# -- bounded size, time, memory, nesting ----------------------------------------------------------
def test_result_cap_cuts_with_a_header(client):
    response = get(client, "SELECT * { ?s ?p ?o }")
    assert response.headers["X-Filmld-Result-Truncated"] == "true"
    assert "50" in response.headers["X-Filmld-Result-Note"]
    assert len(response.get_json()["results"]["bindings"]) == 50
    small = get(client, CAST)
    assert small.headers["X-Filmld-Result-Truncated"] == "false"
    graph = get(client, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", format="nt")
    assert graph.headers["X-Filmld-Result-Truncated"] == "true"
    lines = graph.get_data().strip().splitlines()
    assert len([line for line in lines if not line.startswith(b"#")]) == 50
    assert lines[-1].startswith(b"# filmld: result truncated after 50 triples")
    assert response.get_json()["x-filmld-truncated"] == {"limit": 50}
    # the note leads the document: strict readers refuse a member after "results"
    assert response.data.startswith(b'{"x-filmld-truncated":{"limit":50},"head":')
    strict = ox.parse_query_results(response.data, ox.QueryResultsFormat.JSON)
    assert len(list(strict)) == 50


def test_cut_result_has_a_visible_notice_in_html(client):
    page = get(client, "SELECT * { ?s ?p ?o }", "text/html").get_data(as_text=True)
    assert "The result was cut" in page


def test_oversize_query_and_body_are_413(client):
    long_query = "SELECT * { ?s ?p ?o } #" + "x" * 31000
    assert_error(client.post("/sparql", data={"query": long_query}), 413, "30000")
    assert_error(client.post("/sparql", data={"query": "ASK {} #" + "x" * 110000}), 413)
    assert_error(client.post("/sparql", data=b"ASK {} #" + b"x" * 110000,
                             content_type="application/sparql-query"), 413)


def test_slow_query_is_stopped_at_the_time_limit(app, client):
    started = time.monotonic()
    response = get(client, SLOW)
    error = assert_error(response, 503, "time limit of 1 s")
    assert time.monotonic() - started < 1.0 + 1.0
    assert int(response.headers["Retry-After"]) > 2  # like every 503 here; longer than overload
    assert error["time_limit_seconds"] == 1.0
    assert get(client, CAST).status_code == 200  # the pool healed


def test_memory_bomb_is_a_clean_error(client):
    bomb = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY RAND()"
    response = get(client, bomb)
    assert response.status_code in (500, 503)
    assert response.get_json()["error"]["message"]
    assert get(client, CAST).status_code == 200


def test_deep_nesting_is_refused_before_parsing(client):
    deep = "ASK { FILTER(" + "(" * 10000 + "1" + ")" * 10000 + ") }"
    assert_error(client.post("/sparql", data={"query": deep}), 400, "nests")


def test_parser_crash_in_a_worker_is_a_clean_error_and_the_pool_heals(app, client):
    pool = query_pool(app)
    before = set(pool.worker_pids())
    crash = "ASK { FILTER(" + "+".join(["1"] * 10000) + " > 0) }"
    response = client.post("/sparql", data={"query": crash})
    error = assert_error(response, 500, "stopped")
    assert "SIG" in error["message"]
    assert get(client, CAST).status_code == 200
    assert set(pool.worker_pids()) != before


def test_concurrency_limit_refuses_excess_with_retry_after(tmp_path):
    import threading

    settings = Settings(store=str(tmp_path / "store"), query_timeout=1.0, query_workers=1,
                        query_concurrency=1)
    app = create_app(settings)
    try:
        client = app.test_client()
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(get(
            app.test_client(), SLOW).status_code)) for _ in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        refused = [code for code in results if code == 503]
        assert len(results) == 3 and len(refused) == 3  # 2 timeouts, 1 refused at once
        busy = [threading.Thread(target=lambda: get(app.test_client(), SLOW))
                for _ in range(2)]
        for thread in busy:
            thread.start()
        time.sleep(0.1)
        response = get(client, CAST)  # one running, one waiting: no room left
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "try again" in response.get_json()["error"]["message"]
        assert client.get("/id/film/mask-1985.ttl").status_code == 200
        for thread in busy:
            thread.join()
    finally:
        close_query_pool(app)
        app.extensions["filmld.store"].close()


# -- CORS --------------------------------------------------------------------------------
def test_cors_on_get_post_and_preflight(client):
    assert get(client, CAST).headers["Access-Control-Allow-Origin"] == "*"
    assert client.post("/sparql", data={"query": CAST}).headers[
        "Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={
        "Origin": "https://yasgui.triply.cc", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "X-Filmld-Result-Truncated" in get(client, CAST).headers[
        "Access-Control-Expose-Headers"]
    assert get(client, "ASK {").headers["Access-Control-Allow-Origin"] == "*"


def test_results_see_new_data_after_a_write(app, client):
    store = app.extensions["filmld.store"]
    graph = BASE + "graph/test-fresh"
    subject = ox.NamedNode(BASE + "id/film/fresh")
    store.add_graph(graph, [ox.Triple(subject, ox.NamedNode("https://schema.org/name"),
                                      ox.Literal("Fresh"))])
    try:
        assert get(client, f"ASK {{ <{subject.value}> ?p ?o }}").get_json()["boolean"] is True
    finally:
        store.remove_graph(graph)
    assert get(client, f"ASK {{ <{subject.value}> ?p ?o }}").get_json()["boolean"] is False


def test_results_are_streamed_in_pieces_and_a_late_cut_is_said_at_the_end(tmp_path):
    """A large result arrives in pieces (the worker holds about 1 MiB); when the cut comes
    after streaming began, the header says 'unknown' and the body's end says it was cut.
    CSV has no comments: a streamed CSV says the cut in a last line of its own."""
    settings = Settings(store=str(tmp_path / "store"), query_timeout=5.0,
                        result_limit=40000, query_workers=1)
    app = create_app(settings)
    try:
        client = app.test_client()
        query = "SELECT ?a ?b ?c { ?a ?x ?y . ?b ?z ?w . VALUES ?c { 1 2 3 4 5 6 7 8 } }"
        response = client.get("/sparql?query=" + quote(query + " LIMIT 30000"))
        pieces = list(response.response)
        assert len(pieces) > 3
        assert max(len(p) for p in pieces) < 3 << 20
        body = b"".join(pieces)
        assert response.headers["X-Filmld-Result-Truncated"] == "unknown"
        assert len(json.loads(body)["results"]["bindings"]) == 30000
        assert b"x-filmld-truncated" not in body
        cut = client.get("/sparql?query=" + quote(query))
        parsed = json.loads(b"".join(cut.response))
        assert cut.headers["X-Filmld-Result-Truncated"] == "unknown"
        assert parsed["x-filmld-truncated"] == {"limit": 40000}
        assert len(parsed["results"]["bindings"]) == 40000
        xml = client.get("/sparql?format=xml&query=" + quote(query)).get_data()
        assert b"<!-- filmld: result truncated after 40000 rows" in xml
        graph = client.get("/sparql?format=nt&query=" + quote(
            "CONSTRUCT { ?a ?x ?b } WHERE { ?a ?x ?y . ?b ?z ?w }")).get_data()
        assert graph.rstrip().endswith(b"(the endpoint's result limit)")
        csv = client.get("/sparql?format=csv&query=" + quote(query))
        assert csv.headers["X-Filmld-Result-Truncated"] == "unknown"
        csv_lines = csv.get_data().splitlines()
        assert len(csv_lines) == 40002
        assert csv_lines[-1] == b"# filmld: result truncated after 40000 rows " \
            b"(the endpoint's result limit)"
        for name in ("csv", "tsv"):  # streamed in pieces like JSON, not built whole first
            big = client.get(f"/sparql?format={name}&query=" + quote(query + " LIMIT 30000"))
            big_pieces = list(big.response)
            assert len(big_pieces) > 3 and max(len(p) for p in big_pieces) < 3 << 20
            assert len(b"".join(big_pieces).splitlines()) == 30001
        small = client.get("/sparql?format=csv&query=" + quote(query + " LIMIT 100"))
        assert small.headers["X-Filmld-Result-Truncated"] == "false"
        assert not small.get_data().splitlines()[-1].startswith(b"#")
    finally:
        close_query_pool(app)
        app.extensions["filmld.store"].close()


def test_json_results_are_valid_json_when_streamed(client):
    body = get(client, "SELECT * { ?s ?p ?o }").get_data()
    assert json.loads(body)["head"]["vars"]


def test_repeated_get_is_answered_from_the_render_cache_until_the_data_changes(app, client):
    """Identical GETs at one data version are kept by web/cache.py; RAND() never is."""
    if not hasattr(app.extensions["filmld.store"], "checkpoint"):
        # a remote store answers every time (its data may change behind filmld's back)
        assert "X-Filmld-Cache-Version" not in get(client, CAST).headers
        assert get(client, CAST).get_data() == get(client, CAST).get_data()
        return
    pool = query_pool(app)
    calls = []
    original = pool.run

    def counting(request):
        calls.append(request.query)
        return original(request)

    pool.run = counting
    try:
        query = CAST + " # cache test"
        first = get(client, query).get_data()
        assert get(client, query).get_data() == first
        assert len(calls) == 1
        assert "X-Filmld-Cache-Version" not in get(client, query).headers
        etag = get(client, query).headers["ETag"]
        revalidated = client.get("/sparql", query_string={"query": query},
                                 headers={"If-None-Match": etag})
        assert revalidated.status_code == 304 and len(calls) == 1
        random = "SELECT (RAND() AS ?r) {}"
        get(client, random)
        get(client, random)
        assert len(calls) == 3
        client.post("/sparql", data={"query": query})
        assert len(calls) == 4  # POST is never cached
    finally:
        pool.run = original


def test_checkpoints_of_a_killed_server_are_removed_at_the_next_start(tmp_path):
    orphan = tmp_path / ".filmld-checkpoints-999999999-abc"
    (orphan / "v1").mkdir(parents=True)
    settings = Settings(store=str(tmp_path / "store"), query_workers=1)
    app = create_app(settings)
    try:
        if not hasattr(app.extensions["filmld.store"], "checkpoint"):
            assert get(app.test_client(), CAST).status_code == 200
            return
        assert get(app.test_client(), CAST).status_code == 200
        assert not orphan.exists()
        ours = list(tmp_path.glob(f".filmld-checkpoints-{os.getpid()}-*"))
        assert len(ours) == 1
    finally:
        close_query_pool(app)
        app.extensions["filmld.store"].close()
    assert not list(tmp_path.glob(".filmld-checkpoints-*"))


# -- issue 5 review: protocol details -----------------------------------------------------------
@pytest.mark.parametrize("query, params, media_type", [
    (f"CONSTRUCT {{ <{FILM}> ?p ?o }} WHERE {{ <{FILM}> ?p ?o }}",
     [("format", "xml"), ("output", "xml"), ("results", "xml")], "application/rdf+xml"),
    (f"DESCRIBE <{FILM}>", [("format", "rdf+xml"), ("format", "application/rdf+xml")],
     "application/rdf+xml"),
    (f"DESCRIBE <{FILM}>", [("format", "n3"), ("output", "n3")], "text/turtle"),
    (f"DESCRIBE <{FILM}>", [("results", "turtle")], "text/turtle"),
    (f"DESCRIBE <{FILM}>", [("output", "json")], "application/ld+json"),
    (CAST, [("format", "xml"), ("output", "xml"), ("results", "xml")],
     "application/sparql-results+xml"),
    (CAST, [("output", "json")], RESULTS_JSON),
])
def test_format_values_of_common_clients_map_per_query_form(client, query, params, media_type):
    response = client.get("/sparql", query_string=[("query", query), *params],
                          headers={"Accept": media_type})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == media_type


def test_unknown_format_value_falls_back_to_accept(client):
    response = get(client, CAST, "text/csv", format="sparql-magic")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert_error(get(client, CAST, "image/png", format="sparql-magic"), 406)


def test_default_graph_uri_alone_leaves_no_named_graphs(client):
    curated = BASE + "graph/curated"
    named = "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    assert int(get(client, named).get_json()["results"]["bindings"][0]["n"]["value"]) > 0
    only_default = get(client, named, **{"default-graph-uri": curated}).get_json()
    assert only_default["results"]["bindings"][0]["n"]["value"] == "0"
    only_named = get(client, f"ASK {{ <{FILM}> ?p ?o }}", **{"named-graph-uri": curated})
    assert only_named.get_json()["boolean"] is False  # empty default graph
    both = get(client, f"ASK {{ GRAPH <{curated}> {{ <{FILM}> ?p ?o }} }}",
               **{"named-graph-uri": curated})
    assert both.get_json()["boolean"] is True


def test_javascript_iris_are_not_links_and_the_page_has_a_strict_csp(client):
    query = 'SELECT ?x ?y { BIND(IRI("javascript:alert(1)//") AS ?x) BIND(<https://e.org/> AS ?y) }'
    response = get(client, query, "text/html")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="javascript:' not in page and "javascript:alert(1)//" in page
    assert 'href="https://e.org/"' in page
    for html in (response, client.get("/sparql", headers={"Accept": "text/html"}),
                 get(client, "ASK {", "text/html")):
        policy = html.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "'sha256-" in policy.split("script-src", 1)[1].split(";")[0] or \
            "<script>" not in html.get_data(as_text=True)


def test_literal_datatypes_show_in_the_html_table(client):
    page = get(client, 'SELECT ?n ?d ?s { BIND(7 AS ?n) BIND("2020-01-01"^^<http://www.w3.org/'
               '2001/XMLSchema#date> AS ?d) BIND("plain" AS ?s) }', "text/html").get_data(
        as_text=True)
    assert "^^xsd:integer" in page and "^^xsd:date" in page and "^^xsd:string" not in page


def test_etag_differs_per_format_and_query_and_never_crosses_formats(app, client):
    if not hasattr(app.extensions["filmld.store"], "checkpoint"):
        assert "ETag" not in get(client, CAST).headers  # remote answers are never cached
        return
    json_tag = get(client, CAST + " # etag").headers["ETag"]
    csv_tag = get(client, CAST + " # etag", "text/csv").headers["ETag"]
    ask_tag = get(client, "ASK {}").headers["ETag"]
    assert len({json_tag, csv_tag, ask_tag}) == 3
    crossed = client.get("/sparql", query_string={"query": CAST + " # etag"},
                         headers={"Accept": "text/csv", "If-None-Match": json_tag})
    assert crossed.status_code == 200 and crossed.mimetype == "text/csv"
    same = client.get("/sparql", query_string={"query": CAST + " # etag"},
                      headers={"Accept": "text/csv", "If-None-Match": csv_tag})
    assert same.status_code == 304


@pytest.mark.parametrize("query", [
    "SELECT * FROM <graph/curated> { ?s ?p ?o } LIMIT 1",
    "PREFIX g: <graph/> SELECT * FROM g:curated { ?s ?p ?o } LIMIT 1",
    "SELECT * FROM NAMED <graph/curated> { GRAPH ?g { ?s ?p ?o } } LIMIT 1",
])
def test_relative_from_resolves_against_the_base_iri(client, query):
    response = get(client, query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["results"]["bindings"]) == 1


def test_relative_iris_resolve_against_the_base_on_both_backends(client):
    row = get(client, "SELECT ?x { BIND(<id/film/mask-1985> AS ?x) }").get_json()
    assert row["results"]["bindings"][0]["x"]["value"] == FILM


def test_chunked_body_over_the_limit_is_413_naming_the_body_limit(client):
    import io

    body = b"ASK {} #" + b"x" * 200000
    response = client.post("/sparql", input_stream=io.BytesIO(body), headers={
        "Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked"})
    error = assert_error(response, 413, "100000 bytes")
    assert "characters" not in error["message"]


@pytest.mark.parametrize("request_args", [
    {"data": {"update": "CLEAR ALL"}, "content_type": "multipart/form-data"},
    {"data": "ASK {}", "content_type": "application/sparql-query",
     "query_string": "update=CLEAR%20ALL"},
    {"data": {"query": "ASK {}"}, "query_string": "update=CLEAR%20ALL"},
    {"data": b"ASK {}", "content_type": "text/plain", "query_string": "update=CLEAR%20ALL"},
])
def test_any_update_parameter_is_400_whatever_the_content_type(client, request_args):
    assert_error(client.post("/sparql", **request_args), 400, "read-only")


def test_invalid_utf8_in_the_query_string_is_400(client):
    response = client.get("/sparql?query=ASK%20%7B%7D%20%23%FF%FE")
    assert_error(response, 400, "UTF-8")
    form = client.post("/sparql", data=b"query=ASK%20%7B%7D%20%23%FF",
                       content_type="application/x-www-form-urlencoded")
    assert_error(form, 400, "UTF-8")


def test_a_graph_parameter_that_is_not_an_iri_says_so(client):
    error = assert_error(get(client, "ASK {}", **{"default-graph-uri": "not an iri"}), 400,
                         "is not an IRI")
    assert error["title"] == "Bad request"


def test_undeclared_prefix_is_named_with_line_and_column(client):
    error = assert_error(get(client, "SELECT * WHERE {\n  ?s foo:p ?o }"), 400,
                         "undeclared prefix 'foo:'")
    assert error["line"] == 2 and error["column"]
    assert "Prefix not found" not in error["message"] and "\\u{" not in error["message"]


@pytest.mark.parametrize("query, line, column", [
    ("SELEC * WHERE { ?s ?p ?o }", 1, 1),
    ("PREFIX ex: <http://example.org/>\n  SELCT * WHERE { ?s ?p ?o }", 2, 3),
    ("# nothing but a comment\n", 2, 1),
])
def test_a_query_without_a_query_form_is_a_syntax_error_with_line_and_column(
        client, query, line, column):
    """A misspelt SELECT was a 400 "Bad request" with no line or column, unlike every other
    syntax error: clients that point at the error (YASGUI) had nothing to point at."""
    error = assert_error(get(client, query), 400, "not a SPARQL query")
    assert (error["title"], error["line"], error["column"]) == ("Syntax error", line, column)


@pytest.mark.parametrize("query, words", [
    ("SELECT * WHERE { ?s ?p <http://example.org/a b> }", "IRI"),  # a space in an IRI
    ("PREFIX ex: http://example.org/ SELECT * WHERE { ?s ?p ?o }", '"<"'),  # no brackets
])
def test_a_malformed_iri_is_not_called_an_undeclared_prefix(client, query, words):
    """`<http://a b>` was answered "undeclared prefix 'http:' (declare it first: PREFIX
    http: <...>)": advice that cannot fix the query. The parser's own message stays."""
    error = assert_error(get(client, query), 400, words)
    assert "prefix" not in error["message"].lower()
    assert error["line"] == 1 and error["column"]


def test_preflight_has_no_content_type_and_titles_are_sentence_case(client):
    preflight = client.options("/sparql", headers={"Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "Content-Type" not in preflight.headers
    assert client.put("/sparql", data={"query": "ASK {}"}).get_json()["error"]["title"] == \
        "Method not allowed"


def test_a_slow_reader_past_the_stream_bound_gets_a_visible_cut(tmp_path):
    """Both backends: past query_timeout + stream_timeout the body ends with the cut marker
    (a JSON syntax error), never as a clean, complete-looking result."""
    settings = Settings(store=str(tmp_path / "store"), query_timeout=1.0, stream_timeout=0.5,
                        result_limit=5_000_000, query_workers=1)
    app = create_app(settings)
    try:
        query = ("SELECT ?a ?b ?c { ?a ?x ?y . ?b ?z ?w . VALUES ?c { 1 2 3 4 5 6 7 8 } } "
                 "LIMIT 300000")
        response = app.test_client().get("/sparql?query=" + quote(query))
        assert response.status_code == 200
        pieces = iter(response.response)
        first = next(pieces)
        time.sleep(2.0)  # past 1.0 + 0.5 s from the start
        body = first + b"".join(pieces)
        response.close()
        assert body.rstrip().endswith(b"this response is incomplete")
        assert b"RESULT STREAM CUT" in body[-300:]
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
    finally:
        close_query_pool(app)
        app.extensions["filmld.store"].close()


def test_dataset_clauses_are_blanked_for_protocol_graphs():
    from filmld.sparql import without_dataset_clauses

    query = ('PREFIX g: <http://x/graph/>\nSELECT ?s FROM <http://x/a>\nFROM NAMED g:b '
             '# FROM <http://x/c>\nWHERE { ?s ?p "FROM <http://x/d>" }')
    blanked = without_dataset_clauses(query)
    assert len(blanked) == len(query) and blanked.count("\n") == query.count("\n")
    assert "http://x/a" not in blanked and "g:b" not in blanked
    assert '# FROM <http://x/c>' in blanked and '"FROM <http://x/d>"' in blanked
    assert without_dataset_clauses("ASK { ?s ?p ?o }") == "ASK { ?s ?p ?o }"
