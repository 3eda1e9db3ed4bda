"""Killable query evaluation: a pool of pre-started worker processes on a read-only checkpoint.

pyoxigraph has no query timeout and evaluates with the GIL released, so a thread cannot be
stopped; a process can. Each worker (query_worker.py) opens `Store.read_only` on a checkpoint
of the embedded store (`Store.backup`: hard links, milliseconds), taken again whenever
`store.version()` changes, so a worker never reads a directory that is being written.

Per query: take a concurrency slot (bounded queue, 503 beyond), take an idle worker (or start
one), send the query, wait for its first frame until the deadline. Past the deadline the
worker is SIGKILLed (its CPU freed at once) and replaced in the background; a worker that
dies (SIGSEGV in the parser, memory limit) is replaced the same way. Entity pages never wait
for any of this: they do not use the pool.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from filmld.errors import FilmldError, QueryFailed, QueryTimeout, SyntaxProblem
from filmld.inline_queries import InlineAnswer, evaluate, is_bounded
from filmld.xml_chars import NotInXml

log = logging.getLogger("filmld.query_pool")
_FRAME = struct.Struct(">cI")
_SRC = str(Path(__file__).resolve().parents[1])


class QueryOverload(FilmldError):
    """Too many queries at once: try again shortly (503 with Retry-After)."""

    status, title = 503, "Too many queries"


class WorkerGone(Exception):
    """The worker exited or closed its pipe; `returncode` says how."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


@dataclass
class QueryRequest:
    """One query as the worker receives it (the policy has already accepted it)."""

    query: str
    format: str
    limit: int
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    union: bool = True
    base_iri: str = ""
    prefixes: dict[str, str] = field(default_factory=dict)
    inline: bool | None = None
    """Whether the query is bounded by construction (inline_queries); None: decide here."""


