"""The query worker process: parses and evaluates untrusted SPARQL on a read-only checkpoint.

Started by query_pool (`python -m filmld.query_worker MEMORY_MIB`). It runs with no network
(a fresh network namespace: SERVICE cannot connect anywhere even if the policy missed it),
an address-space limit (a runaway query fails here, not in the server), and is killed by its
parent past the time limit or if it crashes. Requests come on stdin, answers go to stdout.

Wire format, both directions: frames of one type byte, a 4-byte big-endian length, a payload.
Requests are `Q` frames of JSON. Answers: `H` (JSON head: media type, and `truncated` when it
is known before the first byte), `D` (body bytes), `E` (JSON: rows and `truncated`), or `X`
(JSON error: kind syntax|failed, message, line, column) instead of all of these.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import struct
import sys
import threading
import time

import pyoxigraph as ox

from filmld.native_results import NATIVE, NATIVE_TRIPLES, write_native
from filmld.sparql_results import (
    HOLD_BYTES,
    RESULT_FORMATS,
    STREAMS_EARLY,
    lead_json_cut,
    write_boolean,
    write_solutions,
    write_triples,
    xml_rules,
)
from filmld.xml_chars import NotInXml, xml_guard

# HOLD_BYTES (sparql_results): output held back until the result cut is known, so headers
# can say it exactly; beyond it, the formats of sparql_results.STREAMS_EARLY stream.
PIECE_BYTES = 64 << 10
"""Output sent in pieces of about this size once streaming."""
_FRAME = struct.Struct(">cI")
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def isolate_network() -> bool:
    """Move this process into a new, empty network namespace: no interface, no route out."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def limit_memory(mebibytes: int) -> None:
    """RLIMIT_DATA bounds heap and anonymous mappings: a runaway query fails cleanly here."""
    if mebibytes > 0:
        size = mebibytes << 20
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))


def _watch_parent() -> None:
    """Exit when the server that started this worker is gone (no orphans left computing)."""
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


class Channel:
    """Framed messages over the process's stdin and stdout."""

    def __init__(self) -> None:
        self.input = sys.stdin.buffer
        self.output = sys.stdout.buffer
        self.pending: list[bytes] = []

    def receive(self) -> tuple[bytes, bytes] | None:
        head = self.input.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return None
        kind, length = _FRAME.unpack(head)
        return kind, self.input.read(length)

    def send(self, kind: bytes, payload: bytes) -> None:
        """Kept until flush(), which writes all pending frames at once."""
        self.pending += (_FRAME.pack(kind, len(payload)), payload)

    def send_json(self, kind: bytes, value: dict) -> None:
        self.send(kind, json.dumps(value).encode())

    def flush(self) -> None:
        self.output.write(b"".join(self.pending))
        self.pending = []
        self.output.flush()


class Output:
    """Holds the body until the cut is decided (or HOLD_BYTES is reached), then streams it."""

    def __init__(self, channel: Channel, media_type: str, early: bool = True) -> None:
        self.channel, self.media_type = channel, media_type
        self.early = early
        self.pieces: list[bytes] = []
        self.size = 0
        self.started = False

    def emit(self, data: bytes) -> None:
        self.pieces.append(data)
        self.size += len(data)
        if not self.started and self.early and self.size >= HOLD_BYTES:
            self.start(None)
        elif self.started and self.size >= PIECE_BYTES:
            self._send_pieces()

    def start(self, truncated: bool | None, complete: bool = False) -> None:
        self.channel.send_json(b"H", {"media_type": self.media_type, "truncated": truncated,
                                      "complete": complete})
        self.started = True
        self._send_pieces(flush=not complete)

    def _send_pieces(self, flush: bool = True) -> None:
        if self.pieces:
            self.channel.send(b"D", b"".join(self.pieces))
            self.pieces, self.size = [], 0
            if flush:
                self.channel.flush()

    def finish(self, rows: int | None, truncated: bool) -> None:
        """A complete answer leaves in one write (head, body, end): one wake-up of the
        server instead of three."""
        if not self.started:
            self.start(truncated, complete=True)
        self._send_pieces(flush=False)
        self.channel.send_json(b"E", {"rows": rows, "truncated": truncated})
        self.channel.flush()


def _graphs(names: list[str] | None) -> list[ox.NamedNode] | None:
    return None if names is None else [ox.NamedNode(n) for n in names]


