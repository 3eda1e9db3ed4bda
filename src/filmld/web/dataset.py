"""Dataset-level documents: the home page, streamed dumps, VoID, the JSON-LD context, the
ontology and the SHACL shapes (their namespace IRIs and each term or shape, negotiated 303
style like entities), and the named graphs filmld mints (`/graph/curated` ..., 303 style
too: see `filmld.graphs`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, Response, request

from filmld import graphs
from filmld.dumps import CONTENT_TYPES, dump
from filmld.errors import NotFound
from filmld.home import KIND_BY_NAME, home_model, listing
from filmld.jsonld import context
from filmld.negotiation import FORMATS, choose_format, suffix_format
from filmld.ontology_model import ontology_model
from filmld.pages import alternates, render, script_json
from filmld.renderers import RENDERERS, Document, render_jsonld
from filmld.shapes_model import shapes_model
from filmld.void import void_iri, void_triples
from filmld.void_model import void_model
from filmld.web.http import (
    CACHE_MARK,
    alternate_links,
    cacheable,
    link_header,
    preflight,
    see_other,
    uri,
)
from filmld.web.resources import (
    document_response,
    requested_page,
    split_suffix,
    thing_response,
)
from filmld.web.state import settings, store

blueprint = Blueprint("dataset", __name__)
RDF_ONLY = ("ttl", "jsonld", "nt", "rdf")
VOID_FORMATS = (*RDF_ONLY, "html")
"""VoID as RDF, Turtle first for */*, and as a page for browsers (the site links to it)."""


@blueprint.after_request
def _cors(response: Response) -> Response:
    return preflight(response)


@blueprint.get("/")
def home() -> Response:
    """A page of the films (`?page=N`), and each kind's count, a few names and its listing:
    bounded work at any size (filmld.home)."""
    base = settings().base_url
    page = requested_page()
    version = store().version()
    model = home_model(store(), base, page=page)
    if page > model.films.pages:
        raise NotFound(f"the home page has {model.films.pages} page(s) of films; "
                       f"there is no page {page}")
    body = render("home.html", model=model, base=base)
    response = Response(body, content_type=FORMATS["html"].content_type)
    if model.films.next_page:
        response.headers["Link"] = link_header([(f"{base}?page={model.films.next_page}",
                                                 "next", None)])
    return cacheable(response, f"home-p{page}", version=version)


@blueprint.get("/id/<kind>/")
def kind_listing(kind: str) -> Response:
    """Every entity of one kind (`/id/person/`), a page at a time (`?page=N`)."""
    base = settings().base_url
    if kind not in KIND_BY_NAME:
        raise NotFound(f"no kind {kind!r}; kinds: {', '.join(KIND_BY_NAME)}")
    page = requested_page()
    version = store().version()
    model = listing(store(), KIND_BY_NAME[kind], base, page=page)
    if page > model.pages:
        raise NotFound(f"{kind} has {model.pages} page(s); there is no page {page}")
    body = render("listing.html", model=model, base=base)
    response = Response(body, content_type=FORMATS["html"].content_type)
    if model.next_page:
        response.headers["Link"] = link_header(
            [(f"{base}id/{kind}/?page={model.next_page}", "next", None)])
    return cacheable(response, f"{kind}-list-p{page}", version=version)


@blueprint.get("/dataset.<suffix>")
def dataset_dump(suffix: str) -> Response:
    """The whole dataset, streamed (N-Quads keeps the named graphs of contributions)."""
    if suffix not in CONTENT_TYPES:
        raise NotFound(f"no dump /dataset.{suffix}; available: "
                       + ", ".join(f"/dataset.{s}" for s in CONTENT_TYPES))
    base = settings().base_url
    response = Response(dump(store(), suffix, base), content_type=CONTENT_TYPES[suffix])
    response.headers["Link"] = link_header([  # the same dataset in the other formats
        (uri(f"{base}dataset.{other}"), "alternate", media.split(";")[0])
        for other, media in CONTENT_TYPES.items() if other != suffix])
    response = cacheable(response, f"dump-{suffix}")
    del response.headers[CACHE_MARK]  # too large to keep in memory: validators only
    return response


def _void(fmt: str) -> Response:
    base = settings().base_url
    triples, version = void_triples(store(), base)  # version: of the counts it holds
    doc = Document(void_iri(base), triples, base)
    if fmt == "html":
        body = render("void.html", model=void_model(triples, store(), base), base=base,
                      formats=alternates(void_iri(base), "html"),
                      jsonld=script_json(render_jsonld(doc)))
        response = Response(body, content_type=FORMATS["html"].content_type)
    else:
        renderer = RENDERERS[fmt]
        response = Response(renderer.render(doc), content_type=renderer.content_type)
    response.headers["Link"] = link_header(alternate_links(void_iri(base), fmt,
                                                           offered=VOID_FORMATS))
    response = cacheable(response, f"void-{fmt}", version=version)
    if version != store().version():  # older counts while the new ones are computed: the
        del response.headers["Last-Modified"]  # store's date would revalidate them later
    return response


@blueprint.get("/.well-known/void")
def void() -> Response:
    """VoID, negotiated in place (it is a document): 200, Vary and Content-Location."""
    fmt = choose_format(request.headers.get("Accept"), request.args.get("format"),
                        offered=VOID_FORMATS)
    response = _void(fmt)
    response.headers["Vary"] = "Accept"
    response.headers["Content-Location"] = uri(f"{void_iri(settings().base_url)}.{fmt}")
    return response


@blueprint.get("/.well-known/void.<fmt>")
def void_document(fmt: str) -> Response:
    if fmt not in VOID_FORMATS:
        raise NotFound(f"no /.well-known/void.{fmt}; available: {', '.join(VOID_FORMATS)}")
    return _void(fmt)


@blueprint.get("/context.jsonld")
def json_ld_context() -> Response:
    """The stable @context every JSON-LD document embeds (https://www.w3.org/TR/json-ld11/)."""
    body = json.dumps({"@context": context(settings().base_url)}, indent=1).encode()
    return cacheable(Response(body, content_type=FORMATS["jsonld"].content_type), "context")


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """No icon, said without an error: a browser asks every site for /favicon.ico (on each
    page, and on a raw result it shows), and a 404 there is a console error on every page
    of the site. 204 is an empty answer it accepts and keeps (Cache-Control)."""
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no type
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# -- the ontology and the shapes ----------------------------------------------------------
# Both are vocabularies of this server: the namespace IRI (`/ontology/`, `/shapes/`) 303s to
# the whole graph (`/ontology.ttl` ...), and each term or shape IRI is served like an entity
# (303 to `/shapes/Movie.<fmt>`), its HTML page a shape page (filmld.pages).
def _vocabulary_iri(name: str) -> Response:
    fmt = choose_format(request.headers.get("Accept"), request.args.get("format"))
    stem = f"{settings().base_url}{name}"
    return see_other(f"{stem}.{fmt}", alternate_links(stem, None))


def _vocabulary_document(name: str, suffix: str, page: Callable[..., bytes]) -> Response:
    """The whole graph `graph/<name>`, as RDF or as the HTML `page(triples, base, ...)`."""
    fmt = suffix_format(suffix)
    if fmt is None:
        raise NotFound(f"no /{name}.{suffix}; available: {', '.join(FORMATS)}")
    base = settings().base_url
    version = store().version()
    triples = store().graph_triples(store().graph_iri(name))
    stem = f"{base}{name}"
    document = Document(f"{stem}/", triples, base)
    if fmt == "html":
        body = page(triples, base, formats=alternates(stem, "html"),
                    jsonld=script_json(render_jsonld(document)))
        response = Response(body, content_type=FORMATS["html"].content_type)
    else:
        renderer = RENDERERS[fmt]
        response = Response(renderer.render(document), content_type=renderer.content_type)
    response.headers["Link"] = link_header(alternate_links(stem, fmt))
    return cacheable(response, f"{name}-{fmt}", version=version)


def _vocabulary_term(name: str, local: str) -> Response:
    stem, fmt = split_suffix(local)
    iri = f"{settings().base_url}{name}/{stem}"
    return thing_response(iri) if fmt is None else document_response(iri, fmt)


@blueprint.get("/ontology/")
def ontology() -> Response:
    """The ontology's own IRI (its namespace): 303 to /ontology.<fmt>."""
    return _vocabulary_iri("ontology")


@blueprint.get("/ontology.<suffix>")
def ontology_document(suffix: str) -> Response:
    """The whole ontology graph; as HTML, a page documenting every term."""
    def page(triples, base, **values) -> bytes:
        return render("ontology.html", model=ontology_model(triples, base), base=base,
                      **values)

    return _vocabulary_document("ontology", suffix, page)


@blueprint.get("/ontology/<name>")
def ontology_term(name: str) -> Response:
    """A term of the ontology, negotiated like an entity (303 to /ontology/<Term>.<fmt>)."""
    return _vocabulary_term("ontology", name)


@blueprint.get("/shapes/")
def shapes() -> Response:
    """The shapes' namespace IRI: 303 to /shapes.<fmt>, the shapes graph (issue 4)."""
    return _vocabulary_iri("shapes")


@blueprint.get("/shapes.<suffix>")
def shapes_document(suffix: str) -> Response:
    """Every SHACL shape; as HTML, each with its targets, property shapes and constraints."""
    def page(triples, base, **values) -> bytes:
        ontology_triples = store().graph_triples(store().graph_iri("ontology"))
        return render("shapes.html", model=shapes_model(triples, ontology_triples, base),
                      base=base, **values)

    return _vocabulary_document("shapes", suffix, page)


@blueprint.get("/shapes/<name>")
def shape(name: str) -> Response:
    """A shape (`sh:sourceShape` of a refusal), negotiated like an entity."""
    return _vocabulary_term("shapes", name)


# -- the named graphs ---------------------------------------------------------------------
@blueprint.get("/graph/<name>")
def graph(name: str) -> Response:
    """A named graph: 303 to /graph/<name>.<fmt> like an entity; the document is the graph."""
    stem, fmt = split_suffix(name)
    base = settings().base_url
    iri = f"{graphs.graph_prefix(base)}{stem}"
    if iri not in graphs.served_graphs(store(), base):
        raise NotFound(f"{iri} is not a graph of this dataset; graphs: "
                       + ", ".join(graphs.served_graphs(store(), base)))
    if fmt is None:
        fmt = choose_format(request.headers.get("Accept"), request.args.get("format"))
        return see_other(f"{iri}.{fmt}", alternate_links(iri, None))
    version = store().version()
    if fmt == "html":
        summary = graphs.summarise(store(), iri, base)
        jsonld = render_jsonld(Document(iri, graphs.summary_triples(summary), base))
        body = render("graph.html", model=summary, base=base, formats=alternates(iri, "html"),
                      jsonld=script_json(jsonld))
        response = Response(body, content_type=FORMATS["html"].content_type)
    else:
        response = Response(graphs.write(store(), iri, fmt, base),
                            content_type=FORMATS[fmt].content_type)
    response.headers["Link"] = link_header(alternate_links(iri, fmt))
    response = cacheable(response, f"graph-{fmt}", version=version)
    if fmt != "html":
        del response.headers[CACHE_MARK]  # streamed, maybe large: validators only
    return response
