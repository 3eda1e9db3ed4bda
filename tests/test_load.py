"""`filmld load`: streamed bulk load of N-Triples, N-Quads and Turtle (gzip or not) into the
embedded and the remote store, with progress, a summary and optional validation."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.generate_films import generate
from filmld.bulk import film_batches, pieces
from filmld.cli import main
from filmld.store.embedded import EmbeddedStore
from filmld.store.remote import RemoteStore
from tests.conftest import OxigraphServer, filmld_env

BASE = "http://127.0.0.1:8000/"
LOADED = BASE + "graph/loaded"
SCHEMA = "https://schema.org/"


@pytest.fixture(params=["embedded", "oxigraph"])
def target(request, tmp_path: Path) -> str:
    """The --store argument of either backend, empty."""
    if request.param == "embedded":
        return str(tmp_path / "store")
    server: OxigraphServer = request.getfixturevalue("oxigraph_server")
    server.clear()
    return server.url


def open_target(target: str):
    if target.startswith("http"):
        return RemoteStore(target, base=BASE)
    return EmbeddedStore(target, base=BASE)


def count(target: str, where: str = "?s ?p ?o") -> int:
    store = open_target(target)
    try:
        rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0]["n"].value)
    finally:
        store.close()


def films_file(tmp_path: Path, films: int = 30, name: str = "films.nt") -> tuple[Path, int]:
    text = "".join(generate(films, 5)).encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    return path, text.count(b"\n")


def run(*args: str) -> int:
    return main(["load", *args])


@pytest.mark.parametrize("name", ["films.nt", "films.nt.gz"])
def test_n_triples_load_into_the_loaded_graph(target: str, tmp_path: Path, name: str, capsys):
    path, lines = films_file(tmp_path, name=name)
    assert run(str(path), "--store", target) == 0
    assert count(target, f"GRAPH <{LOADED}> {{ ?s ?p ?o }}") == lines
    assert count(target, f"?f a <{SCHEMA}Movie>") == 30
    err = capsys.readouterr().err
    assert f"Loaded {lines:,} triples from 1 file(s) into {LOADED}" in err
    assert "triples/s" in err


def test_graph_option_and_several_files(target: str, tmp_path: Path):
    one, a = films_file(tmp_path, 5, "one.nt")
    two = tmp_path / "two.ttl"
    two.write_text('@prefix s: <https://schema.org/> .\n<id/film/x> s:name "X"@en .\n')
    graph = BASE + "graph/festival"
    assert run(str(one), str(two), "--graph", graph, "--store", target, "-q") == 0
    assert count(target, f"GRAPH <{graph}> {{ ?s ?p ?o }}") == a + 1
    assert count(target, f"<{BASE}id/film/x> ?p ?o") == 1  # relative IRIs: the base


def test_n_quads_keep_their_graph_names(target: str, tmp_path: Path):
    path = tmp_path / "data.nq.gz"
    path.write_bytes(gzip.compress(
        b'<http://127.0.0.1:8000/id/a> <https://schema.org/name> "a" '
        b'<http://127.0.0.1:8000/graph/one> .\n'
        b'<http://127.0.0.1:8000/id/b> <https://schema.org/name> "b" .\n'))
    assert run(str(path), "--store", target, "-q") == 0
    store = open_target(target)
    try:
        assert set(store.graph_names()) >= {BASE + "graph/one", LOADED}
        assert len(store.graph_triples(BASE + "graph/one")) == 1
        assert len(store.graph_triples(LOADED)) == 1
    finally:
        store.close()


def test_turtle_blank_nodes_stay_one_node(target: str, tmp_path: Path):
    path = tmp_path / "nested.ttl"
    path.write_text('@prefix s: <https://schema.org/> .\n'
                    '<id/x> s:address [ s:name "a" ; s:geo [ s:name "g" ] ] .\n'
                    '_:p s:knows _:q . _:q s:name "q" .\n')
    assert run(str(path), "--store", target, "-q") == 0
    store = open_target(target)
    try:
        rows = store.select(f"SELECT ?v WHERE {{ <{BASE}id/x> <{SCHEMA}address>/<{SCHEMA}geo>/"
                            f"<{SCHEMA}name> ?v }}")
        assert [r["v"].value for r in rows] == ["g"]
        assert len(store.select(f"SELECT ?v WHERE {{ ?p <{SCHEMA}knows>/<{SCHEMA}name> ?v }}")) == 1
    finally:
        store.close()


def test_a_remote_load_changes_the_version_other_workers_see(oxigraph_server: OxigraphServer,
                                                             tmp_path: Path):
    oxigraph_server.clear()
    worker = RemoteStore(oxigraph_server.url, base=BASE)
    before = worker.version()
    path, _ = films_file(tmp_path, 3)
    assert run(str(path), "--store", oxigraph_server.url, "-q") == 0
    assert worker.version() != before
    assert LOADED in worker.graph_names()


def test_a_syntax_error_names_the_file_and_line_and_exits_2(target: str, tmp_path: Path, capsys):
    path = tmp_path / "bad.ttl"
    path.write_text('@prefix s: <https://schema.org/> .\n<id/x> s:name "x" .\n<id/y> s:name .\n')
    assert run(str(path), "--store", target, "-q") == 2
    err = capsys.readouterr().err
    assert "bad.ttl:3:" in err  # file:line:column


@pytest.mark.parametrize("name", ["bad.nt", "bad.nq"])
def test_a_line_format_syntax_error_names_the_file_line_and_column(target: str, tmp_path: Path,
                                                                    name: str, capsys):
    """N-Triples went to pyoxigraph's bulk loader or the server's Graph Store unparsed: the
    error had no line (embedded) or no file (remote), and a piece's lines counted from 1."""
    graph = " <http://127.0.0.1:8000/graph/g>" if name.endswith(".nq") else ""
    good = "".join(f'<{BASE}id/x{i}> <{SCHEMA}name> "{"x" * 100}"{graph} .\n'
                   for i in range(170_000))  # over 16 MB: the error is in the second piece
    path = tmp_path / name
    path.write_text(good + f'<{BASE}id/y> <{SCHEMA}name> ;{graph} .\n')
    assert run(str(path), "--store", target, "-q") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"filmld load: {path}:170001:"), err


