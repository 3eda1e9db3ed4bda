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
                          text=True, cwd=tmp_path, timeout=120, check=False,
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
    answer = json.loads(as_json.stdout)  # SPARQL 1.1 Query Results JSON
    assert answer["head"]["vars"] == ["name"]
    assert {"type": "literal", "value": "Mask", "xml:lang": "en"} in \
        [b["name"] for b in answer["results"]["bindings"]]


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


# -- the store and its base IRI ---------------------------------------------------------------
def test_a_new_base_drops_the_graphs_of_the_old_one(tmp_path):
    first = run("dump", "--format", "nq", tmp_path=tmp_path)
    assert "<http://127.0.0.1:8000/graph/curated>" in first.stdout
    second = run("dump", "--format", "nq", "--base-url", "https://films.example/",
                 tmp_path=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "<https://films.example/graph/curated>" in second.stdout
    assert "127.0.0.1:8000" not in second.stdout  # no doubled data under the old IRIs
    assert "dropped 2 graph(s) of another base IRI" in second.stderr


# -- filmld query: the endpoint's policy and dataset, the standard result formats ------------
ONTOLOGY_COUNT = ("SELECT (COUNT(*) AS ?n) FROM <http://127.0.0.1:8000/graph/ontology> "
                  "WHERE { ?s ?p ?o }")


def test_query_from_reads_only_the_named_graph_as_the_endpoint_does(tmp_path, app):
    from filmld.web.sparql import close_query_pool

    (tmp_path / "cli").mkdir()  # a store of its own: the app holds tmp_path/store
    cli = run("query", ONTOLOGY_COUNT, "--format", "json", tmp_path=tmp_path / "cli")
    assert cli.returncode == 0, cli.stderr
    try:
        endpoint = app.test_client().get(
            "/sparql", query_string={"query": ONTOLOGY_COUNT},
            headers={"Accept": "application/sparql-results+json"}).get_json()
    finally:
        close_query_pool(app)
    assert json.loads(cli.stdout) == endpoint


@pytest.mark.parametrize("query, message", [
    ("SELECT * FROM <http://example.org/x> WHERE { ?s ?p ?o }",
     "FROM names <http://example.org/x>, which is not a graph of this dataset"),
    ("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
     "SERVICE (line 1, column 18) would make this server query another one"),
    ("SELECT * WHERE { ?s foo:p ?o }", "undeclared prefix 'foo:'"),
    ("SELECT * WHERE {\n ?s ?p }", "at line 2, column"),
])
def test_query_refusals_and_syntax_errors_are_one_line_exit_2(tmp_path, query, message):
    result = run("query", query, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


NOTHING = "SELECT ?a ?b WHERE { ?a a <http://example.org/Nothing> }"


def test_query_csv_is_sparql_csv_with_every_projected_variable(tmp_path):
    result = run("query", NOTHING, "--format", "csv", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a,b\n"  # CRLF on the wire; text mode shows \n
    raw = subprocess.run([sys.executable, "-m", "filmld", "query", NOTHING, "--format", "csv"],
                         capture_output=True, cwd=tmp_path, timeout=120, check=False,
                         env=filmld_env(store=str(tmp_path / "store")))
    assert raw.stdout == b"a,b\r\n"


def test_query_table_shows_the_header_and_says_no_rows(tmp_path):
    result = run("query", NOTHING, tmp_path=tmp_path)
    assert result.stdout.splitlines() == ["a  b", "-  -", "(no rows)"]


@pytest.mark.parametrize("fmt, expected", [
    ("table", "true\n"), ("csv", "true\n"), ("json", '{"head":{},"boolean":true}\n'),
])
def test_ask_prints_a_boolean(tmp_path, fmt, expected):
    result = run("query", "ASK { ?s ?p ?o }", "--format", fmt, tmp_path=tmp_path)
    assert result.stdout == expected


def test_query_tsv_and_xml_are_sparql_results(tmp_path):
    query = "SELECT ?s WHERE { ?s a <https://schema.org/Movie> }"
    tsv = run("query", query, "--format", "tsv", tmp_path=tmp_path)
    assert tsv.stdout.splitlines() == ["?s", "<http://127.0.0.1:8000/id/film/mask-1985>"]
    xml = run("query", query, "--format", "xml", tmp_path=tmp_path)
    assert '<sparql xmlns="http://www.w3.org/2005/sparql-results#">' in xml.stdout
    assert "<uri>http://127.0.0.1:8000/id/film/mask-1985</uri>" in xml.stdout


@pytest.mark.parametrize("fmt, marker", [
    ("nt", ("<http://127.0.0.1:8000/id/person/cher> "
            "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Person> .")),
    ("ttl", "schema:Person"), ("jsonld", '"@graph"'), ("rdf", "<rdf:RDF"),
])
def test_construct_prints_rdf(tmp_path, fmt, marker):
    query = "CONSTRUCT WHERE { <http://127.0.0.1:8000/id/person/cher> a ?type }"
    result = run("query", query, "--format", fmt, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout


@pytest.mark.parametrize("query, fmt, message", [
    ("ASK { ?s ?p ?o }", "ttl", "--format ttl does not fit an ASK query"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "csv", "--format csv does not fit a CONSTRUCT"),
    ("SELECT * WHERE { ?s ?p ?o }", "nt", "--format nt does not fit a SELECT query"),
])
def test_a_format_that_does_not_fit_the_query_is_exit_2(tmp_path, query, fmt, message):
    result = run("query", query, "--format", fmt, tmp_path=tmp_path)
    assert result.returncode == 2 and message in result.stderr