def evaluation_options(request: dict) -> dict:
    """pyoxigraph's Store.query keyword arguments for a request's dataset (the dict of
    filmld.sparql.dataset_options, plus base_iri); `filmld query` evaluates with these too."""
    options: dict = {"base_iri": request.get("base_iri") or None}
    if request.get("default_graphs") is not None or request.get("named_graphs") is not None:
        # SPARQL 1.1 Protocol 2.1.4 / Query 13.2: a dataset given by the protocol is exactly
        # the graphs it names; one side named alone leaves the other side empty
        options["default_graph"] = _graphs(request.get("default_graphs") or [])
        options["named_graphs"] = _graphs(request.get("named_graphs") or [])
    else:
        options["use_default_graph_as_union"] = bool(request.get("union", True))
    return options


def answer(store: ox.Store, request: dict, channel: Channel) -> None:
    """Evaluate one request and send its frames; syntax and evaluation errors become `X`."""
    fmt = RESULT_FORMATS[request["format"]]
    try:
        result = store.query(request["query"], **evaluation_options(request))
    except SyntaxError as error:
        channel.send_json(b"X", syntax_error(str(error), request["query"]))
        channel.flush()
        return
    except (OSError, RuntimeError, ValueError, MemoryError) as error:
        channel.send_json(b"X", {"kind": "failed", "message": str(error)})
        channel.flush()
        return
    output = Output(channel, fmt.content_type, fmt.name in STREAMS_EARLY)
    emit = output.emit
    if (rules := xml_rules(fmt)) is not None:
        emit = xml_guard(emit, *rules)
    try:
        if isinstance(result, ox.QueryBoolean):
            write_boolean(fmt, bool(result), emit)
            output.finish(1, False)
            return
        if isinstance(result, ox.QueryTriples) and fmt.name in NATIVE_TRIPLES:
            rows, cut = write_native(fmt, result, request["limit"], emit)
        elif isinstance(result, ox.QueryTriples):
            rows, cut = write_triples(fmt, result, request["limit"], emit,
                                      request.get("prefixes"))
        elif fmt.name in NATIVE:  # pyoxigraph's own serialiser, the cap found in its bytes
            rows, cut = write_native(fmt, result, request["limit"], emit)
        else:
            names = [v.value for v in result.variables]
            rows, cut = write_solutions(fmt, names, result, request["limit"], emit)
    except (OSError, RuntimeError, ValueError, MemoryError, SyntaxError) as error:
        if output.started:
            raise SystemExit(3) from error  # the parent sees a cut stream, never a silent one
        problem = {"kind": "failed", "message": str(error)}
        if isinstance(error, NotInXml):
            problem.update(kind="not-in-xml", available=error.details["available"])
        channel.send_json(b"X", problem)
        channel.flush()
        return
    if cut and fmt.name == "json" and not output.started:
        output.pieces = [lead_json_cut(b"".join(output.pieces), request["limit"])]
    output.finish(rows, cut)


def syntax_error(text: str, query: str = "") -> dict:
    """pyoxigraph says `error at LINE:COLUMN: message`; keep the three parts apart, and say
    the common mistakes in words (filmld.sparql.readable_syntax_message)."""
    import re

    from filmld.sparql import readable_syntax_message

    match = re.match(r"error at (\d+):(\d+): ?(.*)", text, re.DOTALL)
    if match is None:
        return {"kind": "syntax", "message": text}
    line, column = int(match.group(1)), int(match.group(2))
    message = readable_syntax_message(match.group(3), query, line, column)
    return {"kind": "syntax", "message": message, "line": line, "column": column}


def main(argv: list[str]) -> int:
    memory = int(argv[1]) if len(argv) > 1 else 0
    isolated = isolate_network()
    limit_memory(memory)
    threading.Thread(target=_watch_parent, daemon=True).start()
    channel = Channel()
    channel.send_json(b"R", {"pid": os.getpid(), "isolated": isolated})
    channel.flush()
    store, opened = None, None
    while True:
        message = channel.receive()
        if message is None:
            return 0
        kind, payload = message
        if kind != b"Q":
            continue
        request = json.loads(payload)
        if request["checkpoint"] != opened:
            store = None
            try:
                store = ox.Store.read_only(request["checkpoint"])
            except (OSError, RuntimeError, ValueError) as error:
                channel.send_json(b"X", {"kind": "failed",
                                         "message": f"the dataset could not be opened: {error}"})
                channel.flush()
                opened = None
                continue
            opened = request["checkpoint"]
        answer(store, request, channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
