"""Contributions against real `filmld serve` processes: 201 means durable (SIGKILL), writes
are all or nothing, parallel contributions are serialised, and the CLI (issue 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from filmld.contributions import content_hash
from tests.conftest import filmld_env, start_server
from tests.test_validation_neighbourhood import PREFIXES, one_film

TOKENS = "alice:tok-alice,bob:tok-bob,operator:tok-operator"
# A fixed public base, so a restarted server (on another port) names the same resources.
BASE = "http://films.example/"
ALICE = {"Authorization": "Bearer tok-alice", "Content-Type": "text/turtle",
         "Accept": "application/json"}


def contribute(url: str, turtle: str, headers=ALICE, timeout=120) -> requests.Response:
    return requests.post(f"{url}contributions", data=(PREFIXES + turtle).encode(),
                         headers=headers, timeout=timeout)


def contributed_triples(url: str, record: dict) -> list[ox.Triple]:
    """The contribution's own triples, read back over HTTP (provenance left out)."""
    text = requests.get(f"{url}contributions/{record['id']}.nt", timeout=30).content
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
            if "/contributions/" not in q.subject.value
            and "/contributors/" not in q.subject.value]


def descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def sigkill(server) -> None:
    """`kill -9` of the server's main process, as an operator would; its worker (which owns
    the store) dies with it (PR_SET_PDEATHSIG). Wait until every one of them is gone, so
    the store's lock is free for the restart."""
    pids = [*descendants(server.process.pid), server.process.pid]
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=15)
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in pids):
        assert time.monotonic() < deadline, "a server process outlived kill -9 of its parent"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


def records(url: str) -> list[dict]:
    return requests.get(f"{url}contributions", timeout=30).json()["contributions"]


def test_201_is_durable_across_sigkill(tmp_path):
    server = start_server(tmp_path, tokens=TOKENS, base_url=BASE)
    try:
        response = contribute(server.url, one_film("durable-1999"))
        assert response.status_code == 201, response.text
    finally:
        sigkill(server)  # right after the 201
    record = response.json()
    again = start_server(tmp_path, store=str(server.store), tokens=TOKENS, base_url=BASE)
    try:
        triples = contributed_triples(again.url, record)
        assert len(triples) == record["triples"]
        assert content_hash(triples) == record["sha256"]
        page = requests.get(f"{again.url}id/film/durable-1999.nt", timeout=30)
        assert page.status_code == 200 and "datePublished" in page.text
    finally:
        again.stop()


def test_sigkill_during_a_write_leaves_all_or_nothing(tmp_path):
    """Kill at points across a large contribution's request; each restart must find it
    complete with its provenance, or absent with none."""
    big = one_film("big-2003", roles=300)  # about 3,600 triples
    (tmp_path / "timing").mkdir()
    server = start_server(tmp_path / "timing", tokens=TOKENS, base_url=BASE)
    try:
        start = time.monotonic()
        assert contribute(server.url, big).status_code == 201
        took = time.monotonic() - start
    finally:
        server.stop()
    store = tmp_path / "killed"
    outcomes = []
    for fraction in (0.6, 0.85, 0.95, 1.05):
        server = start_server(tmp_path, store=str(store), tokens=TOKENS, base_url=BASE)
        sender = threading.Thread(target=_quietly, args=(contribute, server.url, big))
        sender.start()
        time.sleep(took * fraction)
        sigkill(server)
        sender.join(timeout=30)
        outcomes.append(_check_all_or_nothing(store))
    assert outcomes == sorted(outcomes)  # nothing that was there ever disappears


def _quietly(function, *args):
    try:
        function(*args)
    except requests.RequestException:
        pass


def _check_all_or_nothing(path: Path) -> int:
    """Open the killed server's store directly: every contribution graph has its
    provenance and exactly the triples it records, and every record has its graph."""
    from filmld.store.embedded import EmbeddedStore

    deadline = time.monotonic() + 15
    while True:  # the kernel frees a killed process's file lock as it finishes exiting
        try:
            store = EmbeddedStore(path, base=BASE)
            break
        except OSError as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        provenance = store.graph_iri("provenance")
        counts = {r["c"].value: int(r["n"].value) for r in store.select(
            f"SELECT ?c ?n WHERE {{ GRAPH <{provenance}> {{ "
            "?c <http://rdfs.org/ns/void#triples> ?n } }")}
        graphs = [g for g in store.graph_names() if "/contributions/" in g]
        assert set(graphs) == set(counts)
        for graph in graphs:
            assert len(store.graph_triples(graph)) == counts[graph]
        return len(graphs)
    finally:
        store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("contrib"), tokens=TOKENS,
                          contribution_rate="1000")
    yield server
    server.stop()


