"""One error shape for every error: JSON by default, HTML for browsers, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from filmld.errors import FilmldError, error_body

log = logging.getLogger("filmld")


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > \
        request.accept_mimetypes["application/json"]


def error_response(error: FilmldError) -> Response:
    body = error_body(error)
    if _wants_html():
        response = Response(render_template("error.html", error=body), status=error.status,
                            content_type="text/html; charset=utf-8")
    else:
        response = jsonify(body.as_dict())
        response.status_code = error.status
    response.headers.update(error.headers)
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def _from_http(exc: HTTPException) -> FilmldError:
    error = FilmldError(exc.description or exc.name)
    error.status, error.title = exc.code or 500, exc.name
    if exc.code == 405:
        allowed = exc.get_headers()
        error.headers = {k: v for k, v in allowed if k == "Allow"}
    if exc.code == 413:
        error.message = "the request body is larger than the server accepts"
    return error


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    error = FilmldError("the server failed to answer this request; it has been logged")
    return error_response(error)


def register(app: Flask) -> None:
    app.register_error_handler(FilmldError, error_response)
    app.register_error_handler(HTTPException, lambda exc: error_response(_from_http(exc)))
    app.register_error_handler(Exception, _unexpected)
