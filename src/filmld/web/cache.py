"""The render cache: a tiny WSGI layer in front of Flask that answers repeated reads from
bytes rendered once, and evaluates conditional requests (304) for every response.

Why (issue 4): a Flask view returning fixed bytes reaches about 0.2 of nginx here; bytes
kept by (path, query, Accept) and data version, answered before Flask's routing, reach
about 0.9. The cache keeps a response only when its view marked it (`CACHE_MARK`, with the
store version it rendered from), and forgets everything when `store.version()` changes,
so a contribution shows at once. A kept response is replayed with exactly the status and
headers Flask produced; the key includes the Accept header only for responses that say
`Vary: Accept`. Conditional requests (RFC 9110 section 13.2.2: If-Match, then
If-Unmodified-Since, both 412 when they fail; then If-None-Match, then If-Modified-Since,
both 304) are decided here for cached and uncached responses alike, by one function,
`precondition`, so both paths answer the same. Preconditions only apply to a response that
would be 2xx (section 13.2.1): a 303, 404 or 406 ignores them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from filmld.errors import PreconditionFailed, error_body
from filmld.store import Store
from filmld.web.http import CACHE_MARK, CORS_HEADERS

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
_MARK = CACHE_MARK.lower()
# Headers a 304 repeats from the 200 it stands for (RFC 9110 section 15.4.5), and CORS.
_NOT_MODIFIED_KEEP = {"etag", "last-modified", "cache-control", "vary", "content-location",
                      "expires", "access-control-allow-origin",
                      "access-control-expose-headers"}


@dataclass
class Entry:
    """One kept response: status line, headers (as sent) and body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified_headers: list[tuple[str, str]]
    vary_accept: bool


@dataclass
class _Rendered:
    """A response's headers read in one pass (a miss is on the hot path of issue 5)."""

    mark: str | None
    headers: list[tuple[str, str]]
    """As sent, the cache mark left out."""
    named: dict[str, str]
    """Lower-cased name -> the first value."""
    not_modified: list[tuple[str, str]]


def _read_headers(headers: list[tuple[str, str]]) -> _Rendered:
    mark, sent, named, not_modified = None, [], {}, []
    for pair in headers:
        name = pair[0].lower()
        if name == _MARK:
            mark = pair[1] if mark is None else mark
            continue
        sent.append(pair)
        named.setdefault(name, pair[1])
        if name in _NOT_MODIFIED_KEEP:
            not_modified.append(pair)
    return _Rendered(mark, sent, named, not_modified)


def _entry(status: str, rendered: _Rendered, body: bytes) -> Entry:
    named = rendered.named
    return Entry(status, rendered.headers, body, named.get("etag"), named.get("last-modified"),
                 rendered.not_modified, "accept" in named.get("vary", "").lower())


def _date(value: str | None):
    if value is None:
        return None
    day, comma, _ = value.partition(",")  # one date has a comma after its day name at most
    if comma and (not day.strip().isalpha() or value.count(",") > 1):
        return None  # a list of dates is no valid date: ignored (sections 13.1.3, 13.1.4)
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unparseable date is ignored (sections 13.1.3, 13.1.4)
    # asctime (one of the three HTTP-date formats, section 5.6.7) and "-0000" name no zone:
    # HTTP dates are GMT, and a naive datetime cannot be compared with Last-Modified.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _tags(field: str) -> list[str]:
    return [t.strip() for t in field.split(",") if t.strip()]


def precondition(environ: dict, etag: str | None, last_modified: str | None) -> int | None:
    """412, 304 or None (answer normally) for a GET/HEAD whose 200 would carry these
    validators: RFC 9110 section 13.2.2, steps 1 to 4, in that order."""
    if_match = environ.get("HTTP_IF_MATCH")
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_match is None and if_none_match is None and "HTTP_IF_MODIFIED_SINCE" not in environ \
            and "HTTP_IF_UNMODIFIED_SINCE" not in environ:
        return None  # the usual request: no date is parsed (the hot path of issue 4)
    if if_match is not None:
        # Strong comparison (section 13.1.1): a weak tag never matches; "*" matches any
        # current representation, and a 200 is one.
        if if_match.strip() != "*" and (
                etag is None or etag.startswith("W/") or etag not in _tags(if_match)):
            return 412
    elif "HTTP_IF_UNMODIFIED_SINCE" in environ:
        since = _date(environ["HTTP_IF_UNMODIFIED_SINCE"])
        modified = _date(last_modified)
        if since is not None and modified is not None and modified > since:
            return 412  # section 13.1.4: changed after the date the client knows
    if if_none_match is not None:
        if etag is None:
            return None
        if if_none_match.strip() == "*":
            return 304
        # Weak comparison for If-None-Match (section 13.1.2): W/ prefixes are ignored.
        tags = {t.removeprefix("W/") for t in _tags(if_none_match)}
        return 304 if etag.removeprefix("W/") in tags else None
    if "HTTP_IF_MODIFIED_SINCE" not in environ:
        return None
    since = _date(environ["HTTP_IF_MODIFIED_SINCE"])
    modified = _date(last_modified)
    if since is not None and modified is not None and modified <= since:
        return 304
    return None


