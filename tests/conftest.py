"""Shared fixtures: settings on a fresh store, the Flask app and client, a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from filmld.config import Settings
from filmld.web import create_app

BASE = "http://127.0.0.1:8000/"
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings on an empty store directory of this test's own."""
    return Settings(store=str(tmp_path / "store"))


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["filmld.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    """One app per module for read-only tests (building one per case would dominate)."""
    app = create_app(Settings(store=str(tmp_path_factory.mktemp("shared") / "store")))
    yield app
    app.extensions["filmld.store"].close()


@pytest.fixture
def reader(shared_app):
    return shared_app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A real `filmld serve` process on 127.0.0.1."""

    url: str
    process: subprocess.Popen
    store: Path
    log: Path

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
            self.process.wait(timeout=15)


def filmld_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FILMLD_")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({f"FILMLD_{k.upper()}": v for k, v in settings.items()})
    return env


def start_server(tmp: Path, *, store: str | None = None, extra_args: tuple[str, ...] = (),
                 **settings: str) -> LiveServer:
    port = free_port()
    store = store or str(tmp / "store")
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "filmld", "serve", "--port", str(port), "--store", store,
             *extra_args],
            env=filmld_env(**settings), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            requests.get(url, timeout=1)
            return LiveServer(url, process, Path(store), log)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start in 30 s: {log.read_text()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One real server for the session's read-only end-to-end tests."""
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


# -- a real Oxigraph server, the remote SPARQL store (issue 7) --------------------------------
def oxigraph_binary() -> str:
    """The `oxigraph` CLI from PyPI, next to this Python (the venv) or on PATH."""
    import shutil

    candidate = Path(sys.executable).parent / "oxigraph"
    found = str(candidate) if candidate.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph server CLI is missing: pip install 'oxigraph>=0.5.13'")
    return found


@dataclass
class OxigraphServer:
    """`oxigraph serve` on 127.0.0.1; stop() and start() again keep its port and data."""

    location: Path
    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The query endpoint, as `--store` takes it."""
        return f"http://127.0.0.1:{self.port}/query"

    def start(self) -> OxigraphServer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [oxigraph_binary(), "serve", "--location", str(self.location),
                 "--bind", f"127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.log.read_text()[-2000:]}")
            try:
                requests.get(f"http://127.0.0.1:{self.port}/query",
                             params={"query": "ASK {}"}, timeout=1)
            except requests.ConnectionError:
                time.sleep(0.05)
                continue
            # Whoever answered must be this process: another test run on the machine may
            # have taken the port between free_port() and the bind (then ours exits).
            time.sleep(0.1)
            if self.process.poll() is None:
                return self
            raise RuntimeError(f"oxigraph exited: {self.log.read_text()[-2000:]}")
        self.stop()
        raise RuntimeError(f"oxigraph did not start in 30 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def clear(self) -> None:
        """Drop every graph: each test starts from an empty dataset."""
        requests.post(f"http://127.0.0.1:{self.port}/update",
                      data={"update": "DROP SILENT ALL"}, timeout=30).raise_for_status()


def _start_with_retries(location: Path, attempts: int = 5) -> OxigraphServer:
    """A started server on a free port; a port lost to another process is tried again."""
    for attempt in range(attempts):
        server = OxigraphServer(location, free_port(), location.with_suffix(".log"))
        try:
            return server.start()
        except RuntimeError:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")


def start_oxigraph(tmp: Path) -> OxigraphServer:
    return _start_with_retries(tmp / "oxigraph")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[OxigraphServer]:
    """One Oxigraph server for the session; tests that use it call clear() first."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield server
    server.stop()


# -- the HTTP behaviour suite on both backends (issue 7) --------------------------------------
# Every test in these modules runs twice: on the embedded store, then on a real Oxigraph
# server through RemoteStore. The modules build their apps with `Settings(store=<a temporary
# directory>)` (in their own fixtures, some module-scoped); on the "oxigraph" pass, opening
# such a store opens instead an Oxigraph server of its own for that directory (a clean
# dataset per store, the same one when the same directory is opened again), so no module
# needs to know about backends. Servers started in a module are stopped at its end.
BACKENDS = ("embedded", "oxigraph")
BACKEND_MODULES = {"test_contributions", "test_dataset", "test_entities", "test_error_shape",
                   "test_remote_backends", "test_sparql", "test_validation_neighbourhood",
                   "test_w3c_protocol"}
# Tests that are inherently about one backend: name -> why they cannot run on the other.
EMBEDDED_ONLY: dict[str, str] = {
    "test_slow_query_is_stopped_at_the_time_limit":
        "Oxigraph server keeps evaluating a query its client abandoned (shared/stores/"
        "README.md); the remote time limit is tested without a runaway in test_remote.py",
    "test_memory_bomb_is_a_clean_error":
        "the address-space limit is on filmld's query workers; on a remote store the query "
        "would grow the Oxigraph server itself to gigabytes",
    "test_parser_crash_in_a_worker_is_a_clean_error_and_the_pool_heals":
        "query worker processes exist only for the embedded store",
    "test_concurrency_limit_refuses_excess_with_retry_after":
        "drives the embedded store's query worker pool with slow queries",
}


class RemoteBackend:
    """While active, a store named by a directory is an Oxigraph server of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: dict[str, OxigraphServer] = {}
        self.started = 0

    def open_store(self, settings: Settings):
        from dataclasses import replace

        if settings.store.startswith(("http://", "https://")):
            return _ORIGINAL_OPEN_STORE(settings)
        key = str(Path(settings.store or ".filmld-store").resolve())
        server = self.servers.get(key)
        if server is None or server.process is None or server.process.poll() is not None:
            self.started += 1  # a new folder each time: a stopped server's data stays there
            server = _start_with_retries(self.root / f"store-{self.started}")
            self.servers[key] = server
        return _ORIGINAL_OPEN_STORE(replace(settings, store=server.url))

    def stop(self, keep: set[str] | None = None) -> None:
        for key in [k for k in self.servers if keep is None or k not in keep]:
            self.servers.pop(key).stop()


_ORIGINAL_OPEN_STORE = None
_ACTIVE: list[RemoteBackend] = []


def pytest_generate_tests(metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in BACKEND_MODULES and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items) -> None:
    """Tests of the embedded store's own machinery are not generated for the remote backend
    (EMBEDDED_ONLY says why, test by test): they do not apply there, so they are not skipped."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        remote = callspec is not None and callspec.params.get("backend") == "oxigraph"
        if remote and (EMBEDDED_ONLY.get(item.originalname) or EMBEDDED_ONLY.get(item.name)):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def backend(request, tmp_path_factory) -> Iterator[str]:
    """'embedded' or 'oxigraph' (only BACKEND_MODULES are run on both)."""
    global _ORIGINAL_OPEN_STORE
    name = getattr(request, "param", "embedded")
    if name == "embedded":
        yield name
        return
    import filmld.dataset
    import filmld.store

    _ORIGINAL_OPEN_STORE = filmld.store.open_store
    remote = RemoteBackend(tmp_path_factory.mktemp("backend"))
    filmld.store.open_store = filmld.dataset.open_store = remote.open_store
    _ACTIVE.append(remote)
    try:
        yield name
    finally:
        _ACTIVE.remove(remote)
        filmld.store.open_store = filmld.dataset.open_store = _ORIGINAL_OPEN_STORE
        remote.stop()


@pytest.fixture(scope="module", autouse=True)
def _backend_servers_per_module() -> Iterator[None]:
    """Stop the Oxigraph servers a module started, once its fixtures are gone."""
    before = {key for remote in _ACTIVE for key in remote.servers}
    yield
    for remote in _ACTIVE:
        remote.stop(keep=before)


@pytest.fixture
def compared_tokens(monkeypatch) -> list[bytes]:
    """The tokens hmac.compare_digest is asked to compare, in order (a spy on the real one):
    every configured token must be compared, whichever matches."""
    import hmac

    compared: list[bytes] = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return compared