def test_parallel_contributions_valid_alone_but_not_together_never_both_land(server):
    """Each pair adds the same new film with two different release dates, at once."""
    pairs = 6
    statuses: dict[int, list[int]] = {i: [] for i in range(pairs)}
    barrier = threading.Barrier(pairs * 2)

    def send(i: int, date: str) -> None:
        body = one_film(f"race-{i}", date=date)
        barrier.wait()
        statuses[i].append(contribute(server.url, body).status_code)

    threads = [threading.Thread(target=send, args=(i, date))
               for i in range(pairs) for date in ("2001-01-01", "2002-02-02")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(sorted(codes) == [201, 422] for codes in statuses.values()), statuses
    for i in range(pairs):
        page = requests.get(f"{server.url}id/film/race-{i}.nt", timeout=30).text
        film = f"<{server.url}id/film/race-{i}> <https://schema.org/datePublished> "
        assert sum(line.startswith(film) for line in page.splitlines()) == 1, page


def test_state_changes_reach_the_server_log(server):
    response = contribute(server.url, '<id/person/cher> schema:description "logged"@en .')
    assert response.status_code == 201
    record = response.json()
    requests.delete(f"{server.url}contributions/{record['id']}",
                    headers={"Authorization": "Bearer tok-operator"}, timeout=30)
    time.sleep(0.5)
    log = server.log.read_text()
    assert f"accepted contribution {record['id']} by alice" in log
    assert f"withdrew contribution {record['id']} of alice by operator" in log


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmld", *args], capture_output=True,
                          check=False, text=True, cwd=cwd, timeout=120, env=filmld_env())


def test_cli_contribute_exit_codes(server, tmp_path):
    good, bad, broken = tmp_path / "good.ttl", tmp_path / "bad.ttl", tmp_path / "broken.ttl"
    good.write_text(PREFIXES + one_film("cli-2010", same_as=False))
    bad.write_text(PREFIXES + '<id/film/mask-1985> schema:datePublished "1999"^^xsd:gYear .')
    broken.write_text(PREFIXES + '<id/film/mask-1985> schema:name "open .')
    token = ("--url", server.url, "--token", "tok-alice")

    accepted = run_cli("contribute", str(good), *token, cwd=tmp_path)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Accepted:" in accepted.stdout and "sameAs" in accepted.stdout  # its warning

    refused = run_cli("contribute", str(bad), *token, cwd=tmp_path)
    assert refused.returncode == 1
    assert "Refused" in refused.stdout and "release date" in refused.stdout

    dry = run_cli("contribute", str(bad), *token, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 1

    for args in ((str(broken), *token), (str(good), "--url", server.url, "--token", "nope"),
                 (str(tmp_path / "missing.ttl"), *token)):
        result = run_cli("contribute", *args, cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert "line" in run_cli("contribute", str(broken), *token, cwd=tmp_path).stderr


def test_cli_validate_as_a_contribution_shares_the_server_check(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + '<id/film/mask-1985> schema:datePublished "1999"^^xsd:gYear .')
    alone = run_cli("validate", str(bad), cwd=tmp_path)
    assert alone.returncode == 0  # alone, one release date is fine
    together = run_cli("validate", str(bad), "--contribution", "--store",
                       str(tmp_path / "store"), cwd=tmp_path)
    assert together.returncode == 1
    assert "release date" in together.stdout and "Mask (1985)" in together.stdout


# -- issue 6 review ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("small"), tokens=TOKENS,
                          contribution_rate="1000", max_body_bytes="100000")
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["contributions", "validate"])
def test_chunked_body_over_the_limit_is_413_under_granian(small_server, path):
    """Under granian, Werkzeug does not hold a chunked body to MAX_CONTENT_LENGTH: the
    server used to cut it and accept the part it read."""
    lines = [f'<id/person/cher> schema:description "note {i} {"x" * 60}"@en .\n'.encode()
             for i in range(3000)]

    def chunks():
        yield PREFIXES.encode()
        yield from lines

    before = records(small_server.url)
    response = requests.post(f"{small_server.url}{path}", data=chunks(), headers=ALICE,
                             timeout=60)
    assert response.status_code == 413, response.text[:300]
    assert records(small_server.url) == before


def test_chunked_body_under_the_limit_is_read_whole(small_server):
    def chunks():
        yield PREFIXES.encode()
        for i in range(20):
            yield f'<id/person/cher> schema:description "chunk {i}"@en .\n'.encode()

    response = requests.post(f"{small_server.url}contributions", data=chunks(), headers=ALICE,
                             timeout=60)
    assert response.status_code == 201, response.text[:300]
    assert response.json()["triples"] == 20


def test_cli_exit_code_3_means_try_again_later(tmp_path):
    good = tmp_path / "good.ttl"
    good.write_text(PREFIXES + '<id/person/cher> schema:description "x"@en .')
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("contribute", str(good), "--url", f"http://127.0.0.1:{port}/",
                     "--token", "tok-alice", cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "try again later" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_exit_code_3_for_429(tmp_path):
    from filmld.contribute_cli import show

    assert show(429, b'{"error": {"message": "at most 1 contributions a minute"}}') == 3
    assert show(503, b"busy") == 3
    assert show(401, b'{"error": {"message": "this token is not valid"}}') == 2


def test_cli_validate_on_a_running_servers_store_says_so(server, tmp_path):
    file = tmp_path / "c.ttl"
    file.write_text(PREFIXES + '<id/person/cher> schema:description "x"@en .')
    result = run_cli("validate", str(file), "--contribution", "--store", str(server.store),
                     cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "in use by a running filmld server" in result.stderr
    assert "filmld contribute" in result.stderr and "--dry-run" in result.stderr
    assert "RocksDB" not in result.stderr and "LOCK" not in result.stderr
