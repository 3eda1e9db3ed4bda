"""Bulk loading: RDF files (N-Triples, N-Quads, Turtle, gzip or not) streamed into a store.

Memory stays flat in the input size: files are read in pieces of about 16 MB (N-Triples and
N-Quads, whose lines are statements) or parsed lazily and handed over 100,000 triples at a
time (Turtle and the rest). The only state that grows is the triples holding blank nodes on
the way to a remote store: a server names the blank nodes of each request afresh, so they are
sent together at the end, which keeps each blank node one node.

- Embedded store: pyoxigraph's bulk loader on each piece (no transaction log), then
  `optimize()` once (a fresh store answers 2 to 24 times slower until it runs).
- Remote store: Graph Store Protocol POST of N-Triples pieces where the server offers it,
  otherwise SPARQL Update INSERT DATA in the server's batch size; the graphs are registered
  and the version changed once at the end.
- `--validate`: each batch of whole films (cut where a schema:Movie begins) is validated with
  the store's neighbourhood as context (`Validator.validate_change`), either to report the
  first violations and load nothing, or to load what conforms.
"""

from __future__ import annotations

import gzip
import io
import itertools
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from filmld.errors import BadRequest, SyntaxProblem
from filmld.formats import NQUADS, NTRIPLES, RdfFormat, rdf_format
from filmld.loading import skip_bom
from filmld.store.base import Store

PIECE_BYTES = 16 << 20
PIECE_TRIPLES = 100_000
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MOVIE = "https://schema.org/Movie"
LINE_FORMATS = (NTRIPLES.name, NQUADS.name)


# -- input -----------------------------------------------------------------------------------
@dataclass
class Source:
    """One input file: its format, and how far through it reading has got (for the ETA)."""

    path: Path
    fmt: RdfFormat
    size: int
    raw: IO[bytes] | None = None

    @property
    def position(self) -> int:
        return self.raw.tell() if self.raw is not None and not self.raw.closed else self.size

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The decompressed bytes, streamed; the file is closed on leaving."""
        with self.path.open("rb") as raw:
            self.raw = raw
            if self.path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    yield skip_bom(stream)
            else:
                yield skip_bom(raw)


def source(path: Path, fmt_name: str | None = None) -> Source:
    """A Source, or ValueError naming the file and the problem."""
    if path.is_dir():
        raise ValueError(f"{path}: is a directory (name the files: {path}/*.nt)")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    fmt = rdf_format(fmt_name or path.name)
    if fmt is None or fmt.name not in ("nt", "nq", "ttl", "trig"):
        raise ValueError(f"{path}: cannot tell its format; name it .nt, .nq, .ttl or .trig "
                         "(optionally .gz), or give --format nt|nq|ttl|trig")
    return Source(path, fmt, path.stat().st_size)


def pieces(stream: IO[bytes], size: int = PIECE_BYTES) -> Iterator[bytes]:
    """Line-oriented input in pieces of about `size` bytes, each ending at a line end."""
    rest = b""
    while True:
        data = stream.read(size)
        if not data:
            if rest.strip():
                yield rest if rest.endswith(b"\n") else rest + b"\n"
            return
        data = rest + data
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut]


def parse_stream(stream: IO[bytes], src: Source, base: str) -> Iterator[ox.Quad]:
    """Quads parsed lazily; a syntax error names the file, line and column."""
    try:
        yield from ox.parse(stream, format=src.fmt.oxigraph, base_iri=base)
    except SyntaxError as error:
        raise SyntaxProblem(_message(error), line=error.lineno, column=error.offset,
                            source=str(src.path)) from None
    except (ValueError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as error:
        raise SyntaxProblem(str(error), source=str(src.path)) from None


def _message(error: SyntaxError) -> str:
    text = error.msg or str(error)
    return text.split(": ", 1)[1] if text.startswith("Parser error") and ": " in text else text


def _has_blank(t: ox.Triple | ox.Quad) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


# -- progress --------------------------------------------------------------------------------
@dataclass
class Progress:
    """Triples, triples per second and ETA on stderr: a redrawn line on a terminal, a line
    every 10 s otherwise; silent when `out` is None."""

    total_bytes: int
    out: IO[str] | None = None
    started: float = field(default_factory=time.monotonic)
    triples: int = 0
    done_bytes: int = 0
    _shown: float = 0.0

    def update(self, triples: int, position: int) -> None:
        self.triples += triples
        now = time.monotonic()
        interval = 0.5 if self._tty else 10.0
        if self.out is not None and now - self._shown >= interval:
            self._shown = now
            self._draw(self.done_bytes + position)

    @property
    def _tty(self) -> bool:
        return bool(self.out is not None and getattr(self.out, "isatty", lambda: False)())

    def rate(self) -> float:
        return self.triples / max(time.monotonic() - self.started, 1e-6)

    def _draw(self, position: int) -> None:
        fraction = min(position / self.total_bytes, 1.0) if self.total_bytes else 0.0
        elapsed = time.monotonic() - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0.001 else None
        line = (f"{self.triples:>13,} triples  {self.rate():>9,.0f} triples/s  "
                f"{fraction:6.1%}  ETA {_clock(eta)}")
        if self._tty:
            self.out.write("\r" + line)
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def finish(self) -> None:
        if self.out is not None and self._tty and self._shown:
            self.out.write("\n")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# -- sinks: where the triples go ---------------------------------------------------------------
class Sink:
    """A store being bulk-loaded. `lines` takes N-Triples/N-Quads text, `quads` parsed quads;
    quads in the default graph go to `graph`."""

    def __init__(self, store: Store, graph: str, base: str) -> None:
        self.store, self.graph, self.base = store, graph, base
        self.graphs: set[str] = set()

    def lines(self, data: bytes, fmt: RdfFormat, name: str) -> None:
        self.quads(parse_stream(io.BytesIO(data), Source(Path(name), fmt, 0), self.base))

    def quads(self, quads: Iterable[ox.Quad]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Make the load visible (and fast to query)."""

    def _target(self, quad: ox.Quad) -> ox.NamedNode:
        if isinstance(quad.graph_name, ox.NamedNode):
            return quad.graph_name
        return ox.NamedNode(self.graph)