@pytest.mark.parametrize("name", ["bom.nt", "bom.nq", "bom.ttl", "bom.nt.gz"])
def test_a_utf8_byte_order_mark_is_ignored(target: str, tmp_path: Path, name: str):
    """Files saved by some editors start with one; it was a syntax error at 1:1."""
    graph = f" <{LOADED}>" if ".nq" in name else ""
    text = b"\xef\xbb\xbf" + f'<{BASE}id/x> <{SCHEMA}name> "x"{graph} .\n'.encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    assert run(str(path), "--store", target, "-q") == 0
    assert count(target, f"GRAPH <{LOADED}> {{ <{BASE}id/x> ?p ?o }}") == 1


@pytest.mark.parametrize(("args", "message"), [
    (["missing.nt"], "no such file"),
    (["data.csv"], "cannot tell its format"),
])
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path, capsys, args, message):
    (tmp_path / "data.csv").write_text("a,b\n")
    code = run(*[str(tmp_path / a) for a in args], "--store", str(tmp_path / "store"))
    assert code == 2
    assert message in capsys.readouterr().err


def test_an_embedded_store_in_use_is_a_clear_error(tmp_path: Path):
    path, _ = films_file(tmp_path, 2)
    holder = EmbeddedStore(tmp_path / "store", base=BASE)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "filmld", "load", str(path), "--store",
             str(tmp_path / "store"), "-q"], capture_output=True, text=True, timeout=60,
            env=filmld_env(), check=False)
    finally:
        holder.close()
    assert result.returncode == 2
    assert "is in use by a running filmld server" in result.stderr
    assert "Traceback" not in result.stderr


# -- validation ------------------------------------------------------------------------------
def broken_films(tmp_path: Path) -> tuple[Path, int]:
    """Ten films where one role has no actor (a violation of PerformanceRole-actor)."""
    lines = "".join(generate(10, 2)).splitlines()
    role = next(line.split()[0] for line in lines
                if line.split()[2] == f"<{SCHEMA}PerformanceRole>")
    kept = [line for line in lines
            if not (line.startswith(role) and f"<{SCHEMA}actor>" in line.split()[1])]
    path = tmp_path / "broken.nt"
    path.write_text("\n".join(kept) + "\n")
    return path, len(kept)


def test_validate_reports_the_first_violations_and_loads_nothing(target: str, tmp_path: Path,
                                                                 capsys):
    path, _ = broken_films(tmp_path)
    assert run(str(path), "--validate", "--store", target, "-q") == 1
    err = capsys.readouterr().err
    assert "Not loaded" in err and "actor" in err
    assert count(target) == 0


def test_validate_loads_data_that_conforms(target: str, tmp_path: Path):
    path, lines = films_file(tmp_path, 8)
    assert run(str(path), "--validate", "--store", target, "-q") == 0
    assert count(target, f"GRAPH <{LOADED}> {{ ?s ?p ?o }}") == lines


def test_validate_skip_invalid_loads_what_conforms(target: str, tmp_path: Path, capsys):
    path, lines = broken_films(tmp_path)
    assert run(str(path), "--validate=skip-invalid", "--store", target, "-q") == 0
    err = capsys.readouterr().err
    assert "Skipped" in err
    loaded = count(target, f"GRAPH <{LOADED}> {{ ?s ?p ?o }}")
    assert lines - 200 < loaded < lines
    # Nothing loaded links to a role that was left out.
    assert count(target, f"?f <{SCHEMA}actor> ?r . FILTER NOT EXISTS {{ ?r ?p ?o }}") == 0


# -- pieces ----------------------------------------------------------------------------------
def test_pieces_end_at_line_ends_and_lose_nothing():
    import io

    text = b"".join(b"line %d\n" % i for i in range(1000)) + b"last without newline"
    chunks = list(pieces(io.BytesIO(text), size=100))
    assert all(c.endswith(b"\n") for c in chunks)
    assert b"".join(chunks) == text + b"\n"


def test_validation_batches_are_whole_films():
    quads = [q for q in ox.parse("".join(generate(40, 1)).encode(),
                                 format=ox.RdfFormat.N_TRIPLES)]
    batches = list(film_batches(quads, minimum=500))
    assert len(batches) > 3
    assert sum(map(len, batches)) == len(quads)
    for batch in batches[1:]:
        first = batch[0]
        assert first.predicate.value.endswith("#type") and first.object.value == SCHEMA + "Movie"
