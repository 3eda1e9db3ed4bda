"""POST /contributions, POST /validate, GET and DELETE /contributions/<id>, through the
Flask test client: one test per behaviour of issue 6."""

from __future__ import annotations

import gzip
import itertools
import json
import logging
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from filmld.config import Settings
from filmld.terms import to_rdflib_graph
from filmld.web import create_app
from tests.test_validation_neighbourhood import PREFIXES, one_film

BASE = "http://127.0.0.1:8000/"
ALICE = {"Authorization": "Bearer tok-alice"}
BOB = {"Authorization": "Bearer tok-bob"}
OPERATOR = {"Authorization": "Bearer tok-operator"}
TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "store"),
                    tokens="alice:tok-alice,bob:tok-bob,operator:tok-operator",
                    max_body_bytes=200_000, max_contribution_triples=500,
                    contribution_rate=1000)


@pytest.fixture
def store(app):
    return app.extensions["filmld.store"]


def post(client, body: str | bytes, *, headers=None, path="/contributions", **extra):
    data = (PREFIXES + body).encode() if isinstance(body, str) else body
    return client.post(path, data=data, headers={**ALICE, **TURTLE, **(headers or {})},
                       **extra)


class Unchanged:
    """Asserts that nothing was stored: same graphs, same version."""

    def __init__(self, store):
        self.store = store

    def __enter__(self):
        self.before = (self.store.version(), self.store.graph_names())
        return self

    def __exit__(self, *exc):
        assert (self.store.version(), self.store.graph_names()) == self.before


DATE = '<id/person/cher> schema:birthDate "1946-05-20"^^xsd:date .'
SECOND_RELEASE = '<id/film/mask-1985> schema:datePublished "1986"^^xsd:gYear .'


# -- accepted ------------------------------------------------------------------------------