class EmbeddedSink(Sink):
    """pyoxigraph's bulk loader, piece by piece: no transaction log, memory bounded by the
    piece size (one bulk_load of a whole 2-million-triple file peaked at 1.45 GB)."""

    def __init__(self, store, graph: str, base: str) -> None:
        super().__init__(store, graph, base)
        self.native: ox.Store = store.store  # the EmbeddedStore's pyoxigraph Store

    def lines(self, data: bytes, fmt: RdfFormat, name: str) -> None:
        try:
            self.native.bulk_load(data, format=fmt.oxigraph, base_iri=self.base,
                                  to_graph=ox.NamedNode(self.graph))
        except SyntaxError as error:
            raise SyntaxProblem(_message(error), line=error.lineno, column=error.offset,
                                source=name) from None
        self.graphs.add(self.graph)

    def quads(self, quads: Iterable[ox.Quad]) -> None:
        for chunk in _chunks(quads, PIECE_TRIPLES):
            placed = [q if isinstance(q.graph_name, ox.NamedNode)
                      else ox.Quad(q.subject, q.predicate, q.object, self._target(q))
                      for q in chunk]
            self.graphs.update(q.graph_name.value for q in placed)
            self.native.bulk_extend(placed)

    def finish(self) -> None:
        self.native.optimize()
        self.native.flush()
        if hasattr(self.store, "_bump"):
            self.store._bump("load")


class RemoteSink(Sink):
    """Graph Store POST of N-Triples pieces (or INSERT DATA batches); blank-node triples
    wait for the end so that each blank node arrives in one request."""

    def __init__(self, store, graph: str, base: str) -> None:
        super().__init__(store, graph, base)
        self.held: dict[str, list[ox.Triple]] = {}
        self.graph_store = bool(store.endpoints.graph_store)

    def lines(self, data: bytes, fmt: RdfFormat, name: str) -> None:
        if fmt.name == NTRIPLES.name and self.graph_store and b"_:" not in data:
            self._register(self.graph)
            try:
                self.store.post_graph_data(self.graph, data, register=False, bulk=True)
            except BadRequest:
                # the server refused the piece: parse it here for the file, line and column
                for _ in parse_stream(io.BytesIO(data), Source(Path(name), fmt, 0), self.base):
                    pass
                raise
        else:
            super().lines(data, fmt, name)

    def _register(self, graph: str) -> None:
        """A graph joins the dataset when its first triples arrive (the next batch is
        validated against what is loaded so far)."""
        if graph not in self.graphs:
            self.graphs.add(graph)
            self.store.register_graphs([graph])

    def quads(self, quads: Iterable[ox.Quad]) -> None:
        for chunk in _chunks(quads, PIECE_TRIPLES):
            by_graph: dict[str, list[ox.Triple]] = {}
            for q in chunk:
                graph = self._target(q).value
                (self.held if _has_blank(q) else by_graph).setdefault(graph, []).append(q.triple)
            for graph, triples in by_graph.items():
                self._send(graph, triples)

    def _send(self, graph: str, triples: list[ox.Triple]) -> None:
        self._register(graph)
        if self.graph_store:
            self.store.post_graph_data(graph, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
                                       register=False, bulk=True, trusted=True)
        else:
            self.store.insert_triples(graph, triples, register=False)

    def finish(self) -> None:
        for graph, triples in self.held.items():
            self._send(graph, triples)  # one request per graph: one blank node scope
        self.held = {}
        self.store.register_graphs(sorted(self.graphs))