class Worker:
    """One evaluating process and the framed pipe to it."""

    def __init__(self, memory_mb: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = _SRC + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "filmld.query_worker", str(memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0,
            start_new_session=True)
        self.checkpoint: str | None = None
        self.ready = False
        self.buffer = bytearray()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, kind: bytes, payload: bytes) -> None:
        try:
            self.process.stdin.write(_FRAME.pack(kind, len(payload)) + payload)
        except (BrokenPipeError, OSError):
            raise WorkerGone(self.process.poll()) from None

    def _read(self, size: int, deadline: float) -> bytes:
        """Exactly `size` bytes from the worker (buffered: a small answer is one read)."""
        buffer = self.buffer
        fd = self.process.stdout.fileno()
        while len(buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                raise TimeoutError
            data = os.read(fd, max(size - len(buffer), 1 << 16))
            if not data:
                raise WorkerGone(self.process.wait(timeout=5))
            buffer += data
        out = bytes(buffer[:size])
        del buffer[:size]
        return out

    def receive(self, deadline: float) -> tuple[bytes, bytes]:
        kind, length = _FRAME.unpack(self._read(_FRAME.size, deadline))
        return kind, self._read(length, deadline) if length else b""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("query worker %s did not exit after SIGKILL", self.pid)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


def describe_exit(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _remove_orphans(directory: Path) -> None:
    """Checkpoints left by a server that was killed (its pid is gone): they pin disk space."""
    for child in directory.glob(".filmld-checkpoints-*-*"):
        try:
            pid = int(child.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(child, ignore_errors=True)
        except PermissionError:
            pass


class Checkpoints:
    """Read-only copies of the embedded store, one per store version, removed when unused."""

    def __init__(self, store) -> None:
        self.store = store
        # next to the store, on its file system: a checkpoint is hard links only there
        home = getattr(store, "path", None)
        parent = Path(home).resolve().parent if home is not None else None
        if parent is not None:
            _remove_orphans(parent)
        self.root = Path(tempfile.mkdtemp(prefix=f".filmld-checkpoints-{os.getpid()}-",
                                          dir=parent))
        self.pair: tuple[str, str] | None = None
        self.serial = 0
        self.stale = False
        self.lock = threading.Lock()

    def path(self) -> tuple[str, str]:
        """The current checkpoint's directory and the store version it holds (at least)."""
        version = self.store.version()
        current = self.pair  # one attribute, so directory and version always match
        if current is not None and current[1] == version:
            return current
        with self.lock:
            if self.pair is None or self.pair[1] != version:
                self.serial += 1
                target = self.root / f"v{self.serial}"
                self.store.checkpoint(target)
                self.pair = (str(target), version)
                self.stale = True
            return self.pair

    @property
    def current(self) -> str | None:
        return self.pair[0] if self.pair else None

    def sweep(self, in_use: set[str]) -> None:
        """Remove checkpoints no worker has open any more."""
        if not self.stale:
            return
        keep = in_use | {self.current}
        self.stale = len(in_use - {self.current}) > 0
        for child in self.root.iterdir():
            if str(child) not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class QuerySlots:
    """At most `concurrency` queries at once and a short queue; beyond, a 503 at once.

    So a burst of heavy queries holds at most concurrency + queue of the web server's
    threads, and entity pages always find one free (they never take a slot).
    """

    def __init__(self, concurrency: int, timeout: float, queue: int | None = None) -> None:
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.semaphore = threading.BoundedSemaphore(self.concurrency)
        self.waiting_limit = self.concurrency if queue is None else queue
        self.waiting = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        if self.semaphore.acquire(blocking=False):
            return
        with self.lock:
            if self.waiting >= self.waiting_limit:
                raise QueryOverload(
                    f"{self.concurrency} queries are running and {self.waiting} waiting; "
                    "try again in a few seconds", headers={"Retry-After": "2"})
            self.waiting += 1
        try:
            if not self.semaphore.acquire(timeout=self.timeout):
                raise QueryOverload(
                    f"no query slot became free within {self.timeout:g} s; try again shortly",
                    headers={"Retry-After": "2"})
        finally:
            with self.lock:
                self.waiting -= 1

    def leave(self) -> None:
        self.semaphore.release()


class QueryPool:
    """Pre-started workers, a concurrency limit with a short queue, and a deadline per query."""

    def __init__(self, store, *, workers: int, concurrency: int, timeout: float,
                 memory_mb: int, queue: int | None = None,
                 stream_timeout: float = 60.0) -> None:
        self.store, self.timeout, self.memory_mb = store, timeout, memory_mb
        self.stream_timeout = stream_timeout
        self.checkpoints = Checkpoints(store)
        self.concurrency = max(1, concurrency)
        self.size = max(1, workers)
        self.slots = QuerySlots(self.concurrency, timeout, queue)
        self.lock = threading.Lock()
        self.idle: list[Worker] = []
        self.busy: set[Worker] = set()
        self.closed = False
        for _ in range(self.size):
            self.idle.append(Worker(memory_mb))
        self.isolated: bool | None = None

    # -- the public call -------------------------------------------------------------------
    def run(self, request: QueryRequest) -> QueryStream | InlineAnswer:
        """Start a query; the stream's first frame (head or error) has arrived when this returns.

        Raises SyntaxProblem (400), QueryTimeout (503), QueryFailed (500), QueryOverload (503).
        A query bounded by construction is answered here, whole (inline_queries).
        """
        if request.inline or (request.inline is None and is_bounded(request.query)):
            answer = self._inline(request)
            if answer is not None:
                return answer
        self._enter()
        started = time.monotonic()
        worker = None
        try:
            checkpoint, version = self.checkpoints.path()
            worker = self._take()
            payload = dict(request.__dict__, checkpoint=checkpoint)
            worker.send(b"Q", json.dumps(payload).encode())
            worker.checkpoint = checkpoint
            deadline = started + self.timeout
            kind, body = worker.receive(deadline)
            if kind == b"X":
                self._give_back(worker)
                worker = None
                raise _error(json.loads(body))
            if kind != b"H":
                raise WorkerGone(worker.process.poll())
            head = json.loads(body)
            stream = QueryStream(self, worker, head, deadline)
            stream.version = version
            worker = None
        except TimeoutError:
            self._discard(worker)
            worker = None
            self._leave()
            raise QueryTimeout(
                f"the query ran longer than this endpoint's time limit of {self.timeout:g} s "
                "and was stopped; narrow it (LIMIT, more specific patterns) and try again",
                details={"time_limit_seconds": self.timeout}) from None
        except WorkerGone as gone:
            self._discard(worker)
            worker = None
            self._leave()
            raise QueryFailed(
                "the query could not be evaluated: the process evaluating it stopped "
                f"({describe_exit(gone.returncode)}). Queries nested very deeply or needing more "
                f"than {self.memory_mb} MiB of memory do this; simplify the query.") from None
        except BaseException:
            if worker is not None:
                self._discard(worker)
            self._leave()
            raise
        if head.get("complete"):
            # the whole (small) answer is already in the pipe: take it, free the worker now
            try:
                stream.body = stream.read_all()
            except (TimeoutError, WorkerGone):
                raise QueryFailed("the query could not be evaluated: the process evaluating "
                                  "it stopped while sending its answer") from None
        return stream

    def _inline(self, request: QueryRequest) -> InlineAnswer | None:
        """In this process, on the live store (a read sees one snapshot); no slot is taken:
        like an entity page, its work is bounded by what it returns."""
        version = self.store.version()
        result = evaluate(self.store.store, request.__dict__)
        if isinstance(result, dict):
            raise _error(result)
        if result is not None:
            result.version = version
        return result

    # -- slots -------------------------------------------------------------------------------
    def _enter(self) -> None:
        self.slots.enter()

    def _leave(self) -> None:
        self.slots.leave()

    # -- workers ---------------------------------------------------------------------------
    def _take(self) -> Worker:
        with self.lock:
            while self.idle:
                worker = self.idle.pop()
                if worker.alive():
                    self.busy.add(worker)
                    break
                worker.kill()
            else:
                worker = Worker(self.memory_mb)
                self.busy.add(worker)
        if not worker.ready:
            kind, body = worker.receive(time.monotonic() + 30)
            if kind != b"R":
                raise WorkerGone(worker.process.poll())
            worker.ready = True
            self.isolated = json.loads(body).get("isolated")
            if not self.isolated:
                log.warning("query worker %s could not isolate its network", worker.pid)
        return worker

    def _give_back(self, worker: Worker) -> None:
        with self.lock:
            self.busy.discard(worker)
            if self.closed:
                worker.kill()
                return
            self.idle.append(worker)
            in_use = {w.checkpoint for w in [*self.idle, *self.busy] if w.checkpoint}
        self.checkpoints.sweep(in_use)

    def _discard(self, worker: Worker | None) -> None:
        """Kill a worker (timed out, crashed, abandoned mid-stream) and start a replacement."""
        if worker is None:
            return
        worker.kill()
        with self.lock:
            self.busy.discard(worker)
            if self.closed:
                return
        threading.Thread(target=self._replace, daemon=True).start()

    def _replace(self) -> None:
        replacement = Worker(self.memory_mb)
        with self.lock:
            if self.closed or len(self.idle) + len(self.busy) >= self.size + self.concurrency:
                replacement.kill()
                return
            self.idle.append(replacement)

    def worker_pids(self) -> list[int]:
        with self.lock:
            return [w.pid for w in [*self.idle, *self.busy]]

    def close(self) -> None:
        with self.lock:
            self.closed = True
            workers = [*self.idle, *self.busy]
            self.idle, self.busy = [], set()
        for worker in workers:
            worker.kill()
        self.checkpoints.close()


def _error(error: dict) -> FilmldError:
    if error.get("kind") == "syntax":
        return SyntaxProblem(error.get("message", "syntax error"), line=error.get("line"),
                             column=error.get("column"))
    if error.get("kind") == "not-in-xml":
        return NotInXml(error["message"], details={"available": error["available"]})
    return QueryFailed(f"the query could not be evaluated: {error.get('message', '')}")


class QueryStream:
    """An answer under way: its head, then its body in pieces; releases the worker when done.

    `truncated` is True or False when the worker knew before the first byte (the usual case:
    results up to 1 MiB), None when the body started first; `finished_truncated` is set at the
    end. A stream that is not read to the end (client gone) kills its worker.
    """

    def __init__(self, pool: QueryPool, worker: Worker, head: dict, deadline: float) -> None:
        self.pool, self.worker = pool, worker
        self.media_type: str = head["media_type"]
        self.truncated: bool | None = head.get("truncated")
        self.finished_truncated: bool | None = None
        self.rows: int | None = None
        self.started = time.monotonic()
        # The time bound of a query (README, "The SPARQL endpoint"): query_timeout from its
        # start until the head (the whole answer, or its first HOLD_BYTES); the whole body by
        # query_timeout + stream_timeout from its start, evaluation and a slow reader
        # together. Past it the worker is killed and the body ends with
        # sparql_results.stream_cut_marker.
        self.deadline = deadline + pool.stream_timeout
        self.done = False
        self.body: bytes | None = None
        self.version: str = ""
        """The store version the answer was computed from."""
        """The whole body, when the worker finished before sending it (the usual case)."""

    def __iter__(self) -> Iterator[bytes]:
        if self.done:  # already read whole (see `body`)
            if self.body:
                yield self.body
            return
        try:
            while True:
                kind, body = self.worker.receive(self.deadline)
                if kind == b"D":
                    yield body
                elif kind == b"E":
                    end = json.loads(body)
                    self.rows, self.finished_truncated = end["rows"], end["truncated"]
                    self._release(clean=True)
                    return
                else:
                    raise WorkerGone(self.worker.process.poll())
        except (TimeoutError, WorkerGone):
            log.warning("query stream cut: worker %s stopped or timed out mid-body",
                        self.worker.pid)
            self._release(clean=False)
            raise
        finally:
            if not self.done:
                self._release(clean=False)

    def read_all(self) -> bytes:
        return b"".join(self)

    def close(self) -> None:
        if not self.done:
            self._release(clean=False)

    def _release(self, *, clean: bool) -> None:
        if self.done:
            return
        self.done = True
        if clean:
            self.pool._give_back(self.worker)
        else:
            self.pool._discard(self.worker)
        self.pool._leave()