def test_accepted_contribution_is_201_with_location_and_its_own_graph(client, store):
    response = post(client, DATE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/contributions/{body['id']}"
    assert body["contributor"] == "alice" and body["triples"] == 1
    assert len(body["sha256"]) == 64
    graph = f"{BASE}contributions/{body['id']}"
    assert graph in store.graph_names()
    assert [str(t.predicate) for t in store.graph_triples(graph)] == \
        ["<https://schema.org/birthDate>"]


def test_accepted_facts_show_at_once_on_the_entity_page_and_in_the_union(client, store):
    before = store.version()
    assert post(client, DATE).status_code == 201
    assert store.version() != before
    page = client.get("/id/person/cher.nt").get_data(as_text=True)
    assert "1946-05-20" in page
    assert store.ask(f"ASK {{ <{BASE}id/person/cher> <https://schema.org/birthDate> ?d }}")


def test_provenance_says_who_when_hash_and_count_in_prov_o(client, store):
    body = post(client, DATE).get_json()
    turtle = client.get(f"/contributions/{body['id']}", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert turtle.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    entity = rdflib.URIRef(body["iri"])
    assert graph.value(entity, prov.wasAttributedTo) == rdflib.URIRef(f"{BASE}contributors/alice")
    assert graph.value(entity, prov.generatedAtTime).datatype == rdflib.XSD.dateTime
    assert int(graph.value(entity, rdflib.URIRef("http://rdfs.org/ns/void#triples"))) == 1
    checksum = graph.value(entity, rdflib.URIRef("http://spdx.org/rdf/terms#checksum"))
    assert str(graph.value(checksum, rdflib.URIRef("http://spdx.org/rdf/terms#checksumValue"))) \
        == body["sha256"]
    assert (rdflib.URIRef(f"{BASE}id/person/cher"), None, None) in graph
    # The provenance lives in its own graph, apart from the facts.
    assert f"{BASE}graph/provenance" in store.graph_names()


@pytest.mark.parametrize("accept, media", [
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-triples", "application/n-triples"),
    ("text/html", "text/html"),
])
def test_contribution_is_negotiated(client, accept, media):
    body = post(client, DATE).get_json()
    response = client.get(body["location"], headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media)
    assert response.headers["Vary"] == "Accept"
    assert "birthDate" in response.get_data(as_text=True) or \
        "1946-05-20" in response.get_data(as_text=True)


def test_warnings_do_not_refuse_and_come_back_with_the_201(client):
    response = post(client, one_film("new-film-2001", same_as=False))
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["conforms"] and report["violations"] == 0 and report["warnings"] == 1
    (group,) = report["focusNodes"]
    assert group["label"] == "Film new-film-2001"
    assert group["results"][0]["severity"] == "Warning"


def test_a_report_with_only_warnings_does_not_say_sh_conforms_true(client):
    # SHACL 3.6.1.1: sh:conforms is true if and only if there are no validation results.
    response = post(client, one_film("new-film-2001", same_as=False), path="/validate",
                    headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    report = graph.value(predicate=rdflib.RDF.type, object=rdflib.SH.ValidationReport)
    assert len(list(graph.objects(report, rdflib.SH.result))) == 1
    assert graph.value(report, rdflib.SH.conforms) == rdflib.Literal(False)


def test_blank_nodes_reached_from_our_resources_are_accepted_and_never_merged(client, store):
    text = '<id/person/cher> schema:knows _:b0 . _:b0 schema:description "a note"@en .'
    first, second = post(client, text).get_json(), post(client, text).get_json()
    # stored as skolem IRIs of each contribution (RDF 1.1 Concepts 3.5)
    blank = [{t.object for t in store.graph_triples(body["iri"])
              if isinstance(t.object, ox.NamedNode) and "/.well-known/genid/" in t.object.value}
             for body in (first, second)]
    assert blank[0] and blank[1] and not blank[0] & blank[1]


# -- refused ------------------------------------------------------------------------------

def test_skolem_iris_of_contributed_blank_nodes_dereference(client):
    # The entity page links to the skolem IRI; what the blank node said must be there.
    body = post(client, '<id/person/cher> schema:knows [ schema:description "nested"@en ] .'
                ).get_json()
    genid = f"/.well-known/genid/{body['id']}-1"
    assert f'"{BASE}{genid[1:]}"' in client.get("/id/person/cher.jsonld").get_data(as_text=True)
    see = client.get(genid, headers={"Accept": "text/turtle"})
    assert see.status_code == 303 and see.headers["Location"].endswith(f"{genid}.ttl")
    for fmt in ("ttl", "html"):
        document = client.get(f"{genid}.{fmt}")
        assert document.status_code == 200
        assert "nested" in document.get_data(as_text=True)
    client.delete(body["location"], headers=ALICE)
    assert client.get(f"{genid}.ttl").status_code == 404


def test_refused_contribution_is_422_with_a_json_summary_and_nothing_stored(client, store):
    with Unchanged(store):
        response = post(client, SECOND_RELEASE)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["status"] == 422
    assert "1 violation(s) of the shapes; nothing was stored" in body["error"]["message"]
    report = body["report"]
    assert report["conforms"] is False and report["violations"] == 1
    (group,) = report["focusNodes"]
    assert group["focusNode"] == f"{BASE}id/film/mask-1985" and group["label"] == "Mask (1985)"
    (result,) = group["results"]
    assert result["path_label"] == "release date"
    assert "exactly one release date" in result["message"]


def test_refusal_report_names_the_offending_value(client):
    response = post(client, """<id/role/mask-1985-extra> a schema:PerformanceRole ;
        rdfs:label "Nobody as Extra"@en ; schema:name "Nobody as Extra"@en ;
        schema:actor <id/person/nobody> ; schema:characterName "Extra"@en ;
        filmld:character <id/character/gar> .""")
    assert response.status_code == 422
    results = response.get_json()["report"]["focusNodes"][0]["results"]
    assert results[0]["value"] == f"{BASE}id/person/nobody"
    assert results[0]["path_label"] == "actor"


@pytest.mark.parametrize("accept, media, check", [
    ("text/turtle", "text/turtle", "sh:ValidationReport"),
    ("application/ld+json", "application/ld+json", "ValidationReport"),
    ("application/json", "application/json", '"focusNodes"'),
    ("text/html", "text/html", "release date"),
    (None, "application/json", '"focusNodes"'),
])
def test_refusal_report_is_negotiated(client, accept, media, check):
    headers = {"Accept": accept} if accept else {}
    response = post(client, SECOND_RELEASE, headers=headers)
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith(media)
    text = response.get_data(as_text=True)
    assert check in text
    if media in ("text/turtle", "application/ld+json"):
        fmt = ox.RdfFormat.TURTLE if "turtle" in media else ox.RdfFormat.JSON_LD
        graph = to_rdflib_graph(q.triple for q in ox.parse(text.encode(), format=fmt))
        assert (None, rdflib.SH.conforms, rdflib.Literal(False)) in graph
        assert len(list(graph.subjects(rdflib.RDF.type, rdflib.SH.ValidationResult))) == 1


REFUSALS = [
    SECOND_RELEASE,
    '<id/person/cher> schema:birthDate "20 May 1946"^^xsd:date .',
    """<id/role/mask-1985-extra> a schema:PerformanceRole ;
        rdfs:label "Nobody as Extra"@en ; schema:name "Nobody as Extra"@en ;
        schema:actor <id/person/nobody> ; schema:characterName "Extra"@en ;
        filmld:character <id/character/gar> .""",
    """<id/person/unnamed> a schema:Person ; rdfs:label "Unnamed"@fr ;
        schema:sameAs <http://dbpedia.org/resource/Nobody> .""",
]


def test_every_source_shape_of_a_refusal_dereferences(client):
    """Issue 4: a refusal names the shapes it broke (sh:sourceShape); each of those IRIs
    answers like an entity: 303 to a document that describes the shape."""
    shapes = set()
    for body in REFUSALS:
        response = post(client, body, path="/validate", headers={"Accept": "text/turtle"})
        assert response.status_code == 422, body
        report = rdflib.Graph().parse(data=response.data, format="turtle")
        shapes |= set(report.objects(None, rdflib.SH.sourceShape))
    assert len(shapes) >= 5, shapes
    for shape in shapes:
        assert isinstance(shape, rdflib.URIRef) and str(shape).startswith(f"{BASE}shapes/")
        thing = client.get(str(shape)[len(BASE) - 1:])
        assert thing.status_code == 303, shape
        document = client.get(thing.headers["Location"][len(BASE) - 1:])
        assert document.status_code == 200, shape
        graph = rdflib.Graph().parse(data=document.data, format="turtle")
        assert (shape, rdflib.SH.message, None) in graph, shape
        assert (shape, rdflib.RDF.type, None) in graph, shape


def test_validate_is_a_dry_run_with_the_same_answers(client, store):
    with Unchanged(store):
        refused = post(client, SECOND_RELEASE, path="/validate")
        fine = post(client, DATE, path="/validate")
    assert refused.status_code == 422 and refused.get_json()["report"]["violations"] == 1
    assert fine.status_code == 200 and fine.get_json()["report"]["conforms"] is True


# -- security --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/contributions", "/validate"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic dG9rLWFsaWNl",
                                           "Bearer ", "tok-alice"])
def test_no_or_wrong_token_is_401_before_the_body_is_read(client, store, path, authorization):
    headers = {"Content-Type": "application/rdf+xml"}
    if authorization is not None:
        headers["Authorization"] = authorization
    with Unchanged(store):
        response = client.post(path, data=b"\xff not even utf-8 <<<", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_token_is_compared_in_constant_time(client, compared_tokens):
    post(client, DATE)
    assert sorted(compared_tokens) == [b"tok-alice", b"tok-bob", b"tok-operator"]


def test_tokens_file_is_an_alternative(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# contributors\ncarol:tok-carol\n")
    app = create_app(Settings(store=str(tmp_path / "s"), tokens_file=str(tokens)))
    try:
        response = app.test_client().post(
            "/validate", data=(PREFIXES + DATE).encode(),
            headers={"Authorization": "Bearer tok-carol", **TURTLE})
        assert response.status_code == 200
    finally:
        app.extensions["filmld.store"].close()


@pytest.mark.parametrize("subject", ["<http://dbpedia.org/resource/Cher>", "<ontology/actor>",
                                     "<contributions/0123456789abcdef>", "<graph/curated>"])
def test_subjects_outside_the_dataset_namespace_are_422_with_a_report(client, store, subject):
    with Unchanged(store):
        response = post(client, f'{subject} rdfs:label "mine"@en .')
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"]["status"] == 422
    (result,) = policy_results(body)
    assert "only as objects" in result["message"]
    assert result["constraint"] == "ContributionPolicy:subject-in-dataset"
    assert "1 violation(s) of the contribution policy" in body["error"]["message"]


def policy_results(body: dict) -> list[dict]:
    return [r for group in body["report"]["focusNodes"] for r in group["results"]
            if (r["constraint"] or "").startswith("ContributionPolicy")]


def test_blank_node_subjects_not_reached_from_our_resources_are_422(client, store):
    with Unchanged(store):
        response = post(client, '_:x rdfs:label "floating"@en .')
    assert response.status_code == 422
    (result,) = policy_results(response.get_json())
    assert "not reached" in result["message"]


def test_other_iris_are_fine_as_objects(client):
    response = post(client, "<id/person/cher> schema:knows <https://example.org/someone> .")
    assert response.status_code == 201


# -- limits -----------------------------------------------------------------------------------

def test_body_over_the_size_limit_is_413(client, store):
    with Unchanged(store):
        response = post(client, "# " + "x" * 250_000 + "\n" + DATE)
    assert response.status_code == 413


def test_too_many_triples_is_413(client, store):
    many = "".join(f'<id/person/cher> schema:description "note {i}"@en .\n' for i in range(501))
    with Unchanged(store):
        response = post(client, many)
    assert response.status_code == 413
    assert "500 triples" in response.get_json()["error"]["message"]


def test_rate_limit_per_token_is_429_with_retry_after(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "s"), tokens="alice:tok-alice,bob:tok-bob",
                              contribution_rate=2))
    client = app.test_client()
    try:
        codes = [post(client, DATE, path="/validate").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = post(client, DATE, path="/validate")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert post(client, DATE, path="/validate", headers=BOB).status_code == 200
    finally:
        app.extensions["filmld.store"].close()


# -- malformed bodies -------------------------------------------------------------------------

def test_syntax_error_is_400_with_line_and_column(client, store):
    with Unchanged(store):
        response = post(client, '<id/person/cher> rdfs:label "open .\n')
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["line"] == 5 and error["column"] is not None
    assert "line 5" in error["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/rdf+xml",
                                          "application/n-quads", "application/trig"])
def test_unaccepted_content_type_is_415_with_the_list(client, store, content_type):
    headers = {**ALICE}
    if content_type:
        headers["Content-Type"] = content_type
    with Unchanged(store):
        response = client.post("/contributions", data=b"<a> <b> <c> .", headers=headers)
    assert response.status_code == 415
    message = response.get_json()["error"]["message"]
    assert "text/turtle" in message and "application/ld+json" in message
    assert "application/n-triples" in message


def test_rdf_xml_with_entities_is_refused_unparsed(client, store):
    bomb = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">
    <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rdf:RDF
    xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""
    with Unchanged(store):
        response = client.post("/contributions", data=bomb,
                               headers={**ALICE, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 415


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_body_is_400(client, store, body):
    with Unchanged(store):
        response = client.post("/contributions", data=body, headers={**ALICE, **TURTLE})
    assert response.status_code == 400
    assert "empty" in response.get_json()["error"]["message"]


def test_invalid_utf8_is_400_with_where(client, store):
    with Unchanged(store):
        response = client.post("/contributions", data=b'<id/person/cher>\n "\xff" .',
                               headers={**ALICE, **TURTLE})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "UTF-8" in error["message"] and error["line"] == 2


def jsonld(client, document) -> object:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post("/contributions", data=data,
                       headers={**ALICE, "Content-Type": "application/ld+json"})


def test_jsonld_contribution_is_accepted(client):
    response = jsonld(client, {
        "@context": {"schema": "https://schema.org/"},
        "@id": f"{BASE}id/person/cher",
        "schema:birthDate": {"@value": "1946-05-20",
                             "@type": "http://www.w3.org/2001/XMLSchema#date"}})
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("context", [
    "https://schema.org/",
    ["https://example.org/context.jsonld", {"name": "https://schema.org/name"}],
    {"@import": "https://example.org/context.jsonld"},
    {"knows": {"@id": "https://schema.org/knows", "@context": "https://example.org/c"}},
])
def test_jsonld_remote_context_is_400_and_never_fetched(client, store, context, monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("a remote context was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with Unchanged(store):
        response = jsonld(client, {"@context": context, "@id": f"{BASE}id/person/cher",
                                   "name": "Cher"})
    assert response.status_code == 400
    assert "remote" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("opening, closing, depth", [
    ('"https://schema.org/knows": {', "}", 100),
    ('"https://schema.org/knows": {', "}", 6000),
    ("[", "]", 90_000),
])
def test_deeply_nested_jsonld_is_400_before_the_parser_sees_it(client, store, opening,
                                                               closing, depth):
    """pyoxigraph's JSON-LD parser segfaults at about 5,000 levels: this must not reach it."""
    inner = '"@id": "http://x/y"' if closing == "}" else '"x"'
    body = ('{"@id": "http://127.0.0.1:8000/id/person/cher", '
            + ('"https://schema.org/knows": ' if opening == "[" else "")
            + opening * depth + inner + closing * depth + "}").encode()
    with Unchanged(store):
        response = jsonld(client, body)
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]["message"]


def test_jsonld_syntax_error_is_400_with_line_and_column(client):
    response = jsonld(client, b'{"@id": "x",\n  "name": }')
    assert response.status_code == 400
    assert response.get_json()["error"]["line"] == 2


def test_jsonld_named_graphs_are_400(client, store):
    with Unchanged(store):
        response = jsonld(client, {"@id": f"{BASE}id/person/cher",
                                   "@graph": [{"@id": f"{BASE}id/person/cher",
                                               "https://schema.org/name": "x"}]})
    assert response.status_code == 400


def test_ntriples_contribution_is_accepted(client):
    response = client.post(
        "/contributions",
        data=f'<{BASE}id/person/cher> <https://schema.org/birthDate> '
             '"1946-05-20"^^<http://www.w3.org/2001/XMLSchema#date> .\n'.encode(),
        headers={**ALICE, "Content-Type": "application/n-triples"})
    assert response.status_code == 201


# -- listing and withdrawal ------------------------------------------------------------------

def test_contributions_are_listed_newest_first_and_paged(app, client):
    app.extensions["filmld.settings"]  # page size is min(page_size, 100)
    ids = [post(client, f'<id/person/cher> schema:description "note {i}"@en .').get_json()["id"]
           for i in range(3)]
    listing = client.get("/contributions").get_json()
    assert [c["id"] for c in listing["contributions"]] == ids[::-1]
    assert listing["next"] is None
    assert client.get("/contributions?page=2").get_json()["contributions"] == []
    html = client.get("/contributions", headers={"Accept": "text/html"})
    assert html.headers["Content-Type"].startswith("text/html") and ids[0] in html.text


def test_listing_pages_link_to_each_other(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "s"), tokens="alice:tok-alice", page_size=2))
    client = app.test_client()
    try:
        for i in range(3):
            assert post(client, f'<id/person/cher> schema:description "n{i}"@en .').status_code == 201
        first = client.get("/contributions").get_json()
        assert len(first["contributions"]) == 2 and first["next"] == "/contributions?page=2"
        second = client.get(first["next"]).get_json()
        assert len(second["contributions"]) == 1 and second["previous"] == "/contributions?page=1"
    finally:
        app.extensions["filmld.store"].close()


def test_contributor_withdraws_own_contribution_and_withdrawal_is_recorded(client, store):
    body = post(client, DATE).get_json()
    response = client.delete(body["location"], headers=ALICE)
    assert response.status_code == 200
    assert body["iri"] not in store.graph_names()
    assert "1946-05-20" not in client.get("/id/person/cher.nt").get_data(as_text=True)
    assert client.get(body["location"], headers={"Accept": "text/turtle"}).status_code == 410
    record = client.get(body["location"] + "/provenance", headers={"Accept": "text/turtle"})
    assert record.status_code == 200
    graph = rdflib.Graph().parse(data=record.get_data(as_text=True), format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    activity = graph.value(rdflib.URIRef(body["iri"]), prov.wasInvalidatedBy)
    assert activity is not None
    assert graph.value(activity, prov.wasAssociatedWith) == \
        rdflib.URIRef(f"{BASE}contributors/alice")
    assert client.get("/contributions").get_json()["contributions"][0]["withdrawnBy"] == "alice"
    gone = client.get(body["location"], headers={"Accept": "application/json"})
    again = client.delete(body["location"], headers=ALICE)  # a second DELETE says the same
    assert again.status_code == 410
    assert again.get_json()["error"]["message"] == gone.get_json()["error"]["message"]
    assert "withdrawn by alice at" in again.get_json()["error"]["message"]
    assert again.headers["Link"] == f'<{body["location"]}/provenance>; rel="describedby"'
    assert again.headers["Link"] == gone.headers["Link"]


def test_others_cannot_withdraw_but_the_operator_can(client, store):
    body = post(client, DATE).get_json()
    with Unchanged(store):
        assert client.delete(body["location"], headers=BOB).status_code == 403
        assert client.delete(body["location"]).status_code == 401
    assert client.delete(body["location"], headers=OPERATOR).status_code == 200
    assert body["iri"] not in store.graph_names()


def test_withdrawing_another_contributors_contribution_is_403_with_a_bearer_challenge(client):
    # RFC 6750 section 3: a token that does not enable access MUST get WWW-Authenticate;
    # section 3.1: the error is insufficient_scope.
    body = post(client, DATE).get_json()
    response = client.delete(body["location"], headers=BOB)
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == \
        'Bearer realm="filmld", error="insufficient_scope"'


def test_curated_triples_survive_withdrawing_a_contribution_that_repeated_them(client):
    name = '<id/person/cher> schema:name "Cher"@en .'
    body = post(client, name).get_json()
    assert client.delete(body["location"], headers=OPERATOR).status_code == 200
    assert '"Cher"@en' in client.get("/id/person/cher.nt").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/contributions/0123456789abcdef", "/contributions/..%2Fgraph",
                                  "/contributions/curated"])
def test_unknown_contributions_are_404_and_curated_data_cannot_be_deleted(client, path):
    assert client.get(path).status_code == 404
    assert client.delete(path, headers=OPERATOR).status_code == 404


# -- logging -----------------------------------------------------------------------------------

def test_every_state_change_is_logged_with_who_and_what(client, caplog):
    caplog.set_level(logging.INFO, logger="filmld.contributions")
    body = post(client, DATE).get_json()
    post(client, SECOND_RELEASE)
    client.delete(body["location"], headers=OPERATOR)
    messages = [r.getMessage() for r in caplog.records if r.name == "filmld.contributions"]
    assert any(f"accepted contribution {body['id']} by alice" in m for m in messages)
    assert any("refused contribution by alice" in m for m in messages)
    assert any(f"withdrew contribution {body['id']} of alice by operator" in m
               for m in messages)
    assert all(r.created for r in caplog.records)


def test_withdrawing_what_other_data_builds_on_is_409_with_the_report(client, store):
    """Alice adds a person, Bob casts them; withdrawing Alice's person would leave Bob's
    role pointing at nobody."""
    person = post(client, """<id/person/new-actor> a schema:Person ;
        rdfs:label "New Actor"@en ; schema:name "New Actor"@en .""").get_json()
    role = post(client, """<id/role/mask-1985-cameo> a schema:PerformanceRole ;
        rdfs:label "New Actor as Cameo"@en ; schema:name "New Actor as Cameo"@en ;
        schema:actor <id/person/new-actor> ; schema:characterName "Cameo"@en ;
        filmld:character <id/character/gar> .""", headers=BOB)
    assert role.status_code == 201, role.get_json()
    with Unchanged(store):
        refused = client.delete(person["location"], headers=OPERATOR)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"]["status"] == 409
    (group,) = body["report"]["focusNodes"]
    assert group["focusNode"] == f"{BASE}id/role/mask-1985-cameo"
    # Once the role is withdrawn, the person can go too.
    assert client.delete(role.headers["Location"], headers=BOB).status_code == 200
    assert client.delete(person["location"], headers=ALICE).status_code == 200


def test_ill_typed_literals_are_refused_by_the_shapes(client, store):
    with Unchanged(store):
        response = post(client, '<id/person/cher> schema:birthDate "20 May 1946"^^xsd:date .')
    assert response.status_code == 422
    (group,) = response.get_json()["report"]["focusNodes"]
    assert group["results"][0]["constraint"] == "DatatypeConstraintComponent"


# -- issue 6 review ---------------------------------------------------------------------------
# Defect 1: a chunked body over the limit is refused whole, not cut and accepted.

@pytest.mark.parametrize("path", ["/contributions", "/validate"])
def test_chunked_body_over_the_size_limit_is_413_and_nothing_stored(client, store, path):
    import io

    many = "".join(f'<id/person/cher> schema:description "note {i} {"x" * 60}"@en .\n'
                   for i in range(3000))
    data = (PREFIXES + many).encode()
    assert len(data) > 200_000
    with Unchanged(store):
        response = client.post(path, input_stream=io.BytesIO(data),
                               headers={**ALICE, **TURTLE, "Transfer-Encoding": "chunked"})
    assert response.status_code == 413, response.get_data(as_text=True)[:300]


def test_read_body_reads_chunked_input_up_to_the_limit(app):
    import io

    from filmld.errors import PayloadTooLarge
    from filmld.web.body import read_body

    for size, fits in ((100, True), (101, False), (10_000, False)):
        with app.test_request_context("/validate", method="POST",
                                      input_stream=io.BytesIO(b"x" * size),
                                      headers={"Transfer-Encoding": "chunked"}):
            if fits:
                assert read_body(100) == b"x" * size
            else:
                with pytest.raises(PayloadTooLarge):
                    read_body(100)


# Defect 2: blank-node reachability is linear, and nesting is bounded.

def test_ten_thousand_levels_of_blank_node_nesting_are_refused_quickly(tmp_path):
    import time

    app = create_app(Settings(store=str(tmp_path / "s"), tokens="alice:tok-alice",
                              max_contribution_triples=20_000, max_body_bytes=2_000_000))
    client, store = app.test_client(), app.extensions["filmld.store"]
    try:
        depth = 10_000
        body = ("<id/person/cher> schema:knows " + "[ schema:knows " * depth
                + "<id/person/cher>" + " ]" * depth + " .")
        start = time.perf_counter()
        with Unchanged(store):
            response = post(client, body)
        took = time.perf_counter() - start
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert "ContributionPolicy:blank-node-depth" in {
            r["constraint"] for r in policy_results(response.get_json())}
        assert took < 3, took
    finally:
        store.close()


def test_blank_node_check_is_linear():
    import time

    from filmld.contribution_policy import Model, check

    model = Model(frozenset({"https://schema.org/knows"}), frozenset(), {"person": frozenset()})
    nodes = [ox.BlankNode() for _ in range(40_000)]
    cher = ox.NamedNode(f"{BASE}id/person/cher")
    knows = ox.NamedNode("https://schema.org/knows")
    triples = [ox.Triple(cher, knows, nodes[0])] + [
        ox.Triple(a, knows, b) for a, b in itertools.pairwise(nodes)]
    start = time.perf_counter()
    report = check(triples, model, BASE, None)
    assert time.perf_counter() - start < 2
    assert "ContributionPolicy:blank-node-depth" in {r.constraint for r in report.violations}


def test_a_few_levels_of_blank_nodes_are_fine(client):
    response = post(client, '<id/person/cher> schema:knows [ schema:knows [ '
                            'schema:description "a friend of a friend"@en ] ] .')
    assert response.status_code == 201, response.get_json()


# Defect 3: release dates must be well-typed; rdflib's tracebacks stay out of the log.

@pytest.mark.parametrize("value", ['"1985"^^xsd:integer', '"1985-99-99"^^xsd:date',
                                   '"85"^^xsd:gYear', '"1985"'])
def test_ill_typed_release_dates_are_refused(client, store, value, caplog):
    caplog.set_level(logging.DEBUG)
    film = one_film("typed-2003").replace('"2001-05-04"^^xsd:date', value)
    with Unchanged(store):
        response = post(client, film)
    assert response.status_code == 422, response.get_json()
    constraints = {r["constraint"] for g in response.get_json()["report"]["focusNodes"]
                   for r in g["results"]}
    assert constraints == {"OrConstraintComponent"}
    assert not [r for r in caplog.records if "Failed to convert Literal" in r.getMessage()]


def test_well_typed_release_year_is_accepted(client):
    film = one_film("typed-2004").replace('"2001-05-04"^^xsd:date', '"2004"^^xsd:gYear')
    assert post(client, film).status_code == 201


def test_ill_typed_birth_date_is_refused_without_log_noise(client, caplog):
    caplog.set_level(logging.DEBUG)
    response = post(client, '<id/person/cher> schema:birthDate "1946-02-30"^^xsd:date .')
    assert response.status_code == 422
    assert not [r for r in caplog.records if "Failed to convert Literal" in r.getMessage()]


def test_other_rdflib_messages_are_not_hidden(caplog):
    import filmld.validation  # noqa: F401  (installs the filter)

    with caplog.at_level(logging.WARNING, logger="rdflib.term"):
        logging.getLogger("rdflib.term").warning("something else went wrong")
    assert any("something else" in r.getMessage() for r in caplog.records)


# Defect 4: control characters in literals are refused at the door.

@pytest.mark.parametrize("literal, line", [('"bad\x00nul"', 5), ('"esc \x1b[31m"', 5),
                                           ('"escaped \\u0007 bell"', None)])
def test_control_characters_in_literals_are_400(client, store, literal, line):
    with Unchanged(store):
        response = post(client, f"<id/person/cher> schema:description {literal}@en .")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "control character" in error["message"]
    assert error.get("line") == line
    if line:
        assert error["column"] > 1


def test_tab_newline_and_carriage_return_are_fine(client):
    response = post(client, '<id/person/cher> schema:description """a\tb\r\nc"""@en .')
    assert response.status_code == 201


# Defect 5: the contribution policy keeps the graph in the model.

@pytest.mark.parametrize("body, rule", [
    ('<id/person/cher> <http://example.org/evil> "spam" .', "declared-property"),
    ('<id/person/cher> schema:address [ schema:name "x"@en ] .', "declared-property"),
    ('<id/anything/x> rdfs:label "x"@en .', "known-kind"),
    ("<id/person/cher> <http://www.w3.org/2002/07/owl#sameAs> <id/person/eric-stoltz> .",
     "same-as-outside"),
    ("<id/person/cher> schema:sameAs <id/person/eric-stoltz> .", "same-as-outside"),
    ("<id/person/cher> a <http://example.org/Evil> .", "declared-class"),
    ('<id/person/new-one> rdfs:label "New One"@en ; schema:name "New One"@en .',
     "new-resource-typed"),
    ('<id/person/new-two> a schema:Movie ; rdfs:label "x"@en ; schema:name "x"@en .',
     "new-resource-typed"),
])
def test_contribution_policy_refusals_are_422_reports(client, store, body, rule):
    with Unchanged(store):
        response = post(client, body)
    assert response.status_code == 422, response.get_json()
    rules = {r["constraint"] for r in policy_results(response.get_json())}
    assert f"ContributionPolicy:{rule}" in rules, rules
    turtle = post(client, body, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 422 and "sh:ValidationReport" in turtle.get_data(as_text=True)


@pytest.mark.parametrize("value, term", [
    ('"film"', rdflib.Literal("film")),
    ('"film"@en', rdflib.Literal("film", lang="en")),
    ("<urn:example:Film>", rdflib.URIRef("urn:example:Film")),
])
def test_policy_report_sh_value_is_the_offending_term(client, value, term):
    # SHACL 3.6.2.3: sh:value is the RDF term that caused the result, not its N-Triples text.
    response = post(client, f"<id/person/cher> a {value} .", path="/validate",
                    headers={"Accept": "text/turtle"})
    assert response.status_code == 422
    graph = rdflib.Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert list(graph.objects(None, rdflib.SH.value)) == [term]


def test_a_new_typed_resource_under_its_kind_is_accepted(client):
    response = post(client, '<id/person/new-actor> a schema:Person ; '
                            'rdfs:label "New Actor"@en ; schema:name "New Actor"@en .')
    assert response.status_code == 201, response.get_json()


def test_the_kind_table_comes_from_the_data(app):
    model = app.extensions["filmld.contributions"].contributions.model
    assert model.kinds["person"] == {"https://schema.org/Person"}
    assert model.kinds["character"] == {f"{BASE}ontology/Character"}
    assert model.kinds["film"] == {"https://schema.org/Movie"}


# Defect 6: page numbers are bounded.

@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-1", "abc", "1e3", "1000001",
                                  "%C2%B2"])  # "²": str.isdigit() says yes, int() no
