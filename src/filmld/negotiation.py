"""Content negotiation: an explicit suffix or ?format= wins, then Accept with q-values.

Policy (README, "Content negotiation"):
- a suffix (`/id/person/cher.ttl`) or `?format=ttl` names the format outright;
- otherwise `Accept` is parsed by Werkzeug (`MIMEAccept.best_match`), q-values honoured;
  ties go to the first media type of `MEDIA_TYPES` (server preference: Turtle first);
- a missing or empty Accept, or `*/*` alone, gets Turtle, the format of machine clients;
  a browser's Accept (`text/html,...,*/*;q=0.8`) names text/html at q=1 and gets HTML;
- media-type parameters other than q never prevent a match (RFC 9110 section 12.5.1):
  `text/turtle; charset=utf-8` and `text/html;level=1` match our types. Every document is
  UTF-8, whatever charset a range names;
- JSON-LD profiles (JSON-LD 1.1 section 9, the `profile` parameter): every JSON-LD document
  filmld serves is compacted, with its context embedded, so `#compacted` matches; a range
  asking for `#expanded` or `#flattened` is still served the compacted document (a profile
  "does not change the semantics", and any JSON-LD processor expands it in one call, with
  no network), rather than refused or demoted;
- a range with a malformed q (`text/turtle;q=abc`, `q=2`) is ignored, as Werkzeug's parser
  does, and so is one that is no `type/subtype` (`*`, `foo`); an Accept with no valid
  range left is treated as absent (RFC 9110 section 12.5.1: no Accept means any media
  type), so it gets Turtle, not a 406;
- `application/json` is answered with JSON-LD (compact, readable as plain JSON);
- nothing acceptable is a 406 listing the available media types, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from filmld.errors import NotAcceptable


@dataclass(frozen=True)
class DocumentFormat:
    """One format a description is served in: its suffix, media type and Content-Type."""

    name: str
    media_type: str
    label: str
    charset: bool = True

    @property
    def content_type(self) -> str:
        # JSON is UTF-8 by definition (RFC 8259 section 8.1): no charset parameter there.
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


FORMATS: dict[str, DocumentFormat] = {f.name: f for f in (
    DocumentFormat("ttl", "text/turtle", "Turtle"),
    DocumentFormat("jsonld", "application/ld+json", "JSON-LD", charset=False),
    DocumentFormat("nt", "application/n-triples", "N-Triples"),
    DocumentFormat("rdf", "application/rdf+xml", "RDF/XML"),
    DocumentFormat("html", "text/html", "HTML"),
)}
"""Every format of an entity document, in order of server preference."""

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
FORMAT_NAMES = tuple(FORMATS)
_FORMAT_ALIASES = {"turtle": "ttl", "json-ld": "jsonld", "json": "jsonld", "ntriples": "nt",
                   "n-triples": "nt", "xml": "rdf", "rdfxml": "rdf", "htm": "html"}
_AVAILABLE = list(dict.fromkeys(MEDIA_TYPES))


SUFFIX_ALIASES = {"htm": "html"}
"""File suffixes that name a format under another name: `/id/person/cher.htm` is the HTML
document, as `?format=htm` is (both answer like `.html`)."""


def suffix_format(suffix: str, offered: tuple[str, ...] = FORMAT_NAMES) -> str | None:
    """The format a path suffix names (`ttl`, `html`, `htm` ...), or None when it names none."""
    name = SUFFIX_ALIASES.get(suffix, suffix)
    return name if name in offered else None


def format_name(explicit: str) -> str:
    """The format an explicit suffix or ?format= value names (a media type works too)."""
    key = explicit.strip().lower()
    name = MEDIA_TYPES.get(key) or _FORMAT_ALIASES.get(key, key)
    if name not in FORMATS:
        raise NotAcceptable(
            f"unknown format {explicit!r}; available: {', '.join(FORMAT_NAMES)}",
            details={"available": list(FORMAT_NAMES)})
    return name


def choose_format(accept: str | None, explicit: str | None = None,
                  offered: tuple[str, ...] = FORMAT_NAMES) -> str:
    """The format to answer with, one of `offered` (ttl, jsonld, nt, rdf, html)."""
    if explicit:
        name = format_name(explicit)
        if name not in offered:
            raise NotAcceptable(f"format {explicit!r} is not available here; available: "
                                + ", ".join(offered), details={"available": list(offered)})
        return name
    return _negotiate(accept or "", offered)


_MEDIA_RANGE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""`type/subtype` (RFC 9110 section 12.5.1, tokens): anything else is no media range."""


def accept_ranges(accept: str) -> MIMEAccept:
    """The ranges of an Accept header, parsed by Werkzeug, without their parameters other
    than q: Werkzeug only matches a range with parameters (charset, level, profile) to an
    offer with the same ones, and none of our types depends on them. What is no media range
    at all (`*`, `foo`, the empty range of `;;;`) is dropped, as a malformed q is."""
    ranges = parse_accept_header(accept, MIMEAccept)
    bare = ((value.split(";", 1)[0].strip(), quality) for value, quality in ranges)
    return MIMEAccept([(value, quality) for value, quality in bare
                       if _MEDIA_RANGE.fullmatch(value)])


def _refused(ranges: MIMEAccept, media_type: str) -> bool:
    """True when the most specific range holding `media_type` has q=0, "not acceptable"
    (RFC 9110 section 12.4.2): `text/html;q=0, application/xhtml+xml` refuses the HTML
    document, which is served as text/html whichever alias chose it."""
    return media_type in ranges and ranges.quality(media_type) == 0


@lru_cache(maxsize=512)
def _negotiate(accept: str, offered: tuple[str, ...]) -> str:
    # Cached: clients send the same few Accept headers, and parsing is the costly part.
    if not accept.strip():
        return offered[0]
    bare = accept_ranges(accept)
    if not bare:  # nothing valid in it (malformed q-values are dropped by the parser)
        return offered[0]
    media = [m for m, name in MEDIA_TYPES.items()
             if name in offered and not _refused(bare, FORMATS[name].media_type)]
    best = bare.best_match(media)
    if best is None:
        available = [m for m in _AVAILABLE if MEDIA_TYPES[m] in offered]
        raise NotAcceptable(
            "none of the media types in Accept is available; available: "
            + ", ".join(available), details={"available": available})
    return MEDIA_TYPES[best]
