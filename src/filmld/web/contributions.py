"""POST /contributions, POST /validate, GET /contributions[/<id>], DELETE /contributions/<id>.

Thin views over filmld.contributions: authenticate (401 before anything is read), rate
limit (429), read and check the body (400/403/413/415), validate, then answer: 201 with
Location, or 422 with the SHACL report in the negotiated format.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, jsonify, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from filmld.config import Settings
from filmld.contributions import Contributions, Outcome, WithdrawalRefused, read_contribution
from filmld.errors import PayloadTooLarge, Unprocessable, error_body
from filmld.namespaces import prefixes
from filmld.negotiation import choose_format
from filmld.rate_limit import RateLimit
from filmld.tokens import Contributor, Tokens
from filmld.validation import Report, Validator
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


@blueprint.record_once
def _setup(state) -> None:
    app: Flask = state.app
    current: Settings = app.extensions["filmld.settings"]
    store = app.extensions["filmld.store"]
    app.extensions["filmld.contributions"] = Service(
        Contributions(store, Validator.from_settings(current), current),
        Tokens.from_settings(current), RateLimit(current.contribution_rate))
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


def _contributor() -> Contributor:
    """401 (with WWW-Authenticate) unless a configured token is sent; then the rate limit."""
    contributor = service().tokens.authenticate(request.headers.get("Authorization"))
    service().rate.check(contributor.name)
    return contributor


def _triples() -> list[ox.Triple]:
    limit = settings().max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    # Werkzeug enforces MAX_CONTENT_LENGTH on chunked bodies too, while reading.
    body = request.get_data(cache=False)
    return read_contribution(body, request.headers.get("Content-Type"), settings())


# -- views --------------------------------------------------------------------------------

@blueprint.post("/contributions")
def contribute() -> Response:
    contributor = _contributor()
    triples = _triples()
    outcome = service().contributions.submit(contributor, triples)
    if not outcome.accepted:
        return report_response(outcome.report, 422)
    return accepted_response(outcome)


@blueprint.post("/validate")
def validate() -> Response:
    """The same validation as POST /contributions; nothing is stored."""
    _contributor()
    report = service().contributions.check(_triples())
    return report_response(report, 200 if report.conforms else 422)


@blueprint.get("/contributions")
def listing() -> Response:
    size = settings().page_size
    try:
        number = int(request.args.get("page", "1"))
    except ValueError:
        number = 0
    records, more = service().contributions.page(number, min(size, 100))
    model = {"page": number, "contributions": [r.as_dict() for r in records],
             "next": url_for(".listing", page=number + 1) if more else None,
             "previous": url_for(".listing", page=number - 1) if number > 1 else None}
    if _best(["application/json", "text/html"]) == "text/html":
        return Response(render_template("contribution_list.html", model=model),
                        content_type="text/html; charset=utf-8")
    return jsonify(model)


@blueprint.get("/contributions/<contribution_id>")
def one(contribution_id: str) -> Response:
    stem, dot, suffix = contribution_id.partition(".")
    contributions = service().contributions
    record = contributions.record(stem)
    fmt = choose_format(request.headers.get("Accept"),
                        suffix if dot else request.args.get("format"))
    triples = contributions.triples_of(record)
    provenance = contributions.provenance_of(record)
    if fmt == "html":
        body = render_template("contribution.html", record=record, triples=triples,
                               provenance=provenance, warnings=None)
        response = Response(body, content_type="text/html; charset=utf-8")
    else:
        response = Response(render_rdf(provenance + triples, fmt),
                            content_type=RDF_TYPES[fmt])
    response.headers["Vary"] = "Accept"
    return response


@blueprint.delete("/contributions/<contribution_id>")
def withdraw(contribution_id: str) -> Response:
    contributor = service().tokens.authenticate(request.headers.get("Authorization"))
    try:
        record = service().contributions.withdraw(contributor, contribution_id)
    except WithdrawalRefused as refused:
        return report_response(refused.report, 409, refused.message)
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
    oxigraph = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                "rdf": ox.RdfFormat.RDF_XML}[fmt]
    extra = {"prefixes": {**prefixes(base), "contribution": f"{base}contributions/"}} \
        if fmt == "ttl" else {}
    return ox.serialize(triples, format=oxigraph, **extra)


def _best(offered: list[str]) -> str:
    """The media type to answer with: the client's best among `offered`, else the first."""
    accept = request.headers.get("Accept")
    if not accept:
        return offered[0]
    best = parse_accept_header(accept, MIMEAccept).best_match(offered)
    return best or offered[0]


def report_response(report: Report, status: int, message: str | None = None) -> Response:
    """A SHACL report as JSON (summary), Turtle or JSON-LD (the sh:ValidationReport
    graph) or HTML; a refusal (422, 409) carries the one error shape too."""
    media = _best(REPORT_TYPES)
    if message is None and status == 422:
        message = (f"the contribution was refused: {len(report.violations)} violation(s) "
                   "of the shapes; nothing was stored")
    elif message is None:
        message = "the contribution would be accepted" + (
            f", with {len(report.warnings)} warning(s)" if report.warnings else "")
    if media == "text/turtle":
        body, content_type = report.graph.serialize(format="turtle"), "text/turtle; charset=utf-8"
    elif media == "application/ld+json":
        body, content_type = report.graph.serialize(format="json-ld"), "application/ld+json"
    elif media == "text/html":
        body = render_template("report.html", report=report, message=message, status=status)
        content_type = "text/html; charset=utf-8"
    else:
        payload = {"report": report.summary()}
        if status >= 400:
            error = Unprocessable(message)
            if status == 409:
                error = WithdrawalRefused(message, report)
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
                               provenance=[], warnings=outcome.report)
        response = Response(body, status=201, content_type="text/html; charset=utf-8")
    else:
        response = jsonify({**record.as_dict(), "location": location,
                            "report": outcome.report.summary()})
        response.status_code = 201
    response.headers["Location"] = location
    response.headers["Vary"] = "Accept"
    return response
