"""The one interface to the triples, and the function that opens the configured backend."""

from __future__ import annotations

from filmld.config import Settings
from filmld.store.base import Store


def open_store(settings: Settings) -> Store:
    """The backend the `store` setting names: a URL means a remote SPARQL store."""
    location = settings.store
    if location.startswith(("http://", "https://")):
        from filmld.store.remote import RemoteStore

        return RemoteStore(location, base=settings.base_url, update_url=settings.update_url,
                           graph_store_url=settings.graph_store_url,
                           timeout=settings.store_timeout, retry_after=settings.store_retry_after)
    from filmld.store.embedded import EmbeddedStore

    return EmbeddedStore(location or ".filmld-store", base=settings.base_url)


__all__ = ["Store", "open_store"]
