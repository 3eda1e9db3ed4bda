"""Running the WSGI app under granian: a Rust HTTP server, about 3x gunicorn's throughput here.

Several worker processes need a remote store (issue 7): the web tier then keeps no state of
its own that matters. The version token lives in the store, so a worker's render cache is
never stale after another worker's write, and contributions serialise on the store's write
lock. The curated graphs are written once, here, before the workers start; each worker then
finds them unchanged (same content hash) and does not change the version.

Python threads per worker (granian's blocking_threads): 2 x CPUs + 1, the most granian
considers reasonable (it warns above it, at every start), and never fewer than the SPARQL
slots plus one. Entity pages are short and hold the GIL, so threads beyond about two per
core only add contention; a SPARQL request holds a thread while it waits on its query
process, and at most query_concurrency running plus as many queued do (QuerySlots), so one
thread more keeps an entity page answerable during a burst of heavy queries. On the 2-core
reference machine with the default settings both give 5.
"""

from __future__ import annotations

from filmld.config import Settings


def is_remote(settings: Settings) -> bool:
    return settings.store.startswith(("http://", "https://"))


def prepare_remote(settings: Settings) -> None:
    """Write ontology/ and data/ to the remote store once; a store that does not answer
    stops `filmld serve` here with its message (StoreUnavailable), not in every worker."""
    from filmld.dataset import open_dataset

    open_dataset(settings).close()


def blocking_threads(settings: Settings, cpus: int | None = None) -> int:
    """Threads for a worker, as the module docstring explains."""
    import os

    cpus = cpus or os.cpu_count() or 1
    held_by_queries = 2 * settings.query_concurrency  # running + queued (QuerySlots)
    return max(held_by_queries + 1, min(cpus * 2 + 1, 33))


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    if workers > 1 and not is_remote(settings):
        raise ValueError("--workers above 1 needs a remote --store URL: the embedded store "
                         "belongs to one process")
    if is_remote(settings):
        prepare_remote(settings)
    Granian(
        "filmld.web.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=blocking_threads(settings),
        log_access=False,  # filmld writes its own, cheaper (web/access_log.py, in wsgi.py)
        backlog=2048,
        # A worker that failed to start (the store was down at that moment) is started again.
        respawn_failed_workers=is_remote(settings),
    ).serve()
    return 0