def sink_for(store: Store, graph: str, base: str) -> Sink:
    from filmld.store.embedded import EmbeddedStore
    from filmld.store.remote import RemoteStore

    if isinstance(store, EmbeddedStore):
        return EmbeddedSink(store, graph, base)
    if isinstance(store, RemoteStore):
        return RemoteSink(store, graph, base)
    raise TypeError(f"no bulk loader for {type(store).__name__}")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# -- loading ---------------------------------------------------------------------------------
@dataclass
class LoadSummary:
    """What a load did: counts, graphs, time, and (with validation) what was refused."""

    triples: int = 0
    files: int = 0
    seconds: float = 0.0
    graphs: list[str] = field(default_factory=list)
    skipped_triples: int = 0
    violations: list = field(default_factory=list)  # validation.Result, first ones
    invalid_focus_nodes: int = 0
    loaded: bool = True

    @property
    def rate(self) -> float:
        return self.triples / self.seconds if self.seconds else 0.0

    def text(self) -> str:
        if not self.loaded:
            return (f"Not loaded: {self.invalid_focus_nodes} resource(s) do not conform "
                    f"(checked {self.triples:,} triples from {self.files} file(s) in "
                    f"{self.seconds:.1f} s).")
        line = (f"Loaded {self.triples:,} triples from {self.files} file(s) into "
                f"{', '.join(self.graphs) or 'no graph'} in {self.seconds:.1f} s "
                f"({self.rate:,.0f} triples/s).")
        if self.skipped_triples:
            line += (f" Skipped {self.skipped_triples:,} triples of "
                     f"{self.invalid_focus_nodes} resource(s) that do not conform.")
        return line


def load_files(store: Store, sources: list[Source], graph: str, *, base: str,
               progress_out: IO[str] | None = None) -> LoadSummary:
    """Stream every file into the store's `graph` (N-Quads keep their own graph names)."""
    sink = sink_for(store, graph, base)
    progress = Progress(sum(s.size for s in sources), progress_out)
    started = time.monotonic()
    for src in sources:
        with src.open() as stream:
            if src.fmt.name in LINE_FORMATS:
                lines_before = 0  # a piece's line numbers start at 1: the file's are these more
                for piece in _safe_pieces(stream, src):
                    try:
                        if src.fmt.name == NQUADS.name:
                            sink.quads(parse_stream(io.BytesIO(piece), src, base))
                        else:
                            sink.lines(piece, src.fmt, str(src.path))
                    except SyntaxProblem as problem:
                        if problem.line is None:
                            raise
                        raise SyntaxProblem(problem.reason, line=problem.line + lines_before,
                                            column=problem.column, source=problem.source
                                            ) from None
                    lines = piece.count(b"\n")
                    lines_before += lines
                    progress.update(lines, src.position)
            else:
                counted = _counting(parse_stream(stream, src, base), progress, src)
                sink.quads(counted)
        progress.done_bytes += src.size
    sink.finish()
    progress.finish()
    return LoadSummary(triples=progress.triples, files=len(sources),
                       seconds=time.monotonic() - started, graphs=sorted(sink.graphs))


def _safe_pieces(stream: IO[bytes], src: Source) -> Iterator[bytes]:
    try:
        yield from pieces(stream)
    except (EOFError, gzip.BadGzipFile, OSError) as error:
        raise SyntaxProblem(f"cannot read: {error}", source=str(src.path)) from None


def _counting(quads: Iterator[ox.Quad], progress: Progress, src: Source) -> Iterator[ox.Quad]:
    count = 0
    for quad in quads:
        yield quad
        count += 1
        if count == 10_000:
            progress.update(count, src.position)
            count = 0
    progress.update(count, src.position)


