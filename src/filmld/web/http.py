"""Response headers every read shares: validators (ETag, Last-Modified), Cache-Control,
CORS, alternates; and the internal mark that lets the render cache keep a response."""

from __future__ import annotations

from flask import Response, request
from werkzeug.urls import iri_to_uri

from filmld.negotiation import FORMATS
from filmld.web.state import settings, store

CACHE_MARK = "X-Filmld-Cache-Version"
"""Set by views on responses the render cache may keep; removed before anything is sent."""

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link, Location, Content-Location, "
                                     "Vary",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, If-None-Match, "
                                    "If-Modified-Since, If-Match, If-Unmodified-Since, "
                                    "Cache-Control",
    "Access-Control-Max-Age": "86400",
}


def uri(iri: str) -> str:
    """An IRI as a URI, for header fields (RFC 3987 section 3.1: UTF-8, percent-encoded):
    field values are ASCII in practice (RFC 9110 section 5.5), so `/id/person/élodie` is
    sent as `/id/person/%C3%A9lodie`. Werkzeug does the same for Location by itself."""
    return iri_to_uri(iri)


def link_header(links: list[tuple[str, str, str | None]]) -> str:
    """`Link` value (RFC 8288 section 3: a URI-Reference in <>) from (target, rel, media
    type) entries."""
    parts = []
    for target, rel, media in links:
        parts.append(f'<{uri(target)}>; rel="{rel}"' + (f'; type="{media}"' if media else ""))
    return ", ".join(parts)


def alternate_links(stem: str, current: str | None, query: str = "",
                    offered: tuple[str, ...] = tuple(FORMATS)) -> list[tuple[str, str, str]]:
    return [(f"{stem}.{name}{query}", "alternate", FORMATS[name].media_type)
            for name in offered if name != current]


def cacheable(response: Response, tag: str, *, version: str | None = None) -> Response:
    """Validators, freshness and CORS on a read, and the mark for the render cache.

    The ETag is strong and costs nothing: the store's version token (it changes on every
    write, so a changed entity always gets a new one) and the representation's tag (format
    and page), so two representations never share one. RFC 9110 section 8.8.3."""
    version = version if version is not None else store().version()
    response.headers["ETag"] = f'"{version}-{tag}"'
    response.last_modified = int(store().last_modified())
    response.headers["Cache-Control"] = f"public, max-age={settings().max_age}"
    response.headers.update(CORS_HEADERS)
    response.headers[CACHE_MARK] = version
    return response


def see_other(location: str, links: list[tuple[str, str, str]]) -> Response:
    """303 See Other from a thing to the document describing it (Cool URIs, section 4.3)."""
    response = Response(f"See Other: {location}\n", status=303,
                        content_type="text/plain; charset=utf-8")
    response.headers["Location"] = location
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = link_header(links)
    response.headers["Cache-Control"] = f"public, max-age={settings().max_age}"
    response.headers.update(CORS_HEADERS)
    response.headers[CACHE_MARK] = store().version()
    return response


def preflight(response: Response) -> Response:
    """CORS on every read of these blueprints, preflight (OPTIONS) answers included; errors
    say `Vary: Accept` because their body is a page for browsers and JSON otherwise.

    OPTIONS answers 204 No Content with `Allow` and the preflight headers: it has no body,
    so it has no Content-Type either (RFC 9110 section 9.3.7)."""
    if request.method == "OPTIONS" and response.status_code == 200:
        response.status_code = 204
        response.headers.update(PREFLIGHT_HEADERS)
        response.set_data(b"")
        del response.headers["Content-Type"]
        del response.headers["Content-Length"]
    response.headers.update(CORS_HEADERS)
    if response.status_code >= 400 and "Vary" not in response.headers:
        response.headers["Vary"] = "Accept"
    return response
