"""A remote server's answer passed to the client as its own bytes, with the endpoint's cap.

When the remote server writes the client's format itself (store/remote.py `answers_in`),
re-serialising every row in Python (sparql_protocol.relay_remote) only costs time: issue 7
measured the remote backend at about 2x Oxigraph server, most of it in that relay. Here the
bytes go through unchanged while the rows are counted in them, which is exact only where
a row's end cannot be mistaken:

- N-Triples: one triple per line (a literal's line breaks are escaped, N-Triples 1.1
  section 2.4);
- TSV: one row per line after the header (line breaks in literals are escaped, SPARQL 1.1
  CSV/TSV section 3.3);
- CSV: one row per line break outside double quotes (RFC 4180: a quoted field may hold
  line breaks; a quote inside one is doubled, so the parity of quotes says where one is);
- XML: one `<result>` element per row (a `<` in text or attribute values is escaped);
- JSON: Oxigraph server writes it with pyoxigraph's serialiser, whose rows
  native_results.RowWriter finds in the bytes (its docstring says why that is exact), as
  it does for the query workers' own answers, at any size.

A cut writes what the relay writes at a cut (sparql_results.cut_ending: the XML comment, the
N-Triples comment, CSV and TSV's last line once streaming has begun), so a cut answer never looks
complete and a complete one is never marked cut.
"""

from __future__ import annotations

from collections.abc import Iterator

from filmld.native_results import CapReached, RowWriter
from filmld.sparql_protocol import RemoteAnswer
from filmld.sparql_results import HOLD_BYTES, ResultFormat, cut_ending

PIECE = 1 << 16
"""Bytes read from the remote answer at a time."""


class _LineRows:
    """Rows that end at a line break (N-Triples, TSV, and CSV outside quoted fields)."""

    def __init__(self, header_lines: int, quoted: bool) -> None:
        self.skip = header_lines  # line breaks that end no row (TSV's and CSV's header)
        self.quoted = quoted
        self.inside = False  # inside a quoted CSV field where the last scan stopped

    def _ends(self, data: bytes, start: int) -> Iterator[int]:
        """Offsets just after each row-ending line break in data[start:]."""
        if not self.quoted or (not self.inside and data.find(b'"', start) < 0):
            while (found := data.find(b"\n", start)) >= 0:
                start = found + 1
                yield start
            return
        offset = start
        for index, part in enumerate(data[start:].split(b'"')):
            if index:
                self.inside = not self.inside
                offset += 1
            if not self.inside:
                begin = 0
                while (found := part.find(b"\n", begin)) >= 0:
                    begin = found + 1
                    yield offset + begin
            offset += len(part)

    def _count(self, data: bytes, start: int) -> tuple[int, int, bool]:
        """(row-ending line breaks in data[start:], offset after the last one or 0, whether
        a quoted field is open at the end), counted in C where no quote complicates it."""
        if not self.quoted or (not self.inside and data.find(b'"', start) < 0):
            ends = data.count(b"\n", start)
            return ends, data.rfind(b"\n", start) + 1 if ends else 0, self.inside
        ends, last, inside, offset = 0, 0, self.inside, start
        for index, part in enumerate(data[start:].split(b'"')):
            if index:
                inside = not inside
                offset += 1
            if not inside and (found := part.count(b"\n")):
                ends += found
                last = offset + part.rfind(b"\n") + 1
            offset += len(part)
        return ends, last, inside

    def cut(self, data: bytes, scan_from: int, rows: int, limit: int
            ) -> tuple[int, int | None, int]:
        """(rows ended so far, offset in `data` where row limit + 1 starts or None, how
        many bytes of `data` can be sent). `data` is what was held back from the last call
        (the start of a row whose end was not seen yet) and a new piece, scanned from
        `scan_from`: a row is counted when its end is seen, and the cut is at a row's start,
        so the bytes after the last line break wait for the next piece."""
        ends, after, inside = self._count(data, scan_from)
        header = min(self.skip, ends)
        if rows + ends - header <= limit:  # no cut in this piece: nothing to look for
            self.skip -= header
            self.inside = inside
            return rows + ends - header, None, after
        last = 0
        for end in self._ends(data, scan_from):
            if self.skip:
                self.skip -= 1
            elif rows >= limit:
                return rows, last, last
            else:
                rows += 1
            last = end
        return rows, None, last


