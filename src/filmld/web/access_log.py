"""The access log of `filmld serve`: granian's line format, written for a fraction of its cost.

Why (issue 4): granian's own access log builds a dict, a datetime and a logging record per
request and writes and flushes each line under the GIL: about a quarter of the throughput
of a cached entity response. Here a line is one f-string (the time text is made once a
second) put on a queue; a thread writes what is queued every FLUSH_SECONDS in one write, and
at exit. Control characters in the path are escaped (log_format.printable), so a request
cannot forge a line.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TextIO

from filmld.log_format import printable

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
FLUSH_SECONDS = 0.1


class AccessLog:
    """WSGI middleware: `[time] addr - "METHOD /path HTTP/1.1" status milliseconds`."""

    def __init__(self, app: WSGIApp, stream: TextIO | None = None) -> None:
        self.app = app
        self.stream = stream if stream is not None else sys.stdout
        self.lines: deque[str] = deque()
        self._second = -1
        self._stamp = ""
        threading.Thread(target=self._write_loop, daemon=True, name="filmld-access-log").start()
        atexit.register(self.flush)
        # granian's workers end with os._exit after multiprocessing's finalizers, not atexit
        multiprocessing.util.Finalize(self, self.flush, exitpriority=20)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["500"]

        def record(line: str, headers: list, exc_info=None):
            status[0] = line[:3]
            return start_response(line, headers, exc_info)

        try:
            return self.app(environ, record)
        finally:
            self._log(environ, status[0], started)

    def _log(self, environ: dict, status: str, started: float) -> None:
        now = time.time()
        if int(now) != self._second:
            self._second = int(now)
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(now))
        path = environ.get("PATH_INFO", "")
        if not path.isprintable() or "\\" in path:  # isprintable: C speed, no regex
            path = printable(path)
        self.lines.append(
            f'[{self._stamp}] {environ.get("REMOTE_ADDR", "-")} - "{environ["REQUEST_METHOD"]} '
            f'{path} {environ.get("SERVER_PROTOCOL", "HTTP/1.1")}" {status} '
            f"{(time.perf_counter() - started) * 1000:.3f}\n")

    def _write_loop(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        lines = self.lines
        out = []
        while lines:
            out.append(lines.popleft())
        if out:
            try:
                self.stream.write("".join(out))
                self.stream.flush()
            except (OSError, ValueError):  # the stream was closed at exit
                pass
