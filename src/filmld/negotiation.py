"""Content negotiation: an explicit suffix or ?format= wins, then Accept with q-values.

Policy (README, "Content negotiation"): a missing Accept or `*/*` alone gets Turtle, the
format of machine clients; a browser's Accept names text/html and gets HTML.
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from filmld.errors import NotAcceptable, NotFound

# Media types in server preference order: ties in the client's q-values go to the first.
MEDIA_TYPES: dict[str, str] = {
    "text/turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/json": "jsonld",
}
FORMAT_NAMES = ("ttl", "jsonld", "nt", "rdf", "html")
_FORMAT_ALIASES = {"turtle": "ttl", "json-ld": "jsonld", "json": "jsonld", "ntriples": "nt",
                   "n-triples": "nt", "xml": "rdf", "rdfxml": "rdf", "htm": "html"}


def format_name(explicit: str) -> str:
    """The format an explicit suffix or ?format= value names; unknown is a 404-worthy miss."""
    name = _FORMAT_ALIASES.get(explicit.lower(), explicit.lower())
    if name not in FORMAT_NAMES:
        raise NotFound(f"unknown format {explicit!r}; available: {', '.join(FORMAT_NAMES)}")
    return name


def choose_format(accept: str | None, explicit: str | None = None) -> str:
    """The format to answer with: ttl, jsonld, nt, rdf or html."""
    if explicit:
        return format_name(explicit)
    if not accept or not accept.strip():
        return "ttl"
    best = parse_accept_header(accept, MIMEAccept).best_match(list(MEDIA_TYPES))
    if best is None:
        raise NotAcceptable(
            "none of the media types in Accept is available; available: "
            + ", ".join(MEDIA_TYPES),
            details={"available": list(MEDIA_TYPES)})
    return MEDIA_TYPES[best]