def test_page_out_of_range_is_400_in_the_error_shape(client, page):
    response = client.get(f"/contributions?page={page}")
    assert response.status_code == 400
    assert response.get_json()["error"]["status"] == 400


# Defect 7: subjects are clean IRIs of this dataset.

@pytest.mark.parametrize("subject", [f"<{BASE}id/../graph/curated>",
                                     f"<{BASE}id/%2e%2e/graph/curated>",
                                     f"<{BASE}id/person/cher?page=2>",
                                     f"<{BASE}id/person/cher#me>",
                                     f"<{BASE}id/person/%63her>",
                                     f"<{BASE}id/person/./cher>"])
def test_non_normalised_subjects_are_refused(client, store, subject):
    with Unchanged(store):
        response = post(client, f'{subject} schema:description "x"@en .')
    assert response.status_code == 422, response.get_json()
    (result,) = policy_results(response.get_json())
    assert result["constraint"] in ("ContributionPolicy:clean-iri",
                                    "ContributionPolicy:subject-in-dataset")


def test_normalise_follows_rfc_3986():
    from filmld.contribution_policy import normalise

    assert normalise("http://h/id/../graph/x") == "http://h/graph/x"
    assert normalise("http://h/id/%2e%2e/graph/x") == "http://h/graph/x"
    assert normalise("http://h/a/./b/../c") == "http://h/a/c"
    assert normalise("http://h/id/person/%63her") == "http://h/id/person/cher"
    assert normalise("http://h/id/person/a%2fb") == "http://h/id/person/a%2Fb"
    assert normalise("HTTP://H/x?q#f") == "http://h/x?q#f"


