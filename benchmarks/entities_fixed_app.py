"""The ceiling for benchmarks/entities.py: a Flask view returning fixed bytes (the same bytes
filmld serves), under the same granian settings and access log as `filmld serve`."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODIES = Path(os.environ.get("FILMLD_BENCH_BODIES", "."))
CONTENT_TYPES = {"ttl": "text/turtle; charset=utf-8", "jsonld": "application/ld+json",
                 "html": "text/html; charset=utf-8"}
app = Flask("fixed")
_bodies = {name: (BODIES / f"film.{name}").read_bytes() for name in CONTENT_TYPES
           if (BODIES / f"film.{name}").exists()}


@app.get("/film.<name>")
def fixed(name: str) -> Response:
    return Response(_bodies[name], content_type=CONTENT_TYPES[name],
                    headers={"ETag": '"fixed"', "Cache-Control": "public, max-age=60"})


@app.get("/not-modified")
def not_modified() -> Response:
    return Response(status=304, headers={"ETag": '"fixed"', "Cache-Control": "public, max-age=60"})


if os.environ.get("FILMLD_ACCESS_LOG", "true") != "false":
    from filmld.web.access_log import AccessLog

    app.wsgi_app = AccessLog(app.wsgi_app)


def serve(target: str, port: int) -> None:
    """`target` is `fixed` (this app) or `filmld` (filmld's WSGI app, for the run without
    an access log: FILMLD_ACCESS_LOG=false in the environment)."""
    from granian import Granian
    from granian.constants import Interfaces

    from filmld.config import Settings
    from filmld.server import blocking_threads

    app = "entities_fixed_app:app" if target == "fixed" else "filmld.web.wsgi:application"
    Granian(app, address="127.0.0.1", port=port, interface=Interfaces.WSGI, workers=1,
            blocking_threads=blocking_threads(Settings()), log_access=False,
            backlog=2048).serve()


if __name__ == "__main__":
    import sys

    serve(sys.argv[1], int(sys.argv[2]))
