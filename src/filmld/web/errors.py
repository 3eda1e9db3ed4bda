"""One error shape for every error: JSON by default, HTML for browsers, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from filmld.errors import BadRequest, FilmldError, error_body
from filmld.log_format import has_control_characters, printable
from filmld.negotiation import accept_ranges

log = logging.getLogger("filmld")


def _wants_html() -> bool:
    accept = accept_ranges(request.headers.get("Accept", ""))  # `text/html;level=1` is HTML
    best = accept.best_match(["application/json", "text/html"])
    return best == "text/html" and accept["text/html"] > accept["application/json"]


def error_response(error: FilmldError) -> Response:
    body = error_body(error)
    if _wants_html():
        response = Response(render_template("error.html", error=body), status=error.status,
                            content_type="text/html; charset=utf-8")
    else:
        response = jsonify(body.as_dict())
        response.status_code = error.status
    response.headers.update(error.headers)
    response.vary.add("Accept")  # HTML or JSON by Accept, whichever view (or none) raised
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def sentence_case(title: str) -> str:
    """Werkzeug's titles are in Title Case ("Method Not Allowed"); filmld's are sentences
    ("Method not allowed"), with acronyms kept (URI, HTTP)."""
    words = title.split()
    return " ".join(w if i == 0 or (w.isupper() and len(w) > 1) else w.lower()
                    for i, w in enumerate(words))


def _from_http(exc: HTTPException) -> FilmldError:
    error = FilmldError(exc.description or exc.name)
    error.status, error.title = exc.code or 500, sentence_case(exc.name)
    if exc.code == 405:
        allowed = exc.get_headers()
        error.headers = {k: v for k, v in allowed if k == "Allow"}
    if exc.code == 413:
        error.message = "the request body is larger than the server accepts"
    return error


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, printable(request.path))
    error = FilmldError("the server failed to answer this request; it has been logged")
    return error_response(error)


def _refuse_control_characters() -> None:
    """A path with control characters (`%0A`, `%00` decoded) names nothing of ours and is
    refused before any view sees it: 400, never echoed raw into a log (log injection)."""
    if has_control_characters(request.path):
        raise BadRequest("the path contains control characters (" +
                         printable(request.path) + "); no IRI of this dataset does")


def register(app: Flask) -> None:
    app.before_request(_refuse_control_characters)
    app.register_error_handler(FilmldError, error_response)
    app.register_error_handler(HTTPException, lambda exc: error_response(_from_http(exc)))
    app.register_error_handler(Exception, _unexpected)
