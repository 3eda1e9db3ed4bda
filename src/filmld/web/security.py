"""Response hardening for every HTML page: a strict Content-Security-Policy and nosniff."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response

_INLINE = re.compile(rb"<(script|style)>(.*?)</\1>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(rb'\sstyle="([^"]*)"')
_HASHES: dict[bytes, str] = {}


def _csp_hash(block: bytes) -> str:
    found = _HASHES.get(block)
    if found is None:
        found = "'sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode() + "'"
        if len(_HASHES) < 256:  # the pages' own blocks: a few, fixed by the templates
            _HASHES[block] = found
    return found


def content_security_policy(body: bytes) -> str:
    """Nothing loads from anywhere, and only the page's own inline script and style run,
    by hash, so an injected block would not. Data blocks (`<script type=
    "application/ld+json">`) are never executed, so they need no permission. Pages need no
    network at run time (issues 4 and 5), so `default-src 'none'` costs them nothing."""
    scripts, styles = [], []
    for kind, block in _INLINE.findall(body):
        (scripts if kind == b"script" else styles).append(_csp_hash(block))
    attributes = sorted({_csp_hash(a) for a in _STYLE_ATTRIBUTE.findall(body)})
    if attributes:  # style="" attributes of the server-drawn SVG (CSP 3 'unsafe-hashes')
        styles += ["'unsafe-hashes'", *attributes]
    none = "'none'"
    return ("default-src 'none'; "
            f"script-src {' '.join(scripts) or none}; "
            f"style-src {' '.join(styles) or none}; "
            "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def _protect_html(response: Response) -> Response:
    if response.mimetype == "text/html" and not response.direct_passthrough:
        response.headers["Content-Security-Policy"] = content_security_policy(
            response.get_data())
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def register(app: Flask) -> None:
    app.after_request(_protect_html)
