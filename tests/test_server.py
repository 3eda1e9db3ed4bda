"""`filmld serve` as an operator runs it: a real process, an access log, a clean SIGTERM."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import requests

from tests.conftest import start_server


def test_home_page_links_to_the_film(live_server):
    response = requests.get(live_server.url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'href="{live_server.url}id/film/mask-1985"' in response.text


def test_entity_iris_are_iris_of_the_serving_host(live_server):
    response = requests.get(f"{live_server.url}id/film/mask-1985.nt", timeout=10)
    assert response.status_code == 200
    subjects = {line.split(" ", 1)[0] for line in response.text.splitlines() if line}
    ours = {s for s in subjects if "/id/" in s}
    assert ours and all(s.startswith(f"<{live_server.url}") for s in ours)


def test_sigterm_shuts_down_cleanly_and_requests_were_logged(tmp_path):
    server = start_server(tmp_path)
    requests.get(f"{server.url}id/film/mask-1985", timeout=10, allow_redirects=False)
    line = '"GET /id/film/mask-1985 HTTP/1.1" 303'
    deadline = time.monotonic() + 10  # the access log is written just after the response
    while line not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop(signal.SIGTERM)
    assert server.process.returncode == 0
    log = server.log.read_text()
    assert line in log
    assert "shutdown completed" in log


def test_curated_data_is_reloaded_from_the_files_at_every_start(tmp_path):
    """The files are the source of truth: a restart on the same store rebuilds the graph."""
    first = start_server(tmp_path)
    before = requests.get(f"{first.url}id/film/mask-1985.nt", timeout=10).text
    first.stop()
    second = start_server(tmp_path, store=str(first.store))
    try:
        after = requests.get(f"{second.url}id/film/mask-1985.nt", timeout=10).text
    finally:
        second.stop()
    # Each server mints IRIs of its own host and port; the facts are the same.
    assert sorted(before.replace(first.url, "/").splitlines()) == \
        sorted(after.replace(second.url, "/").splitlines())
    assert len(before.splitlines()) > 20


def test_access_log_can_be_turned_off(tmp_path):
    server = start_server(tmp_path, access_log="false")
    requests.get(f"{server.url}id/film/mask-1985", timeout=10, allow_redirects=False)
    time.sleep(0.5)
    server.stop(signal.SIGTERM)
    log = server.log.read_text()
    assert "Granian shutdown completed" in log
    assert "GET /id/film/mask-1985" not in log


def test_etags_survive_a_restart_when_the_data_is_the_same(tmp_path):
    """Clients keep their 304s across restarts; only a change of data changes the ETag."""
    base = "https://films.example/"  # one public base for both runs, whatever their ports
    first = start_server(tmp_path, base_url=base)
    path = "id/person/cher.ttl"
    etag = requests.get(f"{first.url}{path}", timeout=10).headers["ETag"]
    first.stop()
    second = start_server(tmp_path, store=str(first.store), base_url=base)
    try:
        again = requests.get(f"{second.url}{path}", timeout=10,
                             headers={"If-None-Match": etag})
    finally:
        second.stop()
    assert again.status_code == 304


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_the_server_leaves_no_worker_holding_the_store(tmp_path):
    """An operator's `kill -9` must not leave an orphan worker locking the store."""
    server = start_server(tmp_path)
    requests.get(f"{server.url}id/film/mask-1985.ttl", timeout=10)
    time.sleep(3)  # the worker outlives idle moments: only its parent's death ends it
    workers = _children(server.process.pid)
    assert workers and all(_alive(w) for w in workers)
    server.stop(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    again = start_server(tmp_path, store=str(server.store))
    try:
        assert requests.get(f"{again.url}id/film/mask-1985.ttl", timeout=10).status_code == 200
    finally:
        again.stop()


def test_sigterm_removes_the_query_checkpoints(tmp_path):
    """A query makes a checkpoint of the store next to it; a clean shutdown removes it."""
    server = start_server(tmp_path)
    answer = requests.get(f"{server.url}sparql", params={"query": "ASK { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert answer.json()["boolean"] is True
    assert list(tmp_path.glob(".filmld-checkpoints-*"))  # made next to the store
    server.stop(signal.SIGTERM)
    assert server.process.returncode == 0
    assert list(tmp_path.glob(".filmld-checkpoints-*")) == []


def test_start_logs_no_thread_count_warning(tmp_path):
    """granian warns at every start when a worker may spawn more threads than 2 x CPUs + 1."""
    server = start_server(tmp_path)
    server.stop(signal.SIGTERM)
    log = server.log.read_text()
    assert "Granian shutdown completed" in log
    assert "[WARNING]" not in log and "Python threads" not in log


def test_a_base_url_set_to_the_default_value_is_kept_on_another_port(tmp_path):
    """FILMLD_BASE_URL=http://127.0.0.1:8000/ is a setting like any other: a server on
    another port keeps it (it was taken for unset and replaced by http://HOST:PORT/, so data
    loaded under that base, e.g. benchmarks/generate_films.py's, was not this server's)."""
    server = start_server(tmp_path, base_url="http://127.0.0.1:8000/")
    try:
        response = requests.get(f"{server.url}id/film/mask-1985.nt", timeout=10)
    finally:
        server.stop()
    assert response.status_code == 200
    assert "<http://127.0.0.1:8000/id/film/mask-1985>" in response.text
