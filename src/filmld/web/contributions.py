"""POST /contributions, POST /validate, GET /contributions[/<id>], DELETE /contributions/<id>,
GET /contributors/<name>.

Thin views over filmld.contributions: authenticate (401 before anything is read; failed
attempts are limited per client address, 429), rate limit (429), read and check the body
(400/413/415), validate with the policy and the shapes, then answer: 201 with Location, or
422 with the report in the negotiated format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, jsonify, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from filmld.config import Settings
from filmld.contribution_policy import POLICY
from filmld.contributions import (
    ACCEPTED_FORMATS,
    HASH_METHOD,
    MAX_PAGE,
    Contributions,
    Outcome,
    Record,
    WithdrawalRefused,
    read_contribution,
    withdrawn,
)
from filmld.errors import (
    FilmldError,
    NotAcceptable,
    NotFound,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    error_body,
)
from filmld.namespaces import prefixes
from filmld.negotiation import FORMATS, choose_format
from filmld.rate_limit import RateLimit
from filmld.renderers import rdfxml
from filmld.tokens import Contributor, Tokens
from filmld.validation import Report, Validator
from filmld.web.body import read_body
from filmld.web.http import cacheable, link_header
from filmld.web.resources import requested_page
from filmld.web.state import settings

blueprint = Blueprint("contributions", __name__)
log = logging.getLogger("filmld.contributions")

# What a report (422, or the answer to /validate) can be served as; the first is the default.
REPORT_TYPES = ["application/json", "text/turtle", "application/ld+json", "text/html"]


@dataclass
class Service:
    """What the views need, built once per app."""

    contributions: Contributions
    tokens: Tokens
    rate: RateLimit
    dry_runs: RateLimit
    failed_auth: RateLimit


# Wrong tokens per client address and minute before 429: guessing tokens is slow.
FAILED_AUTH_PER_MINUTE = 10


@blueprint.record_once
def _setup(state) -> None:
    app: Flask = state.app
    current: Settings = app.extensions["filmld.settings"]
    store = app.extensions["filmld.store"]
    app.extensions["filmld.contributions"] = Service(
        Contributions(store, Validator.from_settings(current), current),
        Tokens.from_settings(current), RateLimit(current.contribution_rate),
        RateLimit(current.contribution_rate, what="dry runs (POST /validate)"),
        RateLimit(FAILED_AUTH_PER_MINUTE, what="failed sign-ins", per="client address"))
    _log_to_stderr()


def _log_to_stderr() -> None:
    """State changes must reach the server log: granian configures no handler for ours."""
    logger = logging.getLogger("filmld.contributions")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def service() -> Service:
    from flask import current_app

    return current_app.extensions["filmld.contributions"]


def _authenticated() -> Contributor:
    """401 (with WWW-Authenticate) unless a configured token is sent; after
    FAILED_AUTH_PER_MINUTE failures from one address, 429 until the window moves on."""
    address = request.remote_addr or "unknown"
    failed = service().failed_auth
    failed.check(address)
    try:
        return service().tokens.authenticate(request.headers.get("Authorization"))
    except Unauthorized:
        failed.count(address)
        raise


def _triples() -> list[ox.Triple]:
    """The body's triples; chunked bodies are held to the size limit too (read_body)."""
    codings = [c.strip().lower() for c in request.headers.get("Content-Encoding", "").split(",")]
    if any(c not in ("", "identity") for c in codings):
        # RFC 9110 section 15.5.16 and RFC 7694 section 3: an unsupported content coding is
        # a 415 naming the codings accepted, not bytes parsed as if they were not encoded.
        raise UnsupportedMediaType(
            f"Content-Encoding {request.headers['Content-Encoding']} is not accepted; send "
            "the body without a content coding", headers={"Accept-Encoding": "identity"})
    body = read_body(settings().max_body_bytes)
    return read_contribution(body, request.headers.get("Content-Type"), settings())


# -- views --------------------------------------------------------------------------------

@blueprint.post("/contributions", provide_automatic_options=False)
def contribute() -> Response:
    contributor = _authenticated()
    rate = service().rate
    rate.check(contributor.name)
    triples = _triples()
    rate.count(contributor.name)  # a malformed body (4xx above) costs no budget
    outcome = service().contributions.submit(contributor, triples)
    if not outcome.accepted:
        return report_response(outcome.report, 422)
    return accepted_response(outcome)


