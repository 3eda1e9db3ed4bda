"""The render cache: a tiny WSGI layer in front of Flask that answers repeated reads from
bytes rendered once, and evaluates conditional requests (304) for every response.

Why (issue 4): a Flask view returning fixed bytes reaches about 0.2 of nginx here; bytes
kept by (path, query, Accept) and data version, answered before Flask's routing, reach
about 0.9. The cache keeps a response only when its view marked it (`CACHE_MARK`, with the
store version it rendered from), and forgets everything when `store.version()` changes,
so a contribution shows at once. A kept response is replayed with exactly the status and
headers Flask produced; the key includes the Accept header only for responses that say
`Vary: Accept`. Conditional requests (RFC 9110 section 13.2.2: If-None-Match first, then
If-Modified-Since) are decided here for cached and uncached responses alike, by one
function, so both paths answer the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from filmld.store import Store
from filmld.web.http import CACHE_MARK

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


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _entry(status: str, headers: list[tuple[str, str]], body: bytes) -> Entry:
    vary = (_header(headers, "vary") or "").lower()
    return Entry(status, headers, body, _header(headers, "etag"),
                 _header(headers, "last-modified"),
                 [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_KEEP],
                 "accept" in vary)


def not_modified(environ: dict, etag: str | None, last_modified: str | None) -> bool:
    """Whether a GET/HEAD with these validators is answered 304 (RFC 9110 13.1.2, 13.1.3)."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if etag is None:
            return False
        if if_none_match.strip() == "*":
            return True
        # Weak comparison for If-None-Match (section 13.1.2): W/ prefixes are ignored.
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return etag.removeprefix("W/") in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since is None or last_modified is None:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored (section 13.1.3)


class RenderCache:
    """WSGI middleware: `RenderCache(app.wsgi_app, store)`."""

    def __init__(self, app: WSGIApp, store: Store, *, max_entries: int = 20000,
                 max_bytes: int = 256 * 1024 * 1024) -> None:
        self.app = app
        self.store = store
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
        version = self.store.version()
        if version != self.version:
            self._forget(version)
        key = (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        entry = self.entries.get(key)
        if entry is not None and entry.__class__ is dict:
            entry = entry.get(environ.get("HTTP_ACCEPT", ""))
        if entry is None:
            return self._miss(environ, start_response, key, version)
        self.hits += 1
        return self._answer(environ, start_response, entry)

    def _answer(self, environ: dict, start_response: Callable, entry: Entry):
        if (entry.etag is not None or entry.last_modified is not None) and \
                not_modified(environ, entry.etag, entry.last_modified):
            start_response("304 Not Modified", entry.not_modified_headers)
            return []
        start_response(entry.status, entry.headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]

    # -- rendering through Flask ----------------------------------------------------------
    def _miss(self, environ: dict, start_response: Callable, key: tuple, version: str):
        head = environ["REQUEST_METHOD"] == "HEAD"
        if head:  # render the GET once, so later GETs and HEADs are both hits
            environ = {**environ, "REQUEST_METHOD": "GET"}
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None  # no view of ours uses write()

        body_iter = self.app(environ, capture)
        status, headers = captured["status"], captured["headers"]
        mark = _header(headers, _MARK)
        headers = [(k, v) for k, v in headers if k.lower() != _MARK]
        code = status[:3]
        if mark is None or code not in ("200", "303"):
            validators = (_header(headers, "etag"), _header(headers, "last-modified"))
            if code == "200" and validators != (None, None) and \
                    not_modified(environ, *validators):
                _close(body_iter)
                start_response("304 Not Modified",
                               [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_KEEP])
                return []
            start_response(status, headers)
            if head:
                _close(body_iter)
                return []
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            _close(body_iter)
        entry = _entry(status, headers, body)
        if mark == version:
            self._keep(key, entry, environ.get("HTTP_ACCEPT", ""), mark)
        return self._answer({**environ, "REQUEST_METHOD": "HEAD" if head else "GET"},
                            start_response, entry)

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
