"""`filmld serve --workers N` on a remote store: stateless workers that agree at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.conftest import OxigraphServer, start_oxigraph, start_server

PREFIXES = """@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
DATE = '<id/person/cher> schema:birthDate "1946-05-20"^^xsd:date .'


def fresh_get(url: str, **headers: str) -> requests.Response:
    """A GET on a new connection, so that the kernel may hand it to any worker."""
    return requests.get(url, headers={"Connection": "close", **headers}, timeout=20)


def test_a_write_through_one_worker_is_seen_by_every_worker_at_once(
        oxigraph_server: OxigraphServer, tmp_path: Path):
    oxigraph_server.clear()
    server = start_server(tmp_path, store=oxigraph_server.url, extra_args=("--workers", "2"),
                          tokens="alice:tok-alice", contribution_rate="1000")
    try:
        page = server.url + "id/person/cher.nt"
        before = [fresh_get(page) for _ in range(16)]  # fills both workers' render caches
        assert {r.status_code for r in before} == {200}
        etags = {r.headers["ETag"] for r in before}
        assert len(etags) == 1
        assert all("1946-05-20" not in r.text for r in before)

        posted = requests.post(server.url + "contributions", data=(PREFIXES + DATE).encode(),
                               headers={"Authorization": "Bearer tok-alice",
                                        "Content-Type": "text/turtle", "Connection": "close"},
                               timeout=30)
        assert posted.status_code == 201, posted.text

        after = [fresh_get(page) for _ in range(16)]
        assert {r.status_code for r in after} == {200}
        assert all("1946-05-20" in r.text for r in after)
        assert {r.headers["ETag"] for r in after}.isdisjoint(etags)
        old = next(iter(etags))
        revalidated = [fresh_get(page, **{"If-None-Match": old}) for _ in range(8)]
        assert {r.status_code for r in revalidated} == {200}
    finally:
        server.stop()


def test_workers_answer_503_while_the_store_is_down_and_recover(tmp_path: Path):
    store = start_oxigraph(tmp_path)
    server = start_server(tmp_path, store=store.url, extra_args=("--workers", "2"),
                          store_timeout="3")
    try:
        page = server.url + "id/film/mask-1985.ttl"
        assert fresh_get(page).status_code == 200
        store.stop()
        down = [fresh_get(page) for _ in range(6)]
        assert {r.status_code for r in down} == {503}
        assert all(r.headers.get("Retry-After") for r in down)
        store.start()
        assert {fresh_get(page).status_code for _ in range(6)} == {200}
    finally:
        server.stop()
        store.stop()


def test_several_workers_need_a_remote_store(tmp_path: Path):
    with pytest.raises(RuntimeError, match="needs a remote --store"):
        start_server(tmp_path, extra_args=("--workers", "2"))


def test_serve_stops_with_a_clear_message_when_the_store_is_down(tmp_path: Path):
    from tests.conftest import free_port

    with pytest.raises(RuntimeError, match="unavailable"):
        start_server(tmp_path, store=f"http://127.0.0.1:{free_port()}/query")