@blueprint.post("/validate")
def validate() -> Response:
    """The same validation as POST /contributions; nothing is stored. Dry runs have their
    own budget: checking a draft does not use up the contributions quota."""
    contributor = _authenticated()
    rate = service().dry_runs
    rate.check(contributor.name)
    triples = _triples()
    rate.count(contributor.name)
    report = service().contributions.check(triples)
    return report_response(report, 200 if report.conforms else 422)


@blueprint.route("/contributions", methods=["OPTIONS"])
def options() -> Response:
    """What the collection accepts (W3C LDP 1.0 section 7.1, Accept-Post)."""
    response = Response(status=204)
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    response.headers["Accept-Post"] = ", ".join(ACCEPTED_FORMATS)
    return response


LISTING_TYPES = ["application/json", "text/html", "text/turtle", "application/ld+json",
                 "application/n-triples"]


@blueprint.get("/contributions", provide_automatic_options=False)
def listing() -> Response:
    size = min(settings().page_size, 100)
    number = requested_page(most=MAX_PAGE)
    contributions = service().contributions
    records, more = contributions.page(number, size)
    total = contributions.count()
    last = max(1, -(-total // size))
    model = {"page": number, "pageSize": size, "totalItems": total, "lastPage": last,
             "contributions": [r.as_dict() for r in records],
             "first": url_for(".listing", page=1), "last": url_for(".listing", page=last),
             "next": url_for(".listing", page=number + 1) if more else None,
             "previous": url_for(".listing", page=number - 1) if number > 1 else None}
    media = _best(LISTING_TYPES, strict=True)
    if media == "text/html":
        response = Response(render_template("contribution_list.html", model=model),
                            content_type="text/html; charset=utf-8")
    elif media == "application/json":
        response = jsonify(model)
    else:
        fmt = {"text/turtle": "ttl", "application/ld+json": "jsonld",
               "application/n-triples": "nt"}[media]
        response = Response(render_rdf(_collection(model, records), fmt),
                            content_type=RDF_TYPES[fmt])
    response.headers["Vary"] = "Accept"
    return response


HYDRA = "http://www.w3.org/ns/hydra/core#"


def _collection(model: dict, records: list[Record]) -> list[ox.Triple]:
    """One page of the listing as a hydra:Collection with a hydra:PartialCollectionView."""
    base = settings().base_url
    n, lit = ox.NamedNode, ox.Literal
    collection = n(f"{base}contributions")
    view = n(f"{base}contributions?page={model['page']}")
    integer = n("http://www.w3.org/2001/XMLSchema#integer")
    triples = [
        ox.Triple(collection, n(RDF_TYPE), n(HYDRA + "Collection")),
        ox.Triple(collection, n(HYDRA + "totalItems"), lit(str(model["totalItems"]),
                                                           datatype=integer)),
        ox.Triple(collection, n(HYDRA + "view"), view),
        ox.Triple(view, n(RDF_TYPE), n(HYDRA + "PartialCollectionView")),
    ]
    for key, term in (("first", "first"), ("last", "last"), ("next", "next"),
                      ("previous", "previous")):
        if model[key]:
            triples.append(ox.Triple(view, n(HYDRA + term), n(base + model[key].lstrip("/"))))
    triples += [ox.Triple(collection, n(HYDRA + "member"), n(r.iri)) for r in records]
    return triples


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@blueprint.get("/contributions/<contribution_id>")
def one(contribution_id: str) -> Response:
    """The contribution: its triples and its provenance. TriG and N-Quads keep them apart
    (the triples in the contribution's named graph, the provenance in the provenance
    graph); Turtle, N-Triples and JSON-LD merge both into one graph. Withdrawn: 410, the
    provenance stays at /contributions/<id>/provenance."""
    stem, fmt = _stem_and_format(contribution_id)
    contributions = service().contributions
    record = contributions.record(stem)
    if record.withdrawn:
        raise withdrawn(record)
    triples = contributions.triples_of(record)
    provenance = contributions.provenance_of(record)
    return _document(record, fmt, triples, provenance, "contribution",
                     lambda name: f"/contributions/{stem}.{name}")


@blueprint.get("/contributions/<contribution_id>/provenance")
def provenance(contribution_id: str) -> Response:
    """Who contributed it, when, its hash, and its withdrawal: readable after withdrawal."""
    stem, fmt = _stem_and_format(contribution_id, request.args.get("format"))
    contributions = service().contributions
    record = contributions.record(stem)
    return _document(record, fmt, [], contributions.provenance_of(record), "provenance",
                     lambda name: f"/contributions/{stem}/provenance?format={name}")


def _stem_and_format(name: str, query_format: str | None = None) -> tuple[str, str]:
    stem, dot, suffix = name.partition(".")
    named = suffix if dot else (query_format or request.args.get("format"))
    if named in QUAD_TYPES:
        return stem, named
    if not named:
        best = _best(["text/html", *[t.split(";")[0] for t in QUAD_TYPES.values()]],
                     default=None)
        for fmt, media in QUAD_TYPES.items():
            if best == media.split(";")[0]:
                return stem, fmt
    return stem, choose_format(request.headers.get("Accept"), named)


def _document(record: Record, fmt: str, triples: list[ox.Triple],
              provenance: list[ox.Triple], kind: str,
              iri_in: Callable[[str], str]) -> Response:
    """The document in `fmt`, with the validators, freshness and alternates of every
    other document here (a contribution changes only when withdrawn, which changes the
    store's version and so the ETag); `iri_in(format)` is its IRI in another format."""
    if fmt == "html":
        body = render_template("contribution.html", record=record, triples=triples,
                               provenance=provenance, warnings=None, hash_method=HASH_METHOD)
        response = Response(body, content_type="text/html; charset=utf-8")
    elif fmt in QUAD_TYPES:
        graph = ox.NamedNode(service().contributions.provenance_graph)
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(record.iri))
                 for t in triples]
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in provenance]
        kind = ox.RdfFormat.TRIG if fmt == "trig" else ox.RdfFormat.N_QUADS
        extra = {"prefixes": _prefixes()} if fmt == "trig" else {}
        response = Response(ox.serialize(quads, format=kind, **extra),
                            content_type=QUAD_TYPES[fmt])
    else:
        response = Response(render_rdf(provenance + triples, fmt),
                            content_type=RDF_TYPES[fmt])
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header([(iri_in(name), "alternate", media)
                                            for name, media in _OFFERED if name != fmt])
    return cacheable(response, f"{kind}-{fmt}")


