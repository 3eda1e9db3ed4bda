"""The command line, as an operator uses it: one clear line and an exit code on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import filmld_env

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, tmp_path: Path, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmld", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120,
                          env=filmld_env(store=str(tmp_path / "store"), **settings))


def test_validate_curated_data_conforms(tmp_path):
    files = sorted(str(p) for p in (ROOT / "data").glob("*.ttl"))
    result = run("validate", *files, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Conforms" in result.stdout


def test_validate_reports_violations_with_exit_1(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix schema: <https://schema.org/> .\n'
                   '<id/film/x> a schema:Movie .\n')
    result = run("validate", str(bad), tmp_path=tmp_path)
    assert result.returncode == 1
    assert "Does not conform" in result.stdout
    assert "http://127.0.0.1:8000/id/film/x" in result.stdout


def test_validate_syntax_error_names_file_line_and_column(tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text('@prefix schema: <https://schema.org/> .\n<a> schema:name "open .\n')
    result = run("validate", str(bad), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "broken.ttl" in result.stderr and "line 2" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (("validate", "missing.ttl"), "missing.ttl: no such file"),
    (("validate", "notes.txt"), "unknown RDF format"),
    (("dump", "--format", "docx"), "unknown format"),
    (("query", "SELECT * WHERE { ?s ?p "), "line 1, column"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("hello")
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_query_prints_table_and_json(tmp_path):
    query = ("SELECT ?name WHERE { ?film a <https://schema.org/Movie> ; "
             "<https://schema.org/name> ?name }")
    table = run("query", query, tmp_path=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "name" in table.stdout.splitlines()[0] and "Mask" in table.stdout
    as_json = run("query", query, "--format", "json", tmp_path=tmp_path)
    assert {"name": "Mask"} in json.loads(as_json.stdout)


def test_dump_is_parseable_turtle_with_the_film(tmp_path):
    import rdflib

    result = run("dump", "--format", "ttl", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    graph = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert (rdflib.URIRef("http://127.0.0.1:8000/id/film/mask-1985"), rdflib.RDF.type,
            rdflib.URIRef("https://schema.org/Movie")) in graph


def test_get_answers_one_request_in_process(tmp_path):
    result = run("get", "-i", "/id/film/mask-1985.ttl", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP 200")
    assert "text/turtle" in result.stdout


def test_base_url_setting_changes_every_minted_iri(tmp_path):
    result = run("get", "/id/film/mask-1985.nt", "--base-url", "https://films.example/",
                 tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "<https://films.example/id/film/mask-1985>" in result.stdout
    assert "127.0.0.1:8000" not in result.stdout
