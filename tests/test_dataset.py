"""Dataset-level documents: the home page, streamed dumps, VoID, the JSON-LD context and the
ontology's namespace IRI and term pages."""

from __future__ import annotations

import html
import json
import re
import types

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from filmld.config import Settings
from filmld.dumps import dump
from filmld.web import create_app
from tests.test_entities import BROWSER, jsonld_graph

BASE = "http://127.0.0.1:8000/"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SCHEMA = rdflib.Namespace("https://schema.org/")




def _all_triples(app) -> rdflib.Graph:
    from filmld.terms import to_rdflib_graph

    store = app.extensions["filmld.store"]
    return to_rdflib_graph(t for g in store.graph_names() for t in store.graph_triples(g))


def test_home_page_links_the_film_and_main_entities(reader):
    response = reader.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for path in ("id/film/mask-1985", "id/person/cher", "id/person/eric-stoltz",
                 "id/character/rocky-dennis", "id/place/azusa", "id/recording/katmandu",
                 "dataset.ttl", ".well-known/void", "context.jsonld", "sparql"):
        assert f'href="{BASE}{path}"' in page, path
    assert "<h2>People</h2>" in page and "<h2>Characters</h2>" in page


@pytest.mark.parametrize("suffix, rdflib_format", [("ttl", "turtle"), ("nt", "nt")])
def test_dumps_hold_every_triple(shared_app, reader, suffix, rdflib_format):
    response = reader.get(f"/dataset.{suffix}")
    assert response.status_code == 200
    assert "charset=utf-8" in response.headers["Content-Type"]
    assert "Content-Length" not in response.headers  # streamed, not built in memory
    graph = rdflib.Graph().parse(data=response.data, format=rdflib_format)
    assert isomorphic(graph, _all_triples(shared_app))


def test_json_ld_dump_holds_every_triple(shared_app, reader):
    response = reader.get("/dataset.jsonld")
    assert response.headers["Content-Type"] == "application/ld+json"
    data = json.loads(response.data)
    assert isomorphic(jsonld_graph(data), _all_triples(shared_app))


def test_n_quads_dump_keeps_named_graphs(app):
    store = app.extensions["filmld.store"]
    graph = f"{BASE}graph/contribution-test"
    store.add_graph(graph, [ox.Triple(ox.NamedNode(f"{BASE}id/person/cher"),
                                      ox.NamedNode("https://schema.org/award"),
                                      ox.Literal("Best Actress, Cannes 1985", language="en"))])
    response = app.test_client().get("/dataset.nq")
    assert response.headers["Content-Type"] == "application/n-quads; charset=utf-8"
    quads = list(ox.parse(response.data, format=ox.RdfFormat.N_QUADS))
    names = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    assert {graph, f"{BASE}graph/curated", f"{BASE}graph/ontology", f"{BASE}graph/shapes"} \
        <= names


def test_dumps_are_generators(shared_app):
    store = shared_app.extensions["filmld.store"]
    for suffix in ("ttl", "nt", "nq", "jsonld"):
        assert isinstance(dump(store, suffix, BASE), types.GeneratorType), suffix


def _hold_counts(monkeypatch):
    """VoID's store scans wait for the returned Event (10 s at most): a slow store, on cue."""
    import threading

    import filmld.void

    release = threading.Event()
    count = filmld.void.compute_statistics

    def slow_count(*args):
        release.wait(10)
        return count(*args)

    monkeypatch.setattr(filmld.void, "compute_statistics", slow_count)
    return release