class _XmlRows:
    """Rows that start with `<result>` (SPARQL XML results as Oxigraph writes them)."""

    TAG = b"<result>"

    def cut(self, data: bytes, scan_from: int, rows: int, limit: int
            ) -> tuple[int, int | None, int]:
        # What was held back is shorter than the tag, so no tag is counted twice; a tag
        # split between two pieces is found once the second arrives.
        tags = data.count(self.TAG)
        if rows + tags <= limit:  # no cut in this piece (counted in C)
            start = data.rfind(self.TAG) + len(self.TAG) if tags else 0
            return rows + tags, None, max(start, len(data) - len(self.TAG) + 1)
        start = 0
        while (found := data.find(self.TAG, start)) >= 0:
            if rows >= limit:
                return rows, found, found
            rows += 1
            start = found + len(self.TAG)
        return rows, None, max(start, len(data) - len(self.TAG) + 1)


def _counter(fmt: ResultFormat):
    if fmt.name == "xml":
        return _XmlRows()
    return _LineRows(header_lines=0 if fmt.name == "nt" else 1, quoted=fmt.name == "csv")


def _read_held(stream) -> tuple[list[bytes], bool]:
    """Up to HOLD_BYTES (and the piece that passes it); whether the answer ended there."""
    held: list[bytes] = []
    size = 0
    while size <= HOLD_BYTES:
        piece = stream.read(PIECE)
        if not piece:
            return held, True
        held.append(piece)
        size += len(piece)
    return held, False


def pass_through(stream, kind: str, fmt: ResultFormat, limit: int) -> RemoteAnswer:
    """The remote answer `stream`, already in `fmt`, capped at `limit` rows or triples.

    Same contract as relay_remote: `state['truncated']` is set once `body` is exhausted,
    and an error reading the stream (QueryTimeout, StoreUnavailable) is raised from
    `body`, before any byte when it happens within the first HOLD_BYTES."""
    state: dict = {"truncated": None, "rows": 0, "error": None}

    def body() -> Iterator[bytes]:
        try:
            if kind == "boolean":  # one answer, nothing to cap
                while piece := stream.read(PIECE):
                    yield piece
                state.update(truncated=False, rows=1)
                return
            if fmt.name == "json":
                yield from _json(stream, limit, state)
                return
            yield from _counted(stream, fmt, limit, state)
        finally:
            stream.close()

    return RemoteAnswer(fmt.content_type, body(), state, stream)


def _counted(stream, fmt: ResultFormat, limit: int, state: dict) -> Iterator[bytes]:
    counter = _counter(fmt)
    rows = sent = 0
    pending = b""  # the start of a row not yet known to be within the cap
    held, _ = _read_held(stream)
    pieces = iter(held)
    while True:
        piece = next(pieces, None)
        if piece is None:
            piece = stream.read(PIECE)
            if not piece:
                break
        data = pending + piece if pending else piece
        rows, cut, safe = counter.cut(data, len(pending), rows, limit)
        if cut is not None:
            if cut:
                yield data[:cut]
            yield cut_ending(fmt.name, limit, sent + cut >= HOLD_BYTES)
            state.update(truncated=True, rows=rows)
            return
        if safe:
            yield data[:safe]
            sent += safe
        pending = data[safe:]
    if pending and isinstance(counter, _LineRows):
        # a last row without a line break after it (not Oxigraph's output)
        rows, cut, _ = counter.cut(pending + b"\n", len(pending), rows, limit)
        if cut is not None:
            yield cut_ending(fmt.name, limit, sent >= HOLD_BYTES)
            state.update(truncated=True, rows=rows)
            return
    if pending:
        yield pending
    state.update(truncated=False, rows=rows)


def _json(stream, limit: int, state: dict) -> Iterator[bytes]:
    """Oxigraph server's JSON is pyoxigraph's serialiser's: native_results.RowWriter finds
    its rows in the bytes, as it does in the query workers, at any size."""
    out: list[bytes] = []
    writer = RowWriter("json", limit, out.append)
    try:
        while piece := stream.read(PIECE):
            writer.write(piece)
            yield from out
            out.clear()
    except CapReached:  # the cap: nothing more is read
        pass
    writer.finish()
    yield from out
    state.update(truncated=writer.cut, rows=writer.rows)