def _precondition_failed(environ: dict, start_response: Callable,
                         headers: list[tuple[str, str]]) -> list[bytes]:
    """412 in the one error shape (JSON), with the validators the client can retry with."""
    error = PreconditionFailed("a precondition of this request (If-Match or "
                               "If-Unmodified-Since) does not hold for the current "
                               "representation")
    body = json.dumps(error_body(error).as_dict()).encode()
    kept = [(k, v) for k, v in headers if k.lower() in ("etag", "last-modified", "vary")]
    start_response("412 Precondition Failed",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                    *CORS_HEADERS.items(), *kept])
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


class RenderCache:
    """WSGI middleware: `RenderCache(app.wsgi_app, store)`."""

    def __init__(self, app: WSGIApp, store: Store, *, max_entries: int = 20000,
                 max_bytes: int = 256 * 1024 * 1024,
                 never_kept: Callable[[dict], bool] | None = None) -> None:
        self.app = app
        self.store = store
        # Requests whose responses the app never marks: they skip the version read (a
        # round trip to a remote store) and go straight to the app, conditional requests
        # still evaluated in _miss.
        self.never_kept = never_kept
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.entries: dict[tuple, Entry | dict] = {}
        self.size = 0
        self.version = store.version()
        self._lock = threading.Lock()
        self.hits = 0

    # -- the hot path ---------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method != "GET" and method != "HEAD":
            return self.app(environ, start_response)
        key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        if self.never_kept is not None and self.never_kept(environ):
            return self._miss(environ, start_response, key, None)
        version = self.store.version()
        if version != self.version:
            self._forget(version)
        entry = self.entries.get(key)
        if entry is not None and entry.__class__ is dict:
            entry = entry.get(environ.get("HTTP_ACCEPT", ""))
        if entry is None:
            return self._miss(environ, start_response, key, version)
        self.hits += 1
        return self._answer(environ, start_response, entry, method == "HEAD")

    def _answer(self, environ: dict, start_response: Callable, entry: Entry, head: bool):
        if entry.etag is not None or entry.last_modified is not None:
            outcome = precondition(environ, entry.etag, entry.last_modified)
            if outcome == 304:
                start_response("304 Not Modified", entry.not_modified_headers)
                return []
            if outcome == 412:
                return _precondition_failed(environ, start_response, entry.headers)
        start_response(entry.status, entry.headers)
        return [] if head else [entry.body]

    # -- rendering through Flask ----------------------------------------------------------
    def _miss(self, environ: dict, start_response: Callable, key: tuple,
              version: str | None):
        head = environ["REQUEST_METHOD"] == "HEAD"
        if head:  # render the GET once, so later GETs and HEADs are both hits
            environ = {**environ, "REQUEST_METHOD": "GET"}
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None  # no view of ours uses write()

        body_iter = self.app(environ, capture)
        status = captured["status"]
        rendered = _read_headers(captured["headers"])
        headers, named, mark = rendered.headers, rendered.named, rendered.mark
        code = status[:3]
        if mark is None or code not in ("200", "303"):
            validators = (named.get("etag"), named.get("last-modified"))
            outcome = precondition(environ, *validators) \
                if code == "200" and validators != (None, None) else None
            if outcome == 304:
                _close(body_iter)
                start_response("304 Not Modified", rendered.not_modified)
                return []
            if outcome == 412:
                _close(body_iter)
                return _precondition_failed(environ, start_response, headers)
            start_response(status, headers)
            if head:
                _close(body_iter)
                return []
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            _close(body_iter)
        entry = _entry(status, rendered, body)
        if version is not None and mark == version:
            self._keep(key, entry, environ.get("HTTP_ACCEPT", ""), mark)
        return self._answer(environ, start_response, entry, head)

    def _keep(self, key: tuple, entry: Entry, accept: str, version: str) -> None:
        with self._lock:
            # Rendered from an older version than the store's: keeping it could outlive
            # the _forget() that the next request will do, so it is not kept at all.
            if version != self.version or version != self.store.version():
                return
            if len(self.entries) >= self.max_entries or \
                    self.size + len(entry.body) > self.max_bytes:
                self.entries.clear()  # simple and bounded; a full cache is rare here
                self.size = 0
            if entry.vary_accept:
                variants = self.entries.get(key)
                if not isinstance(variants, dict):
                    variants = {}
                    self.entries[key] = variants
                if len(variants) < 64:  # Accept strings are few; an attacker's are not
                    variants[accept] = entry
            else:
                self.entries[key] = entry
            self.size += len(entry.body)

    def _forget(self, version: str) -> None:
        with self._lock:
            self.entries = {}
            self.size = 0
            self.version = version


def _close(body_iter) -> None:
    close = getattr(body_iter, "close", None)
    if close is not None:
        close()
