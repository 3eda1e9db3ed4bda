"""Counting rows in a remote server's bytes (sparql_passthrough): whatever the pieces the
answer arrives in, the cut is where the relay's would be."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from filmld.sparql_passthrough import pass_through
from filmld.sparql_results import RESULT_FORMATS, write_solutions, write_triples

VALUES = ['"a\\nb, \\"c\\" <result>"', "<urn:x>", '"x\\ty"@en', "UNDEF", "42", '""', '"{{{{ }"']


class _Pieces:
    """An answer that arrives `size` bytes at a time."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.closed = data, size, False

    def read(self, size: int = -1) -> bytes:
        piece, self.data = self.data[:min(size, self.size)], self.data[min(size, self.size):]
        return piece

    def close(self) -> None:
        self.closed = True


def _solutions(rows: int):
    values = " ".join(f"({VALUES[n % len(VALUES)]} {n})" for n in range(rows))
    store = ox.Store()
    return store.query(f"SELECT ?v ?n WHERE {{ VALUES (?v ?n) {{ {values} }} }}")


def _written(fmt: str, rows: int, limit: int) -> tuple[bytes, bool]:
    out: list[bytes] = []
    if fmt == "nt":
        triples = [ox.Triple(ox.NamedNode(f"urn:s{n}"), ox.NamedNode("urn:p"),
                             ox.Literal(f"line\n{n}")) for n in range(rows)]
        _, cut = write_triples(RESULT_FORMATS[fmt], triples, limit, out.append)
    else:
        _, cut = write_solutions(RESULT_FORMATS[fmt], ["v", "n"], _solutions(rows), limit,
                                 out.append)
    return b"".join(out), cut


@pytest.mark.parametrize("size", [1, 2, 7, 64, 1 << 16])
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv", "nt"])
@pytest.mark.parametrize("rows, limit", [(0, 5), (5, 5), (6, 5), (20, 5), (3, 0)])
def test_the_cut_is_the_relays_in_any_pieces(fmt, size, rows, limit):
    whole, _ = _written(fmt, rows, 1000)
    expected, cut = _written(fmt, rows, limit)
    stream = _Pieces(whole, size)
    answer = pass_through(stream, "graph" if fmt == "nt" else "tabular", RESULT_FORMATS[fmt],
                          limit)
    body = b"".join(answer.body)
    assert answer.state["truncated"] is cut
    assert stream.closed
    if fmt == "json":
        assert json.loads(body) == json.loads(expected)
    else:
        assert body.replace(b"\r\n", b"\n").rstrip() == expected.replace(b"\r\n", b"\n").rstrip()


def test_a_boolean_passes_whole():
    stream = _Pieces(b'{"head":{},"boolean":true}', 3)
    answer = pass_through(stream, "boolean", RESULT_FORMATS["json"], 0)
    assert b"".join(answer.body) == b'{"head":{},"boolean":true}'
    assert answer.state["truncated"] is False


@pytest.mark.parametrize("size", [1, 7, 1 << 16])
@pytest.mark.parametrize("rows, limit", [(40, 100), (40, 40), (40, 17), (40, 0)])
def test_oxigraph_json_of_any_size_is_counted_in_its_bytes(monkeypatch, size, rows, limit):
    """Oxigraph server's JSON is pyoxigraph's: its rows are found in the bytes however long
    the answer (here scanned every 100 bytes), empty rows and tricky literals included."""
    import filmld.native_results

    monkeypatch.setattr(filmld.native_results, "SCAN_BYTES", 100)
    values = " ".join("(UNDEF UNDEF)" if n % 5 == 0 else f"({VALUES[n % len(VALUES)]} {n})"
                      for n in range(rows))
    solutions = ox.Store().query(f"SELECT ?v ?n WHERE {{ VALUES (?v ?n) {{ {values} }} }}")
    whole = solutions.serialize(format=ox.QueryResultsFormat.JSON)
    stream = _Pieces(whole, size)
    answer = pass_through(stream, "tabular", RESULT_FORMATS["json"], limit)
    body = b"".join(answer.body)
    bindings = json.loads(body)["results"]["bindings"]
    assert bindings == json.loads(whole)["results"]["bindings"][:limit]
    assert answer.state["truncated"] is (rows > limit)
    assert stream.closed