def test_void_of_a_slow_store_answers_at_once_with_its_previous_counts(tmp_path,
                                                                        monkeypatch):
    """Counting scans the whole store (32 s at 100k films): after a change, a store whose
    last count was slow is answered with its previous counts, validated by their own
    version (no Last-Modified, never kept by the render cache), until the new count is in."""
    import time

    import filmld.void

    app = create_app(Settings(store=str(tmp_path / "store")))
    client = app.test_client()
    store = app.extensions["filmld.store"]
    dataset = rdflib.URIRef(f"{BASE}.well-known/void#dataset")

    def triples() -> tuple[int, dict]:
        response = client.get("/.well-known/void.ttl")
        graph = rdflib.Graph().parse(data=response.data, format="turtle")
        return int(graph.value(dataset, VOID.triples)), response.headers

    try:
        before, fresh = triples()
        assert "Last-Modified" in fresh
        monkeypatch.setattr(filmld.void, "STALE_AFTER_SECONDS", 0.0)  # every count is "slow"
        release = _hold_counts(monkeypatch)
        added = [ox.Triple(ox.NamedNode(f"{BASE}id/thing/t{i}"),
                           ox.NamedNode("https://schema.org/name"), ox.Literal(f"t{i}"))
                 for i in range(7)]
        store.add_graph(f"{BASE}graph/test-void", added)
        stale, headers = triples()  # at once, while the count waits
        assert stale == before
        assert headers["ETag"] == fresh["ETag"] and "Last-Modified" not in headers
        release.set()
        deadline = time.monotonic() + 10
        while triples()[0] != before + 7:
            assert time.monotonic() < deadline, "the new counts never came"
            time.sleep(0.05)
        assert triples()[1]["ETag"] != fresh["ETag"]
    finally:
        store.close()


def test_void_of_a_store_still_counting_for_the_first_time_is_a_503_then_its_counts(
        tmp_path, monkeypatch):
    """No earlier count can stand in: the request waits FIRST_WAIT_SECONDS at most, then
    says the scan is under way (503, Retry-After); the scan goes on and is then served."""
    import time

    import filmld.void

    monkeypatch.setattr(filmld.void, "FIRST_WAIT_SECONDS", 0.2)
    release = _hold_counts(monkeypatch)
    # a base no other test counted, so neither memory nor the file cache knows it
    base = f"http://127.0.0.1:8000/first-count-{time.time_ns()}/"
    app = create_app(Settings(store=str(tmp_path / "store"), base_url=base))
    client = app.test_client()
    try:
        started = time.monotonic()
        pending = client.get("/.well-known/void.ttl")
        assert time.monotonic() - started < 5
        assert pending.status_code == 503
        assert pending.headers["Retry-After"] == "5"
        assert "being computed" in pending.get_json()["error"]["message"]
        release.set()
        deadline = time.monotonic() + 10
        while (response := client.get("/.well-known/void.ttl")).status_code != 200:
            assert response.status_code == 503
            assert time.monotonic() < deadline, "the counts never came"
            time.sleep(0.05)
        graph = rdflib.Graph().parse(data=response.data, format="turtle")
        assert int(graph.value(rdflib.URIRef(f"{base}.well-known/void#dataset"),
                               VOID.triples)) > 1000
    finally:
        release.set()
        app.extensions["filmld.store"].close()


def test_void_whose_first_count_fails_says_the_stores_own_error(tmp_path, monkeypatch):
    """The background scan's failure reaches the waiting request as the store said it (a
    503 with its message), not as 'being computed'; the next request tries again."""
    import time

    import filmld.void
    from filmld.errors import StoreUnavailable

    calls = []

    def failing(*args):
        calls.append(args)
        raise StoreUnavailable("the SPARQL store is unavailable (test); try again",
                               headers={"Retry-After": "7"})

    monkeypatch.setattr(filmld.void, "compute_statistics", failing)
    base = f"http://127.0.0.1:8000/failing-count-{time.time_ns()}/"
    app = create_app(Settings(store=str(tmp_path / "store"), base_url=base))
    try:
        client = app.test_client()
        for attempt in (1, 2):
            response = client.get("/.well-known/void.ttl")
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "7"
            assert "(test)" in response.get_json()["error"]["message"]
            assert len(calls) == attempt
    finally:
        app.extensions["filmld.store"].close()


def test_each_dump_links_the_others(reader):
    """A crawler that finds one dump finds them all (Link rel=alternate, RFC 8288)."""
    import requests.utils

    formats = {"ttl": "text/turtle", "nt": "application/n-triples",
               "nq": "application/n-quads", "jsonld": "application/ld+json"}
    for suffix in formats:
        response = reader.head(f"/dataset.{suffix}")
        links = requests.utils.parse_header_links(response.headers["Link"])
        assert {(link["url"], link["type"]) for link in links if link["rel"] == "alternate"} \
            == {(f"{BASE}dataset.{s}", media) for s, media in formats.items() if s != suffix}
        for link in links:
            assert reader.head(link["url"].removeprefix(BASE.rstrip("/"))).status_code == 200