# Defect 8: self-describing documents, a documented hash, a contributor that dereferences.

@pytest.mark.parametrize("how", [{"suffix": ".trig"}, {"accept": "application/trig"},
                                 {"suffix": ".nq"}, {"accept": "application/n-quads"}])
def test_contribution_as_trig_or_nquads_keeps_facts_and_provenance_apart(client, how):
    body = post(client, DATE).get_json()
    path = body["location"] + how.get("suffix", "")
    response = client.get(path, headers={"Accept": how.get("accept", "*/*")})
    assert response.status_code == 200
    media = response.headers["Content-Type"].split(";")[0]
    assert media in ("application/trig", "application/n-quads")
    fmt = ox.RdfFormat.TRIG if media == "application/trig" else ox.RdfFormat.N_QUADS
    quads = list(ox.parse(response.get_data(), format=fmt))
    facts = [q for q in quads if q.graph_name.value == body["iri"]]
    provenance = [q for q in quads if q.graph_name.value == f"{BASE}graph/provenance"]
    assert [q.predicate.value for q in facts] == ["https://schema.org/birthDate"]
    assert provenance and all(q.graph_name.value != body["iri"] for q in provenance)
    assert len(facts) + len(provenance) == len(quads)


@pytest.mark.parametrize("suffix, path", [(".ttl", ""), (".trig", ""), ("", "/provenance")])
def test_contribution_documents_have_validators_freshness_and_alternates(client, suffix,
                                                                        path):
    """As every other document here: a strong ETag that a conditional GET answers with
    304, Last-Modified, Cache-Control, CORS, and a Link to each other format."""
    body = post(client, DATE).get_json()
    url = body["location"] + suffix + path
    response = client.get(url, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag.startswith('"') and response.headers["Last-Modified"]
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    links = response.headers["Link"]
    for media in ("text/html", "application/ld+json", "application/n-quads"):
        assert f'type="{media}"' in links
    if path:  # the provenance document's other formats are named by ?format=
        assert f'<{body["location"]}/provenance?format=nq>; rel="alternate"' in links
    else:
        assert f'<{body["location"]}.nq>; rel="alternate"' in links
        assert f'<{body["location"]}{suffix}>' not in links  # not itself
    again = client.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    other = client.get(body["location"] + ".nt" + path if path else body["location"] + ".nt")
    assert other.headers["ETag"] != etag  # each representation its own tag


def test_a_withdrawn_contributions_old_etag_no_longer_matches(client):
    body = post(client, DATE).get_json()
    url = body["location"] + "/provenance?format=ttl"
    etag = client.get(url).headers["ETag"]
    assert client.delete(body["location"], headers=ALICE).status_code in (200, 204)
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert "invalidatedAtTime" in after.get_data(as_text=True)


def test_the_hash_is_the_documented_one_and_blank_nodes_are_skolemised(client):
    from filmld.contributions import HASH_METHOD

    body = post(client, '<id/person/cher> schema:knows [ schema:description "é"@en ] .'
                ).get_json()
    triples = client_triples(client, body)
    assert not any(isinstance(t.object, ox.BlankNode) or isinstance(t.subject, ox.BlankNode)
                   for t in triples)
    assert any(f"{BASE}.well-known/genid/{body['id']}-1" == t.object.value for t in triples
               if isinstance(t.object, ox.NamedNode))
    lines = sorted(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)
    import hashlib

    assert hashlib.sha256("".join(lines).encode("utf-8")).hexdigest() == body["sha256"]
    assert "sorted" in HASH_METHOD and "genid" in HASH_METHOD
    html = client.get(body["location"], headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "genid" in html and "sorted by code point" in html
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "well-known/genid" in readme


def test_blank_nodes_that_canonicalisation_would_choke_on_are_quick(client):
    """RDFC-1.0 took 3 s on this (72 triples), and 16 x 16 ran out of memory."""
    import time

    inner = " , ".join(["[ schema:description \"same\"@en ]"] * 8)
    outer = " , ".join([f"[ schema:knows {inner} ]"] * 8)
    start = time.perf_counter()
    response = post(client, f"<id/person/cher> schema:knows {outer} .")
    assert response.status_code == 201, response.get_json()
    assert time.perf_counter() - start < 5


def client_triples(client, body) -> list[ox.Triple]:
    text = client.get(body["location"] + ".nq").get_data()
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_QUADS)
            if q.graph_name.value == body["iri"]]