QUAD_TYPES = {"trig": "application/trig; charset=utf-8",
              "nq": "application/n-quads; charset=utf-8"}
_OFFERED = [*((name, f.media_type) for name, f in FORMATS.items()),
            *((name, media.split(";")[0]) for name, media in QUAD_TYPES.items())]
"""(format name, media type) of every form of a contribution document."""


@blueprint.get("/contributors/<name>")
def contributor(name: str) -> Response:
    """A contributor's IRI dereferences: a prov:Agent with its contributions."""
    contributions = service().contributions
    records = contributions.by_contributor(name)
    if not records:
        raise NotFound(f"no contributor {name!r} has contributed")
    agent = ox.NamedNode(contributions.agent(name))
    prov = "http://www.w3.org/ns/prov#"
    triples = [ox.Triple(agent, ox.NamedNode(RDF_TYPE), ox.NamedNode(prov + "Agent")),
               ox.Triple(agent, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                         ox.Literal(name))]
    triples += [ox.Triple(ox.NamedNode(r.iri), ox.NamedNode(prov + "wasAttributedTo"), agent)
                for r in records]
    _stem, dot, suffix = name.partition(".") if name.endswith((".ttl", ".nt", ".jsonld")) \
        else (name, "", "")
    fmt = choose_format(request.headers.get("Accept"), suffix if dot else
                        request.args.get("format"))
    if fmt == "html":
        response = Response(render_template("contributor.html", name=name, records=records,
                                            iri=agent.value),
                            content_type="text/html; charset=utf-8")
    elif fmt in RDF_TYPES:
        response = Response(render_rdf(triples, fmt), content_type=RDF_TYPES[fmt])
    else:
        raise NotAcceptable("a contributor is served as HTML, Turtle, N-Triples or JSON-LD")
    response.headers["Vary"] = "Accept"
    return response