def test_unknown_dump_is_404(reader):
    response = reader.get("/dataset.docx")
    assert response.status_code == 404
    assert "/dataset.ttl" in response.get_json()["error"]["message"]


def test_void_describes_the_dataset(shared_app, reader):
    response = reader.get("/.well-known/void")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Content-Location"] == f"{BASE}.well-known/void.ttl"
    void = rdflib.Graph().parse(data=response.data, format="turtle")
    dataset = rdflib.URIRef(f"{BASE}.well-known/void#dataset")
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in void
    assert int(void.value(dataset, VOID.triples)) == len(_all_triples(shared_app))
    assert int(void.value(dataset, VOID.entities)) > 40
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(f"{BASE}sparql")) in void
    for suffix in ("ttl", "nt", "jsonld", "nq"):
        assert (dataset, VOID.dataDump, rdflib.URIRef(f"{BASE}dataset.{suffix}")) in void
    assert void.value(dataset, DCT.license) is not None
    movies = [p for p in void.objects(dataset, VOID.classPartition)
              if void.value(p, VOID["class"]) == SCHEMA.Movie]
    assert len(movies) == 1 and int(void.value(movies[0], VOID.entities)) == 1
    actors = [p for p in void.objects(dataset, VOID.propertyPartition)
              if void.value(p, VOID.property) == SCHEMA.actor]
    assert len(actors) == 1 and int(void.value(actors[0], VOID.triples)) >= 5
    as_jsonld = reader.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["Content-Location"] == f"{BASE}.well-known/void.jsonld"
    assert isomorphic(jsonld_graph(as_jsonld.data), void)
    assert reader.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406