def test_the_contributor_iri_dereferences(client):
    body = post(client, DATE).get_json()
    agent = f"{BASE}contributors/alice"
    turtle = client.get("/contributors/alice", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    graph = rdflib.Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert (rdflib.URIRef(agent), rdflib.RDF.type, prov.Agent) in graph
    assert (rdflib.URIRef(body["iri"]), prov.wasAttributedTo, rdflib.URIRef(agent)) in graph
    html = client.get("/contributors/alice", headers={"Accept": "text/html"})
    assert html.status_code == 200 and body["id"] in html.get_data(as_text=True)
    assert client.get("/contributors/nobody").status_code == 404


# Defect 9: which contributed triples caused each result; who blocks a withdrawal.

def test_each_result_says_which_contributed_triples_caused_it(client):
    response = post(client, "<id/person/cher> a filmld:Character .")
    assert response.status_code == 422
    cause = f"<{BASE}id/person/cher> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> " \
            f"<{BASE}ontology/Character> ."
    results = [r for g in response.get_json()["report"]["focusNodes"] for r in g["results"]]
    assert len(results) >= 2
    for r in results:
        assert cause in r["caused_by"], r
    # the roles that cast her are not in the contribution: violations there are indirect
    assert any(r["direct"] is False and "/id/role/" in group["focusNode"]
               for group in response.get_json()["report"]["focusNodes"]
               for r in group["results"])
    html = post(client, "<id/person/cher> a filmld:Character .",
                headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Caused by" in html and "ontology/Character" in html


def test_unique_lang_results_show_the_clashing_values(client):
    response = post(client, '<id/person/cher> rdfs:label "Cherilyn"@en .')
    assert response.status_code == 422
    (result,) = [r for g in response.get_json()["report"]["focusNodes"] for r in g["results"]
                 if r["constraint"] == "UniqueLangConstraintComponent"]
    assert '"Cherilyn"@en' in result["value"] and '"Cher"@en' in result["value"]


def test_blocked_withdrawal_names_the_blocking_contributions_and_the_operator_cannot_force(
        client, store):
    person = post(client, """<id/person/blocked-actor> a schema:Person ;
        rdfs:label "Blocked Actor"@en ; schema:name "Blocked Actor"@en .""").get_json()
    role = post(client, """<id/role/mask-1985-blocked> a schema:PerformanceRole ;
        rdfs:label "Blocked Actor as Cameo"@en ; schema:name "Blocked Actor as Cameo"@en ;
        schema:actor <id/person/blocked-actor> ; schema:characterName "Cameo"@en ;
        filmld:character <id/character/gar> .""", headers=BOB).get_json()
    for who in (ALICE, OPERATOR):
        with Unchanged(store):
            refused = client.delete(person["location"], headers=who)
        assert refused.status_code == 409
        error = refused.get_json()["error"]
        assert error["blockedBy"] == [{"id": role["id"], "iri": role["iri"],
                                       "contributor": "bob"}]
        assert role["iri"] in error["message"] and "bob" in error["message"]
    html = client.delete(person["location"], headers={**OPERATOR, "Accept": "text/html"})
    assert html.status_code == 409 and role["id"] in html.get_data(as_text=True)


# Defect 10: HTTP and format details.

def test_a_charset_other_than_utf8_is_415(client, store):
    with Unchanged(store):
        response = post(client, DATE, headers={"Content-Type": "text/turtle; charset=iso-8859-1"})
    assert response.status_code == 415
    assert "UTF-8" in response.get_json()["error"]["message"]
    assert post(client, DATE, headers={"Content-Type": "text/turtle; charset=UTF-8"}
                ).status_code == 201


@pytest.mark.parametrize("path", ["/contributions", "/validate"])
def test_a_content_coding_is_415_with_accept_encoding(client, store, path):
    # RFC 9110 section 15.5.16, RFC 7694 section 3: 415 with Accept-Encoding, never the
    # encoded bytes parsed as Turtle (a gzipped body was a 400 "not valid UTF-8").
    body = gzip.compress((PREFIXES + DATE).encode())
    with Unchanged(store):
        response = post(client, body, path=path, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 415, response.get_json()
    assert response.headers["Accept-Encoding"] == "identity"
    assert "Content-Encoding" in response.get_json()["error"]["message"]
    plain = post(client, DATE, path=path, headers={"Content-Encoding": "identity"})
    assert plain.status_code in (200, 201)


def test_a_utf8_bom_is_stripped(client):
    response = post(client, b"\xef\xbb\xbf" + (PREFIXES + DATE).encode())
    assert response.status_code == 201, response.get_json()


def test_options_on_the_collection_says_what_it_accepts(client):
    response = client.options("/contributions")
    assert response.status_code in (200, 204)
    assert "text/turtle" in response.headers["Accept-Post"]
    assert "application/ld+json" in response.headers["Accept-Post"]
    assert {"GET", "POST", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_listing_has_totals_and_paging_in_json_and_as_hydra_rdf(client):
    for i in range(2):
        assert post(client, f'<id/person/cher> schema:description "t{i}"@en .').status_code == 201
    listing = client.get("/contributions").get_json()
    assert listing["totalItems"] == 2 and listing["lastPage"] == 1
    assert listing["first"] == "/contributions?page=1"
    turtle = client.get("/contributions", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    hydra = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
    collection = rdflib.URIRef(f"{BASE}contributions")
    assert (collection, rdflib.RDF.type, hydra.Collection) in graph
    assert int(graph.value(collection, hydra.totalItems)) == 2
    assert len(list(graph.objects(collection, hydra.member))) == 2
    assert client.get("/contributions", headers={"Accept": "image/png"}).status_code == 406


# Defect 11: failed sign-ins are limited per address; dry runs have their own budget.

def test_wrong_tokens_are_rate_limited_per_address(client):
    codes = [client.post("/validate", data=b"x", headers={"Authorization": "Bearer nope"},
                         environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code
             for _ in range(30)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    limited = client.post("/validate", data=b"x", headers={"Authorization": "Bearer nope"},
                          environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    other = client.post("/validate", data=b"x", headers={"Authorization": "Bearer nope"},
                        environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert other.status_code == 401


def test_dry_runs_and_bad_requests_do_not_use_the_contributions_budget(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "s"), tokens="alice:tok-alice",
                              contribution_rate=2))
    client = app.test_client()
    try:
        for _ in range(3):
            assert post(client, "<id/person/cher> schema:name ", ).status_code == 400
        assert [post(client, DATE, path="/validate").status_code for _ in range(3)] == \
            [200, 200, 429]
        limited = post(client, DATE, path="/validate")
        assert "dry runs" in limited.get_json()["error"]["message"]
        assert post(client, DATE).status_code == 201
        assert post(client, '<id/person/cher> schema:description "b"@en .').status_code == 201
        third = post(client, '<id/person/cher> schema:description "c"@en .')
        assert third.status_code == 429
        assert "contributions" in third.get_json()["error"]["message"]
    finally:
        app.extensions["filmld.store"].close()


@pytest.mark.parametrize("document, where", [
    ({"@id": 5, "https://schema.org/name": "x"}, '$["@id"]'),
    ({"@id": f"{BASE}id/person/cher",
      "https://schema.org/knows": [{"@id": f"{BASE}id/person/cher"}, {"@id": ["x"]}]},
     '$["https://schema.org/knows"][1]["@id"]'),
    ({"@context": {"x": 5}, "@id": f"{BASE}id/person/cher", "x": 1}, '$["@context"]["x"]'),
])
def test_jsonld_errors_without_a_position_say_the_json_path(client, store, document, where):
    with Unchanged(store):
        response = jsonld(client, document)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["path"] == where and where in error["message"]


@pytest.mark.parametrize("body", [
    ("<id/person/cher> schema:knows _:a . <id/person/eric-stoltz> schema:knows _:a . "
     '_:a schema:description "shared"@en .'),
    '<id/person/cher> schema:knows _:a . _:a schema:knows _:b . _:b schema:knows _:a .',
])
def test_shared_or_cyclic_blank_nodes_are_refused(client, store, body):
    with Unchanged(store):
        response = post(client, body)
    assert response.status_code == 422
    assert "ContributionPolicy:blank-node-tree" in {
        r["constraint"] for r in policy_results(response.get_json())}


# -- control characters (issue 4) ----------------------------------------------------------------
# A contribution may hold DEL and the C1 controls (XML 1.0 allows them) and CR: every page
# that shows them stays well-formed HTML, and RDF/XML carries them exactly.
RAW_CONTROLS = "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]"
ODD = "del\x7f nel\x85 cr\r end"


def test_contributed_control_characters_keep_every_format_well_formed(client):
    import re

    import html5rdf

    response = post(client, '<id/person/cher> schema:description '
                            '"del\\u007F nel\\u0085 cr\\r end"@en .')
    assert response.status_code == 201, response.get_json()
    location = response.headers["Location"]
    for path in (f"{location}.html", "/id/person/cher.html"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(RAW_CONTROLS, page), path
        html5rdf.HTMLParser(strict=True).parse(page)
        assert "nel\ufffd cr" in page, path  # the contribution page shows N-Triples terms
    for path in (f"{location}.rdf", "/id/person/cher.rdf"):
        document = client.get(path)
        assert document.status_code == 200, path
        graph = rdflib.Graph().parse(data=document.data, format="xml")  # expat
        values = {str(o) for o in graph.objects(rdflib.URIRef(f"{BASE}id/person/cher"),
                                                rdflib.URIRef("https://schema.org/description"))}
        assert ODD in values, path
    refused = post(client, '<id/film/mask-1985> schema:genre "odd\\u007F"^^xsd:string .',
                   headers={"Accept": "text/html"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert not re.search(RAW_CONTROLS, page)
    html5rdf.HTMLParser(strict=True).parse(page)
