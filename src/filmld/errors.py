"""Errors that carry their HTTP status, and the one error body every error uses."""

from __future__ import annotations

from dataclasses import dataclass, field


class FilmldError(Exception):
    """Base error: a status, a title and a message that says what was wrong and where."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.details = details or {}


class BadRequest(FilmldError):
    status, title = 400, "Bad request"


class SyntaxProblem(BadRequest):
    """Malformed RDF or SPARQL, with the line and column where the parser stopped."""

    title = "Syntax error"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 source: str | None = None) -> None:
        where = ""
        if line is not None:
            where = f" at line {line}" + (f", column {column}" if column is not None else "")
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{message}{where}".strip(),
                         details={"line": line, "column": column})
        self.line, self.column, self.source = line, column, source
        self.reason = message
        """The parser's message alone, without source, line and column."""


class Unauthorized(FilmldError):
    status, title = 401, "Unauthorized"


class Forbidden(FilmldError):
    status, title = 403, "Forbidden"


class NotFound(FilmldError):
    status, title = 404, "Not found"



class NotAcceptable(FilmldError):
    status, title = 406, "Not acceptable"


class PreconditionFailed(FilmldError):
    status, title = 412, "Precondition failed"


class PayloadTooLarge(FilmldError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(FilmldError):
    status, title = 415, "Unsupported media type"


class Unprocessable(FilmldError):
    status, title = 422, "Unprocessable content"


class TooManyRequests(FilmldError):
    status, title = 429, "Too many requests"


class QueryTimeout(FilmldError):
    """A query stopped at the endpoint's time limit: 503 with Retry-After, like every 503 here.

    Why 503 and not a 4xx: the SPARQL 1.1 Protocol (section 2.1.4) has no status for "too
    expensive", and a 4xx says the request itself is wrong; whether a query finishes in time
    depends on this server's limit and on its load (queries evaluated at once share the
    cores), so the same text may succeed when the server is idle. 503 says exactly that: the
    service could not answer within its limits now. Retry-After asks clients that do retry
    to back off (RETRY_AFTER seconds, longer than an overload's 2 s), and the message tells
    people that the same query will most likely time out again: narrow it.
    """

    status, title = 503, "Query timed out"
    RETRY_AFTER = "10"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message, headers={"Retry-After": self.RETRY_AFTER, **(headers or {})},
                         details=details)


class QueryFailed(FilmldError):
    """The query could not be evaluated (the SPARQL Protocol's 500 for a failed query): the
    service is up, and the same query will fail again, so no Retry-After."""

    status, title = 500, "Query failed"


class StoreUnavailable(FilmldError):
    status, title = 503, "Store unavailable"


class StoreAnswered500(StoreUnavailable):
    """The remote store answered 500: for filmld's own calls it is unavailable; for a /sparql
    query, the query failed there (Virtuoso's limits, its SR codes), which a retry repeats."""

    def __init__(self, message: str, *, answer: str, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(message, headers=headers)
        self.answer = answer


@dataclass
class ErrorBody:
    """The JSON shape of every error response (also rendered as HTML and text)."""

    status: int
    title: str
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        body = {"error": {"status": self.status, "title": self.title, "message": self.message}}
        extra = {k: v for k, v in self.details.items() if v is not None}
        if extra:
            body["error"].update(extra)
        return body


def error_body(error: FilmldError) -> ErrorBody:
    return ErrorBody(error.status, error.title, error.message, dict(error.details))