# -- validating ------------------------------------------------------------------------------
def film_batches(quads: Iterable[ox.Quad], minimum: int = 5_000, maximum: int = 200_000
                 ) -> Iterator[list[ox.Quad]]:
    """Batches of whole films: cut where a new schema:Movie is typed, once a batch holds
    `minimum` triples; in data without films, cut at `maximum` where the subject changes."""
    batch: list[ox.Quad] = []
    last_subject = None
    for quad in quads:
        starts_film = (quad.predicate.value == RDF_TYPE and quad.object.value == MOVIE)
        if batch and ((starts_film and len(batch) >= minimum)
                      or (len(batch) >= maximum and quad.subject != last_subject)):
            yield batch
            batch = []
        batch.append(quad)
        last_subject = quad.subject
    if batch:
        yield batch


def validate_and_load(store: Store, sources: list[Source], graph: str, *, base: str,
                      validator, mode: str, limit: int = 20,
                      progress_out: IO[str] | None = None) -> LoadSummary:
    """`mode` "report": validate everything first, load only if all conforms, else report
    the first `limit` violations. "skip-invalid": load each batch without the triples of
    the resources that do not conform (the store so far is the context of the next batch)."""
    from filmld.store.embedded import EmbeddedStore

    summary = LoadSummary(files=len(sources))
    started = time.monotonic()
    progress = Progress(sum(s.size for s in sources), progress_out)
    scratch_dir = tempfile.TemporaryDirectory(prefix="filmld-validate-") \
        if mode == "report" else None
    try:
        context = (EmbeddedStore(Path(scratch_dir.name), base=base) if scratch_dir is not None
                   else store)
        sink = sink_for(context, graph, base)
        invalid: set[str] = set()
        for src in sources:
            with src.open() as stream:
                for batch in film_batches(parse_stream(stream, src, base)):
                    kept, bad = _conforming(batch, context, validator,
                                            rounds=1 if mode == "report" else 5)
                    for result in bad:
                        if len(summary.violations) < limit:
                            summary.violations.append(result)
                    invalid |= {r.focus for r in bad}
                    if mode == "report":
                        sink.quads(batch)  # context for the next batches, valid or not
                    else:
                        summary.skipped_triples += len(batch) - len(kept)
                        sink.quads(kept)
                    progress.update(len(batch), src.position)
                    if mode == "report" and len(summary.violations) >= limit:
                        break
            progress.done_bytes += src.size
            if mode == "report" and len(summary.violations) >= limit:
                break
        summary.invalid_focus_nodes = len(invalid)
        if mode == "report":
            context.close()
            if invalid:
                summary.loaded = False
                summary.triples = progress.triples
                summary.seconds = time.monotonic() - started
                progress.finish()
                return summary
            progress.finish()
            loaded = load_files(store, sources, graph, base=base, progress_out=progress_out)
            loaded.files, loaded.seconds = len(sources), time.monotonic() - started
            return loaded
        sink.finish()
        progress.finish()
        summary.triples = progress.triples - summary.skipped_triples
        summary.graphs = sorted(sink.graphs)
        summary.seconds = time.monotonic() - started
        return summary
    finally:
        if scratch_dir is not None:
            scratch_dir.cleanup()


def _conforming(batch: list[ox.Quad], context: Store, validator, rounds: int
                ) -> tuple[list[ox.Quad], list]:
    """The batch without the triples of resources that do not conform, and the violations.

    Dropping a resource can break the ones that link to it (a film whose role is gone), so
    validation repeats on what is kept, up to `rounds` times."""
    kept, violations = batch, []
    for _ in range(rounds):
        report = validator.validate_change(context, [q.triple for q in kept])
        bad = {r.focus for r in report.violations}
        if not bad:
            break
        violations += report.violations
        kept = [q for q in kept if q.subject.value not in bad]
    return kept, violations


def print_violations(summary: LoadSummary, out: IO[str] = sys.stderr,
                     write: Callable[[str], object] | None = None) -> None:
    """The first violations, one block per resource, as `filmld validate` prints them."""
    write = write or out.write
    if not summary.violations:
        return
    write(f"First {len(summary.violations)} violation(s):\n")
    for r in summary.violations:
        where = f" {r.path_label} <{r.path}>" if r.path else ""
        value = f" (value: {r.value})" if r.value is not None else ""
        write(f"  {r.focus_label} <{r.focus}>{where}: {r.message}{value}\n")
