"""The short way to /sparql: a plain GET query answered without Flask's request machinery.

Why (issue 5): on a small query Flask's routing, request and response objects are about a
fifth of the server's time, and the target is Oxigraph server's latency plus 30 %. A GET
whose query string holds one `query` and at most the format parameters, asking for a
results format (not the HTML page), on the embedded store, is answered here by the same
functions as the view (`analyse`, `choose_result_format`, `embedded_answer`), so policy,
limits, headers and the render cache are unchanged. Everything else goes to Flask: POST,
dataset parameters, FROM clauses, HTML, OPTIONS, and every refusal before evaluation (the
view finds it again at no cost). An error met while evaluating (timeout, syntax, a worker
that died) is handed to the view in the environ, which answers it in the one error shape
without evaluating twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

from filmld.errors import FilmldError
from filmld.sparql import analyse
from filmld.sparql_protocol import HTML, choose_result_format
from filmld.web.sparql import (
    FORMAT_PARAMETERS,
    PENDING_ERROR,
    Operation,
    _strict_pairs,
    embedded_answer,
    query_pool,
)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
_PLAIN = frozenset(("query", *FORMAT_PARAMETERS))


class SparqlShortcut:
    """WSGI middleware in front of Flask (and behind the render cache)."""

    def __init__(self, app: WSGIApp, flask_app: Flask) -> None:
        self.app = app
        self.flask_app = flask_app
        self.settings = flask_app.extensions["filmld.settings"]
        self.embedded = hasattr(flask_app.extensions["filmld.store"], "checkpoint")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql" or environ["REQUEST_METHOD"] != "GET" \
                or not self.embedded:
            return self.app(environ, start_response)
        answer = self._answer(environ)
        if answer is None:
            return self.app(environ, start_response)
        headers, body = answer
        headers["Vary"] = "Accept"
        if isinstance(body, bytes):
            headers["Content-Length"] = str(len(body))
            start_response("200 OK", list(headers.items()))
            return [body]
        start_response("200 OK", list(headers.items()))
        return body

    def _answer(self, environ: dict):
        """(headers, body), or None for Flask to answer (with PENDING_ERROR set when the
        evaluation itself failed)."""
        config = self.settings
        try:
            pairs = _strict_pairs(environ.get("QUERY_STRING", "").encode("latin-1"),
                                  "query string")
        except (FilmldError, UnicodeEncodeError):
            return None
        queries = [v for k, v in pairs if k == "query"]
        if len(queries) != 1 or any(k not in _PLAIN for k, _ in pairs):
            return None
        formats = [v for k, v in pairs if k in FORMAT_PARAMETERS and v.strip()]
        operation = Operation(queries[0], [], [], formats)
        try:
            shape = analyse(operation.query, max_length=config.max_query_length,
                            base=config.base_url)
            if shape.from_graphs or shape.from_named:
                return None
            fmt = choose_result_format(shape.kind, environ.get("HTTP_ACCEPT"), formats)
        except FilmldError:
            return None
        if fmt == HTML:
            return None
        try:
            return embedded_answer(query_pool(self.flask_app), config, operation, shape, fmt,
                                   keep=True)
        except FilmldError as error:
            environ[PENDING_ERROR] = error
            return None
