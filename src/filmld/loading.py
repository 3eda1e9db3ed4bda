"""Reading RDF: ontology/, shapes/ and data/ folders, and any RDF input, with file:line errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import rdflib

from filmld.config import DEFAULT_BASE, Settings
from filmld.errors import SyntaxProblem
from filmld.formats import TURTLE, RdfFormat, rdf_format
from filmld.terms import to_rdflib_graph


def parse(source: bytes | IO[bytes], fmt: RdfFormat, *, base: str,
          name: str = "input") -> Iterator[ox.Quad]:
    """Parse RDF lazily; a syntax error becomes SyntaxProblem with the line and column."""
    source = source.removeprefix(BOM) if isinstance(source, bytes) else skip_bom(source)
    try:
        yield from ox.parse(source, format=fmt.oxigraph, base_iri=base)
    except SyntaxError as error:
        raise SyntaxProblem(_parser_message(error), line=error.lineno, column=error.offset,
                            source=name) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise SyntaxProblem(str(error), source=name) from None


BOM = b"\xef\xbb\xbf"


def skip_bom(stream: IO[bytes]) -> IO[bytes]:
    """The stream past a UTF-8 byte order mark at its start (allowed, and meaningless, in
    UTF-8: Unicode 15, 23.8; pyoxigraph's parsers refuse it)."""
    if hasattr(stream, "peek"):
        if stream.peek(3)[:3] == BOM:
            stream.read(3)
    elif stream.seekable():
        start = stream.tell()
        if stream.read(3) != BOM:
            stream.seek(start)
    return stream


def _parser_message(error: SyntaxError) -> str:
    text = error.msg or str(error)
    # "Parser error between line 3 column 9 and line 4 column 1: Unexpected end of file"
    return text.split(": ", 1)[1] if text.startswith("Parser error") and ": " in text else text


def read_files(paths: Iterable[Path], *, base: str) -> list[ox.Triple]:
    """All triples of the given files, each parsed by its extension."""
    triples: list[ox.Triple] = []
    for path in paths:
        fmt = rdf_format(path.name)
        if fmt is None:
            raise SyntaxProblem(f"unknown RDF format of {path.name}", source=str(path))
        with path.open("rb") as stream:
            triples.extend(q.triple for q in parse(stream, fmt, base=base, name=str(path)))
    return triples


def turtle_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ttl"))


def read_folder(folder: Path, base: str = DEFAULT_BASE) -> list[ox.Triple]:
    return read_files(turtle_files(folder), base=base)


def _graph(folder: Path, base: str) -> rdflib.Graph:
    return to_rdflib_graph(read_folder(folder, base))


def read_data(base: str = DEFAULT_BASE, settings: Settings | None = None) -> rdflib.Graph:
    """The curated film graph, as an rdflib Graph (for SHACL and tests)."""
    return _graph((settings or Settings()).data_dir, base)


def read_ontology(base: str = DEFAULT_BASE, settings: Settings | None = None) -> rdflib.Graph:
    return _graph((settings or Settings()).ontology_dir, base)


def read_shapes(base: str = DEFAULT_BASE, settings: Settings | None = None) -> rdflib.Graph:
    return _graph((settings or Settings()).shapes_dir, base)


__all__ = ["TURTLE", "parse", "read_data", "read_files", "read_folder", "read_ontology",
           "read_shapes", "turtle_files"]
