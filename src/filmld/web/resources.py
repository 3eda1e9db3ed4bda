"""Entity IRIs (Cool URIs, 303 See Other to a document per format) and the home page."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from filmld.describe import describe
from filmld.errors import NotFound
from filmld.negotiation import choose_format
from filmld.renderers import RENDERERS
from filmld.view_model import home_model, page_model
from filmld.web.state import settings, store

blueprint = Blueprint("resources", __name__)
SUFFIXES = ("ttl", "jsonld", "nt", "rdf", "html")


@blueprint.app_context_processor
def _base() -> dict:
    return {"base": settings().base_url}


@blueprint.get("/")
def home() -> str:
    return render_template("home.html", model=home_model(store(), settings().base_url))


def _thing_iri(path: str) -> str:
    return settings().base_url + path


@blueprint.get("/id/<kind>/<name>")
def thing(kind: str, name: str) -> Response:
    """The thing itself: 303 See Other to the document in the negotiated format."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in SUFFIXES:
        return document(f"id/{kind}/{stem}", suffix)
    iri = _thing_iri(f"id/{kind}/{name}")
    fmt = choose_format(request.headers.get("Accept"), request.args.get("format"))
    if not describe(store(), iri).exists:
        raise NotFound(f"{iri} is not described in this dataset")
    response = redirect(f"{iri}.{fmt}", code=303)
    response.headers["Vary"] = "Accept"
    return response


def document(path: str, fmt: str) -> Response:
    iri = _thing_iri(path)
    description = describe(store(), iri)
    if not description.exists:
        raise NotFound(f"{iri} is not described in this dataset")
    if fmt == "html":
        body = render_template("entity.html", model=page_model(description, store()))
        response = Response(body, content_type="text/html; charset=utf-8")
    else:
        renderer = RENDERERS[fmt]
        response = Response(renderer.render(description.triples, settings().base_url),
                            content_type=renderer.content_type)
    response.headers["Link"] = ", ".join(
        f'<{iri}.{other}>; rel="alternate"; type="{_media(other)}"'
        for other in SUFFIXES if other != fmt)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _media(fmt: str) -> str:
    return "text/html" if fmt == "html" else RENDERERS[fmt].content_type.split(";")[0]