@blueprint.delete("/contributions/<contribution_id>")
def withdraw(contribution_id: str) -> Response:
    contributor = _authenticated()
    try:
        record = service().contributions.withdraw(contributor, contribution_id)
    except WithdrawalRefused as refused:
        return report_response(refused.report, 409, refused.message, error=refused)
    return jsonify({"withdrawn": record.as_dict()})


# -- responses ----------------------------------------------------------------------------

RDF_TYPES = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json",
             "nt": "application/n-triples; charset=utf-8",
             "rdf": "application/rdf+xml; charset=utf-8"}


def render_rdf(triples: list[ox.Triple], fmt: str) -> bytes:
    base = settings().base_url
    if fmt == "jsonld":
        from filmld.jsonld import compact_jsonld
        from filmld.terms import to_rdflib_graph

        return compact_jsonld(to_rdflib_graph(triples), base)
    if fmt == "rdf":
        return rdfxml(triples, base, available=("ttl", "jsonld", "nt", "trig", "nq", "html"))
    oxigraph = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}[fmt]
    extra = {"prefixes": _prefixes()} if fmt == "ttl" else {}
    return ox.serialize(triples, format=oxigraph, **extra)


def _prefixes() -> dict[str, str]:
    base = settings().base_url
    return {**prefixes(base), "contribution": f"{base}contributions/"}


_FIRST = object()


def _best(offered: list[str], *, strict: bool = False, default=_FIRST) -> str | None:
    """The media type to answer with: the client's best among `offered`; when none fits,
    406 if `strict`, else `default` (the first offered unless given)."""
    accept = request.headers.get("Accept")
    if not accept:
        return offered[0] if default is _FIRST else default
    best = parse_accept_header(accept, MIMEAccept).best_match(offered)
    if best is None and strict:
        raise NotAcceptable("this is served as " + ", ".join(offered),
                            details={"offered": offered})
    return best or (offered[0] if default is _FIRST else default)


def _broken(report: Report) -> str:
    """What the violations break: a report holds the policy's or the shapes', never both
    (the shapes run only on what the policy lets through: Contributions._validate)."""
    policy = any((v.constraint or "").startswith(f"{POLICY}:") for v in report.violations)
    return "the contribution policy" if policy else "the shapes"


def report_response(report: Report, status: int, message: str | None = None, *,
                    error: FilmldError | None = None) -> Response:
    """A SHACL report as JSON (summary), Turtle or JSON-LD (the sh:ValidationReport
    graph) or HTML; a refusal (422, 409) carries the one error shape too."""
    media = _best(REPORT_TYPES)
    if message is None and status == 422:
        message = (f"the contribution was refused: {len(report.violations)} violation(s) "
                   f"of {_broken(report)}; nothing was stored")
    elif message is None:
        message = "the contribution would be accepted" + (
            f", with {len(report.warnings)} warning(s)" if report.warnings else "")
    if media == "text/turtle":
        body, content_type = report.graph.serialize(format="turtle"), "text/turtle; charset=utf-8"
    elif media == "application/ld+json":
        body, content_type = report.graph.serialize(format="json-ld"), "application/ld+json"
    elif media == "text/html":
        body = render_template("report.html", report=report, message=message, status=status,
                               blockers=getattr(error, "blockers", []))
        content_type = "text/html; charset=utf-8"
    else:
        payload = {"report": report.summary()}
        if status >= 400:
            error = error or Unprocessable(message)
            payload = {**error_body(error).as_dict(), **payload}
        else:
            payload = {"message": message, **payload}
        response = jsonify(payload)
        response.status_code = status
        response.headers["Vary"] = "Accept"
        return response
    response = Response(body, status=status, content_type=content_type)
    response.headers["Vary"] = "Accept"
    return response


def accepted_response(outcome: Outcome) -> Response:
    record = outcome.record
    assert record is not None
    location = url_for(".one", contribution_id=record.id)
    if _best(["application/json", "text/html"]) == "text/html":
        body = render_template("contribution.html", record=record, triples=outcome.triples,
                               provenance=[], warnings=outcome.report,
                               hash_method=HASH_METHOD)
        response = Response(body, status=201, content_type="text/html; charset=utf-8")
    else:
        response = jsonify({**record.as_dict(), "location": location,
                            "report": outcome.report.summary()})
        response.status_code = 201
    response.headers["Location"] = location
    response.headers["Vary"] = "Accept"
    return response