def test_void_is_a_page_for_browsers_with_the_same_counts(reader):
    """The site's navigation links to the VoID: a browser gets a page (it got a Turtle file
    to save), built from the same triples: every count, class and property partition."""
    import html5rdf

    void = rdflib.Graph().parse(data=reader.get("/.well-known/void.ttl").data,
                                format="turtle")
    dataset = rdflib.URIRef(f"{BASE}.well-known/void#dataset")
    response = reader.get("/.well-known/void", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Location"] == f"{BASE}.well-known/void.html"
    assert 'rel="alternate"' in response.headers["Link"]
    page = response.get_data(as_text=True)
    html5rdf.HTMLParser(strict=True).parse(page)
    shown = re.sub(r"<script.*?</script>|<head>.*?</head>", "", page, flags=re.DOTALL)
    for count in (VOID.triples, VOID.entities, VOID.distinctSubjects, VOID.classes,
                  VOID.properties):
        assert f"<td>{int(void.value(dataset, count)):,}</td>" in shown, count
    for partition, term, measure in ((VOID.classPartition, VOID["class"], VOID.entities),
                                     (VOID.propertyPartition, VOID.property, VOID.triples)):
        for part in void.objects(dataset, partition):
            row = re.search(f'<a href="{re.escape(str(void.value(part, term)))}"[^>]*>'
                            r'[^<]+</a> <small class="muted">[^<]+</small></td><td>([\d,]+)<',
                            shown)
            assert row and int(row.group(1).replace(",", "")) == int(void.value(part, measure))
    assert '<link rel="alternate" type="text/turtle"' in page  # its RDF, for crawlers
    assert reader.get("/.well-known/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert reader.get("/.well-known/void.html").status_code == 200


def test_context_is_published_and_stable(reader):
    response = reader.get("/context.jsonld")
    assert response.headers["Content-Type"] == "application/ld+json"
    context = json.loads(response.data)["@context"]
    assert context["schema"] == "https://schema.org/"
    assert context["filmld"] == f"{BASE}ontology/"
    assert context["actor"] == {"@id": "schema:actor", "@type": "@id"}
    assert context["character"] == {"@id": "filmld:character", "@type": "@id"}
    assert context["Movie"] == "schema:Movie"
    assert reader.get("/context.jsonld").data == response.data


def test_favicon_is_an_empty_answer_not_a_404(reader):
    """Browsers ask every site for /favicon.ico; a 404 is a console error on every page."""
    response = reader.get("/favicon.ico", headers={"Accept": "image/avif,image/webp,*/*"})
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
    assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize("accept, fmt", [(None, "ttl"), (BROWSER, "html"),
                                         ("application/ld+json", "jsonld")])
def test_ontology_iri_negotiates(reader, accept, fmt):
    response = reader.get("/ontology/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{BASE}ontology.{fmt}"
    assert response.headers["Vary"] == "Accept"
    assert reader.get(f"/ontology.{fmt}").status_code == 200


def test_ontology_page_documents_every_term(reader):
    ontology = rdflib.Graph().parse(data=reader.get("/ontology.ttl").data, format="turtle")
    terms = {str(s) for s in ontology.subjects(rdflib.RDFS.label, None)
             if str(s).startswith(f"{BASE}ontology/") and str(s) != f"{BASE}ontology/"}
    assert len(terms) > 20
    page = reader.get("/ontology.html").get_data(as_text=True)
    import html5rdf

    html5rdf.HTMLParser(strict=True).parse(page)
    for term in terms:
        name = term.rsplit("/", 1)[1]
        assert f'id="{name}"' in page, name
        assert f'href="{term}"' in page, name
    assert "Domain" in page and "Range" in page and "Subclass of" in page
    # the ontology's own facts too: its label and comment, beside its title and description
    namespace = rdflib.URIRef(f"{BASE}ontology/")
    shown = re.sub(r"<script.*?</script>|<head>.*?</head>", "", page, flags=re.DOTALL)
    for predicate in (rdflib.RDFS.label, rdflib.RDFS.comment):
        for value in ontology.objects(namespace, predicate):
            assert html.escape(str(value), quote=False) in shown, (predicate, value)


@pytest.mark.parametrize("term", ["Character", "character", "plotEvent"])
def test_ontology_terms_dereference_like_entities(reader, term):
    thing = reader.get(f"/ontology/{term}", headers={"Accept": BROWSER})
    assert thing.status_code == 303
    assert thing.headers["Location"] == f"{BASE}ontology/{term}.html"
    page = reader.get(f"/ontology/{term}.html")
    assert page.status_code == 200 and "<h1>" in page.get_data(as_text=True)
    graph = rdflib.Graph().parse(data=reader.get(f"/ontology/{term}.ttl").data,
                                 format="turtle")
    assert (rdflib.URIRef(f"{BASE}ontology/{term}"), rdflib.RDFS.comment, None) in graph
    assert reader.get("/ontology/NoSuchTerm.ttl").status_code == 404


# -- named graphs (issue 4 review: the graph IRIs filmld mints must dereference) -----------
def _store_graph(app, name: str) -> rdflib.Graph:
    from filmld.terms import to_rdflib_graph

    store = app.extensions["filmld.store"]
    return to_rdflib_graph(store.graph_triples(store.graph_iri(name)))


@pytest.mark.parametrize("name", ["curated", "ontology", "shapes"])
def test_graph_iris_dereference_like_entities(shared_app, reader, name):
    iri = f"{BASE}graph/{name}"
    for accept, fmt in ((None, "ttl"), (BROWSER, "html"), ("application/ld+json", "jsonld"),
                        ("text/turtle; charset=utf-8", "ttl")):
        thing = reader.get(f"/graph/{name}", headers={"Accept": accept} if accept else {})
        assert thing.status_code == 303, accept
        assert thing.headers["Location"] == f"{iri}.{fmt}"
        assert thing.headers["Vary"] == "Accept"
    expected = _store_graph(shared_app, name)
    assert len(expected) > 100
    for fmt, rdflib_format in (("ttl", "turtle"), ("nt", "nt"), ("rdf", "xml")):
        response = reader.get(f"/graph/{name}.{fmt}")
        assert response.status_code == 200, fmt
        assert "charset=utf-8" in response.headers["Content-Type"]
        assert f'<{iri}.jsonld>; rel="alternate"' in response.headers["Link"]
        assert response.headers["ETag"]
        parsed = rdflib.Graph().parse(data=response.data, format=rdflib_format)
        assert isomorphic(parsed, expected), fmt
    as_jsonld = reader.get(f"/graph/{name}.jsonld")
    assert as_jsonld.headers["Content-Type"] == "application/ld+json"
    assert isomorphic(jsonld_graph(as_jsonld.data), expected)
    etag = as_jsonld.headers["ETag"]
    assert reader.get(f"/graph/{name}.jsonld",
                      headers={"If-None-Match": etag}).status_code == 304


def test_graph_page_shows_counts_classes_and_a_sample(shared_app, reader):
    import html5rdf

    response = reader.get("/graph/curated.html")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    html5rdf.HTMLParser(strict=True).parse(page)
    expected = _store_graph(shared_app, "curated")
    assert f"{len(expected)} triples" in page
    assert "<title>Graph curated · filmld</title>" in page
    assert f'href="{BASE}id/film/mask-1985"' in page  # the sample links what it describes
    assert f'href="{BASE}graph/curated.ttl"' in page
    assert "Movie" in page and "Instances" in page
    script = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    summary = jsonld_graph(script)
    assert int(summary.value(rdflib.URIRef(f"{BASE}graph/curated"), VOID.triples)) == \
        len(expected)


def test_provenance_graph_dereferences_once_it_exists(app):
    client = app.test_client()
    assert client.get("/graph/provenance").status_code == 404
    store = app.extensions["filmld.store"]
    store.add_graph(store.graph_iri("provenance"), [ox.Triple(
        ox.NamedNode(f"{BASE}contributions/abc"), ox.NamedNode(DCT + "creator"),
        ox.NamedNode(f"{BASE}contributors/test"))])
    assert client.get("/graph/provenance").headers["Location"] == f"{BASE}graph/provenance.ttl"
    graph = rdflib.Graph().parse(data=client.get("/graph/provenance.ttl").data,
                                 format="turtle")
    assert (rdflib.URIRef(f"{BASE}contributions/abc"), DCT.creator,
            rdflib.URIRef(f"{BASE}contributors/test")) in graph
    assert client.get("/graph/provenance.html").status_code == 200


def test_unknown_graph_is_404(reader):
    response = reader.get("/graph/nope.ttl")
    assert response.status_code == 404
    assert f"{BASE}graph/curated" in response.get_json()["error"]["message"]


def test_ontology_page_embeds_its_json_ld(reader):
    page = reader.get("/ontology.html").get_data(as_text=True)
    assert '<script type="application/ld+json">' in page
    script = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    ontology = rdflib.Graph().parse(data=reader.get("/ontology.ttl").data, format="turtle")
    assert isomorphic(jsonld_graph(script), ontology)


# -- the SHACL shapes (issue 4: the shape IRIs a refusal names must dereference) -----------
def _shape_iris() -> list[str]:
    from filmld.loading import read_shapes

    namespace = f"{BASE}shapes/"
    return sorted({str(s) for s in read_shapes(BASE).subjects()
                   if isinstance(s, rdflib.URIRef) and str(s).startswith(namespace)
                   and str(s) != namespace})


SHAPE_IRIS = _shape_iris()
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def test_reopening_unchanged_files_keeps_the_version(tmp_path):
    """The shapes graph holds blank nodes (its RDF lists), named afresh at every parse: it
    is rebuilt only when it changed, so ETags survive a restart on either backend."""
    from filmld.dataset import open_dataset

    settings = Settings(store=str(tmp_path / "store"))
    store = open_dataset(settings)
    version = store.version()
    shapes = len(store.graph_triples(store.graph_iri("shapes")))
    store.close()
    store = open_dataset(settings)
    try:
        assert store.version() == version
        assert len(store.graph_triples(store.graph_iri("shapes"))) == shapes
    finally:
        store.close()


def test_the_shape_list_is_not_empty():
    assert len(SHAPE_IRIS) > 75
    assert f"{BASE}shapes/Movie" in SHAPE_IRIS and f"{BASE}shapes/Movie-actor" in SHAPE_IRIS


def test_every_shape_iri_dereferences_like_an_entity(reader):
    """303 to a document per format, like entities and ontology terms (Cool URIs, 303 style):
    Turtle holds every triple the shapes file states of the shape, HTML is a shape page."""
    import html

    from filmld.loading import read_shapes

    shapes = read_shapes(BASE)
    for iri in SHAPE_IRIS:
        path = iri[len(BASE) - 1:]
        thing = reader.get(path)
        assert thing.status_code == 303, iri
        assert thing.headers["Location"] == f"{iri}.ttl" and thing.headers["Vary"] == "Accept"
        document = reader.get(f"{path}.ttl")
        assert document.status_code == 200, iri
        graph = rdflib.Graph().parse(data=document.data, format="turtle")
        shape = rdflib.URIRef(iri)
        stated = [(p, o) for p, o in shapes.predicate_objects(shape)
                  if not isinstance(o, rdflib.BNode)]
        assert stated and all((shape, p, o) in graph for p, o in stated), iri
        page = reader.get(path, headers={"Accept": BROWSER})
        assert page.headers["Location"] == f"{iri}.html"
        body = reader.get(f"{path}.html").get_data(as_text=True)
        name = shapes.value(shape, SH.name)
        assert f"<h1>{html.escape(str(name), quote=True)}</h1>" in body, iri


def test_a_shape_page_shows_targets_paths_and_constraints(reader):
    import html5rdf

    response = reader.get("/shapes/Movie.html")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    html5rdf.HTMLParser(strict=True).parse(page)
    assert "<title>Film · filmld</title>" in page
    assert 'href="https://schema.org/Movie"' in page  # its target class
    for property_shape, path_label in (("Movie-datePublished", "release date"),
                                       ("Movie-actor", "actor"), ("Movie-genre", "genre")):
        assert f'href="{BASE}shapes/{property_shape}"' in page
        assert f">{path_label}</a>" in page, path_label  # the path, named by its label
    for constraint in ("sh:minCount", "sh:maxCount", "sh:datatype", "sh:class", "sh:or"):
        assert f"<code>{constraint}</code>" in page, constraint
    assert "A film needs exactly one release date" in page  # the message
    assert f'href="{BASE}shapes/DateValue"' in page  # sh:or ( fsh:DateValue fsh:YearValue )
    part = reader.get("/shapes/Movie-datePublished.html").get_data(as_text=True)
    html5rdf.HTMLParser(strict=True).parse(part)
    assert "Used by" in part and f'href="{BASE}shapes/Movie"' in part
    script = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert isomorphic(jsonld_graph(script),
                      rdflib.Graph().parse(data=reader.get("/shapes/Movie.ttl").data,
                                           format="turtle"))


@pytest.mark.parametrize("accept, fmt", [(None, "ttl"), (BROWSER, "html"),
                                         ("application/ld+json", "jsonld"),
                                         ("application/n-triples", "nt"),
                                         ("application/rdf+xml", "rdf")])
def test_shapes_namespace_negotiates(shared_app, reader, accept, fmt):
    response = reader.get("/shapes/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{BASE}shapes.{fmt}"
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = reader.get(f"/shapes.{fmt}")
    assert document.status_code == 200
    assert document.headers["Content-Type"].split(";")[0] == \
        {"ttl": "text/turtle", "html": "text/html", "jsonld": "application/ld+json",
         "nt": "application/n-triples", "rdf": "application/rdf+xml"}[fmt]
    others = {"ttl", "html", "jsonld", "nt", "rdf"} - {fmt}
    assert all(f'<{BASE}shapes.{o}>; rel="alternate"' in document.headers["Link"]
               for o in others)
    etag = document.headers["ETag"]
    assert reader.get(f"/shapes.{fmt}", headers={"If-None-Match": etag}).status_code == 304
    assert reader.get(f"/shapes.{fmt}", headers={
        "If-Modified-Since": document.headers["Last-Modified"]}).status_code == 304
    from filmld.loading import read_shapes

    if fmt == "html":
        import html5rdf

        page = document.get_data(as_text=True)
        html5rdf.HTMLParser(strict=True).parse(page)
        assert "<h1>filmld SHACL shapes</h1>" in page
        assert all(f'href="{iri}"' in page for iri in SHAPE_IRIS)
        return
    if fmt == "jsonld":
        graph = jsonld_graph(document.data)
    else:
        graph = rdflib.Graph().parse(data=document.data, format={
            "ttl": "turtle", "nt": "nt", "rdf": "xml"}[fmt])
    assert isomorphic(graph, read_shapes(BASE))
    assert isomorphic(graph, _store_graph(shared_app, "shapes"))


@pytest.mark.parametrize("path, status", [
    ("/shapes/Nope", 404), ("/shapes/Nope.ttl", 404), ("/shapes/Nope.html", 404),
    ("/shapes.docx", 404), ("/shapes/Movie.htm", 200), ("/shapes/Movie?format=nt", 303),
])
def test_unknown_shapes_are_404(reader, path, status):
    response = reader.get(path)
    assert response.status_code == status, path
    if status == 404:
        assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("path", ["/shapes/", "/shapes.ttl", "/shapes/Movie",
                                  "/shapes/Movie.html"])
def test_shapes_answer_406_405_and_preflight_like_entities(reader, path):
    assert reader.get(path, headers={"Accept": "image/png"}).status_code == \
        (406 if "." not in path.rsplit("/", 1)[-1] else 200)
    refused = reader.post(path)
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]
    preflight = reader.options(path, headers={"Origin": "https://example.org",
                                              "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


class _QueryLog:
    """A store that records every query it is asked (the shapes a describe sends)."""

    def __init__(self, store) -> None:
        self._store, self.queries = store, []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def select(self, sparql):
        self.queries.append(sparql)
        return self._store.select(sparql)

    def construct(self, sparql):
        self.queries.append(sparql)
        return self._store.construct(sparql)


def test_entity_pages_name_nodes_without_values_cross_products(shared_app):
    """Issue 7: `VALUES ?x {...} VALUES ?p {...} ?x ?p ?v` took 150-280 ms at 1k films and
    a `VALUES` list of nodes scans the store; each node is written out instead."""
    from filmld.describe import describe
    from filmld.view_model import page_model

    store = _QueryLog(shared_app.extensions["filmld.store"])
    for iri in (f"{BASE}id/film/mask-1985", f"{BASE}id/person/cher"):
        model = page_model(describe(store, iri), store, BASE)
        assert model.cast or model.roles
    assert store.queries
    assert not [q for q in store.queries if "VALUES" in q]


@pytest.fixture(scope="module")
def many_films(tmp_path_factory):
    """A store of 130 generated films (more than a page of them) besides the curated one."""
    from benchmarks.generate_films import generate

    app = create_app(Settings(store=str(tmp_path_factory.mktemp("films") / "store")))
    store = app.extensions["filmld.store"]
    text = "".join(generate(130, 1, BASE)).encode()
    store.add_graph(store.graph_iri("loaded"),
                    [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)])
    yield app
    store.close()


def test_home_page_is_one_bounded_page_of_films_with_a_next_page(many_films):
    from filmld.home import FILMS_PER_PAGE, PER_KIND

    client = many_films.test_client()
    page = client.get("/").get_data(as_text=True)
    films = page.count(f'href="{BASE}id/film/')
    assert films == FILMS_PER_PAGE
    assert page.count(f'href="{BASE}id/person/') - page.count(f'href="{BASE}id/person/"') \
        == PER_KIND
    assert f'rel="next" href="{BASE}?page=2"' in page
    assert f'href="{BASE}id/person/"' in page  # the people's own listing
    for heading in ("People", "Characters", "Plot events", "Summaries", "Roles"):
        assert f"<h2>{heading}</h2>" in page, heading
    last = client.get("/?page=3")
    assert last.status_code == 200
    assert last.get_data(as_text=True).count(f'href="{BASE}id/film/') == 131 - 2 * FILMS_PER_PAGE
    assert client.get("/?page=4").status_code == 404


def test_kind_listing_pages_every_entity_of_a_kind(many_films):
    client = many_films.test_client()
    first = client.get("/id/role/")
    assert first.status_code == 200
    assert 'rel="next"' in first.headers["Link"]
    seen = set()
    for n in range(1, 20):
        response = client.get(f"/id/role/?page={n}")
        if response.status_code == 404:
            break
        body = response.get_data(as_text=True)
        seen |= {part.split('"')[0] for part in body.split(f'href="{BASE}id/role/')[1:]}
    seen.discard("")
    seen = {s for s in seen if not s.startswith("?")}
    store = many_films.extensions["filmld.store"]
    count = store.select("SELECT (COUNT(*) AS ?n) WHERE "
                         "{ ?s a <https://schema.org/PerformanceRole> }")
    assert len(seen) == int(count[0]["n"].value)
    assert client.get("/id/nothing/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/id/person/", "/id/film/"])
@pytest.mark.parametrize("page", ["9223372036854775807", "99999999999999999999999"])
def test_a_page_far_past_the_last_is_404_never_500(reader, path, page, caplog):
    """The listing's OFFSET ((page - 1) * per page) overflowed the SPARQL engine's integer
    and failed to parse: a page past the last is a 404 whatever its number."""
    response = reader.get(f"{path}?page={page}", headers={"Accept": "application/json"})
    assert response.status_code == 404, response.data
    assert "there is no page" in response.get_json()["error"]["message"]
    assert "unexpected error" not in caplog.text
