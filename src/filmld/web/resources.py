"""Entity IRIs: Cool URIs, 303 style (https://www.w3.org/TR/cooluris/#r303gendocument).

An entity IRI (`/id/person/cher`) names a thing, not a document, so GET on it answers
`303 See Other` with `Location: /id/person/cher.<fmt>`, the format chosen by `?format=` or
`Accept` (see `filmld.negotiation`: no Accept or `*/*` gets Turtle, browsers get HTML),
with `Vary: Accept`. The documents (`.ttl`, `.jsonld`, `.nt`, `.rdf`, `.html`) answer
200 in that one format, with `Link: rel="alternate"` to the others, strong ETags,
Last-Modified, Cache-Control and CORS. `?page=N` pages large descriptions (Link rel=next,
and hydra:next/hydra:totalItems in the RDF). Ontology terms and SHACL shapes are served the
same way by `filmld.web.dataset`. Unknown IRIs are 404, other methods 405, unknown formats
406. A path that makes no IRI (`/id/person/a%20b`, `cher%ZZ`: RFC 3987 allows no space there
and `%` only before two hex digits) is a 404 too: no dataset can describe it. `.htm` is the `.html`
document (as `?format=htm` is), with `Content-Location` naming `.html`.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from filmld.describe import describe, is_described, is_iri, page_metadata
from filmld.errors import BadRequest, NotFound
from filmld.negotiation import choose_format, suffix_format
from filmld.renderers import RENDERERS, Document
from filmld.web.http import (
    alternate_links,
    cacheable,
    link_header,
    preflight,
    see_other,
    uri,
)
from filmld.web.state import settings, store

blueprint = Blueprint("resources", __name__)


@blueprint.app_context_processor
def _base() -> dict:
    return {"base": settings().base_url}


@blueprint.after_request
def _cors(response: Response) -> Response:
    return preflight(response)


def requested_page(most: int | None = None) -> int:
    """The ?page= number (1 when absent), or 400: a whole number from 1 (to `most`)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= (most or int(raw)):
        # "²".isdigit() is true too; the value is echoed short
        bound = f" to {most}" if most else ""
        raise BadRequest(f"?page= must be a whole number from 1{bound}, not {raw[:40]!r}",
                         details={"page": raw[:40]})
    return int(raw)


def split_suffix(name: str) -> tuple[str, str | None]:
    """`cher.ttl` -> (`cher`, `ttl`), `cher.htm` -> (`cher`, `html`); a name without a known
    suffix keeps its dots."""
    stem, dot, suffix = name.rpartition(".")
    fmt = suffix_format(suffix) if dot and stem else None
    return (stem, fmt) if fmt else (name, None)


def describable(iri: str) -> str:
    """`iri` itself, or a 404 when the path made something that is not an IRI at all."""
    if not is_iri(iri):
        raise NotFound(f"{iri!r} is not an IRI (RFC 3987), so this dataset cannot describe it")
    return iri


def _page_query(page: int) -> str:
    return f"?page={page}" if page > 1 else ""


def thing_response(iri: str) -> Response:
    """303 to the document in the negotiated format (or 404 / 406)."""
    fmt = choose_format(request.headers.get("Accept"), request.args.get("format"))
    page = requested_page()
    if not is_described(store(), describable(iri)):
        raise NotFound(f"{iri} is not described in this dataset")
    query = _page_query(page)
    return see_other(f"{iri}.{fmt}{query}", alternate_links(iri, None, query))


def document_response(iri: str, fmt: str) -> Response:
    """The description of `iri` in format `fmt`, one page of it."""
    page = requested_page()
    version = store().version()
    page_size = settings().page_size
    description = describe(store(), describable(iri), page=page, page_size=page_size)
    if not description.exists:
        if page > 1 and is_described(store(), iri):
            raise NotFound(f"{iri} has {description.pages} page(s); there is no page {page}")
        raise NotFound(f"{iri} is not described in this dataset")
    triples = description.triples + page_metadata(description, page_size)
    doc = Document(iri, triples, settings().base_url, description, store())
    renderer = RENDERERS[fmt]
    response = Response(renderer.render(doc), content_type=renderer.content_type)
    query = _page_query(page)
    links = alternate_links(iri, fmt, query)
    if description.next_page:
        links.append((f"{iri}.{fmt}?page={description.next_page}", "next", None))
    if description.previous_page:
        links.append((f"{iri}.{fmt}{_page_query(description.previous_page)}", "prev", None))
    links.append((iri, "about", None))
    response.headers["Link"] = link_header(links)
    if not request.path.endswith(f".{fmt}"):  # an alias suffix (.htm): name the canonical
        response.headers["Content-Location"] = uri(f"{iri}.{fmt}{query}")
    return cacheable(response, f"{fmt}-p{page}", version=version)


@blueprint.get("/id/<kind>/<name>")
def thing(kind: str, name: str) -> Response:
    stem, fmt = split_suffix(name)
    iri = f"{settings().base_url}id/{kind}/{stem}"
    if fmt is None:
        return thing_response(iri)
    return document_response(iri, fmt)


@blueprint.get("/.well-known/genid/<name>")
def skolem(name: str) -> Response:
    """A contributed blank node, stored as a skolem IRI (contributions.skolemise), is
    described like an entity: the pages that link to it link to something (RDF 1.1
    Concepts section 3.5, RFC 8615)."""
    stem, fmt = split_suffix(name)
    iri = f"{settings().base_url}.well-known/genid/{stem}"
    if fmt is None:
        return thing_response(iri)
    return document_response(iri, fmt)
