"""The command line, as an operator uses it: one clear line and an exit code on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from filmld.config import DEFAULT_BASE
from tests.conftest import filmld_env, free_port, start_server

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, tmp_path: Path, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmld", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120, check=False,
                          env=filmld_env(**{"store": str(tmp_path / "store"), **settings}))


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
    assert result.stderr == f"filmld validate: {bad}:2:17: Unexpected end of file\n"


@pytest.mark.parametrize("args", [("load", "films.nt"), ("query", "ASK {}"), ("dump",),
                                  ("serve", "--port", "0")])
def test_an_unreachable_remote_store_is_exit_3_try_again_later(tmp_path, args):
    """It was exit 1, which `filmld load` documents as "the data does not conform"."""
    (tmp_path / "films.nt").write_text(f'<{DEFAULT_BASE}id/x> <https://schema.org/name> "x" .\n')
    if args[0] == "serve":
        args = ("serve", "--port", str(free_port()))
    result = run(*args, tmp_path=tmp_path, store=f"http://127.0.0.1:{free_port()}/query")
    assert result.returncode == 3, result.stderr
    assert "is unavailable (cannot connect" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name, value, message", [
    ("base_url", "ftp://films.example/", "must be an absolute http(s) IRI"),
    ("access_log", "flase", "use true or false"),
    ("page_size", "0", "must be above 0"),
    ("result_limit", "-1", "must be above 0"),
    ("store_timeout", "0", "must be above 0"),
    ("query_memory_mb", "-768", "must be above 0"),
    ("query_timeout", "nan", "not a finite number"),
    ("store_retry_after", "-5", "must not be negative"),
])
def test_a_setting_with_a_bad_value_is_one_clear_line(tmp_path, name, value, message):
    """These were taken as they came: ftp:// IRIs minted (and the store's graphs rebuilt
    under them), access logging silently off, every SPARQL answer empty (result_limit=-1)
    or a 500 (a 1 MiB query process), 503s at once."""
    for args in (("get", "/"), ("serve", "--port", str(free_port()))):
        result = run(*args, tmp_path=tmp_path, **{name: value})
        assert result.returncode == 2, result.stderr
        assert result.stderr == (f"filmld {args[0]}: FILMLD_{name.upper()}={value!r}: "
                                 f"{message}\n")


@pytest.mark.parametrize("fmt", [(), ("--format", "ttl")])
def test_validate_ignores_a_utf8_byte_order_mark(tmp_path, fmt):
    path = tmp_path / "bom.ttl"
    path.write_bytes(b"\xef\xbb\xbf" + (ROOT / "data" / "mask-1985.ttl").read_bytes())
    result = run("validate", str(path), *fmt, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Conforms" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("validate", "missing.ttl"), "missing.ttl: no such file"),
    (("load", "."), ".: is a directory (name the files: ./*.nt)"),
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
    assert "dropped 3 graph(s) of another base IRI" in second.stderr  # curated, ontology, shapes


def test_contributions_of_another_base_are_kept_with_one_warning(tmp_path, caplog):
    import pyoxigraph as ox

    from filmld.config import Settings
    from filmld.dataset import open_dataset

    old = "http://127.0.0.1:8000/"
    store = open_dataset(Settings(store=str(tmp_path / "store"), base_url=old))
    triple = ox.Triple(ox.NamedNode(f"{old}id/person/cher"), ox.NamedNode(f"{old}p"),
                       ox.Literal("x"))
    store.add_graph(f"{old}contributions/c1", [triple])
    store.close()
    store = open_dataset(Settings(store=str(tmp_path / "store"),
                                  base_url="https://films.example/"))
    try:
        assert f"{old}contributions/c1" in store.graph_names()
        assert f"{old}graph/curated" not in store.graph_names()
    finally:
        store.close()
    warnings = [r.getMessage() for r in caplog.records if "minted under another base" in
                r.getMessage()]
    assert warnings == [("1 contribution graph(s) in this store were minted under another "
                         "base IRI and are kept as they are; a store is tied to its base IRI: "
                         "set FILMLD_BASE_URL to keep it stable")]


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


# -- filmld validate and get: one clear line ---------------------------------------------------
def test_validate_a_directory_says_so(tmp_path):
    result = run("validate", str(tmp_path), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"filmld validate: {tmp_path}: is a directory " \
        f"(name the files: {tmp_path}/*.ttl)\n"


def test_validate_binary_garbage_never_echoes_control_bytes(tmp_path):
    garbage = tmp_path / "garbage.nt"
    garbage.write_bytes(b"\x01\x02\x1b[31m\x7f")
    result = run("validate", str(garbage), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"filmld validate: {garbage}:1:1: ")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in result.stderr.rstrip("\n"))
    assert "\\x01" in result.stderr


def test_get_with_a_malformed_header_says_how_to_write_it(tmp_path):
    result = run("get", "/", "-H", "Bogus", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "filmld get: header must be 'Name: value', not 'Bogus'\n"


def test_output_into_a_closed_pipe_exits_quietly(tmp_path):
    dump = subprocess.Popen([sys.executable, "-m", "filmld", "dump", "--format", "nt"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=filmld_env(store=str(tmp_path / "store")))
    dump.stdout.readline()
    dump.stdout.close()  # as `head -1` does
    _, errors = dump.communicate(timeout=120)
    assert dump.returncode == 0
    assert errors == b""


def test_help_lists_every_command_for_users(tmp_path):
    result = run("--help", tmp_path=tmp_path)
    for name in ("serve", "get", "query", "dump", "validate", "contribute", "load"):
        assert f"\n    {name}" in result.stdout
    assert "Exit codes are decided" not in result.stdout
    serve = run("serve", "--help", tmp_path=tmp_path).stdout
    assert "(default: 127.0.0.1)" in serve and "(default: 8000)" in serve
    contribute = run("contribute", "--help", tmp_path=tmp_path).stdout
    assert "--store" not in contribute and "--base-url" not in contribute


@pytest.mark.parametrize("command", ["serve", "get", "query", "dump", "validate", "contribute",
                                     "load"])
def test_help_shows_no_empty_defaults(command, tmp_path):
    text = run(command, "--help", tmp_path=tmp_path).stdout
    assert "(default: None)" not in text and "(default: False)" not in text


# -- filmld serve: ordinary start-up errors are one line, before the server starts -----------
def _serve(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmld", "serve", *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          check=False, env=filmld_env(**settings))


@pytest.mark.parametrize("args, message", [
    (("--base-url", "not-a-url"),
     "filmld serve: --base-url 'not-a-url': must be an absolute http(s) IRI ending in /\n"),
    (("--port", "99999"), "argument --port: 99999 is not a port number (1 to 65535)\n"),
    (("--workers", "0"), "argument --workers: 0 is not 1 or more\n"),
    (("--workers", "two"), "argument --workers: 'two' is not a whole number\n"),
])
def test_serve_refuses_bad_options_in_one_line(tmp_path, args, message):
    result = _serve(tmp_path, *args, store=str(tmp_path / "store"))
    assert result.returncode == 2
    assert result.stderr.endswith(message) and "Traceback" not in result.stderr


def test_serve_names_the_syntax_error_in_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "broken.ttl").write_text('<a> <b> "open .\n')
    result = _serve(tmp_path, "--port", str(free_port()), store=str(tmp_path / "store"),
                    data_dir=str(data))
    assert result.returncode == 2
    assert result.stderr == f"filmld serve: {data / 'broken.ttl'}:1:9: " \
        "Unexpected end of file\n"


def test_a_second_server_on_a_used_port_or_store_refuses_in_one_line(tmp_path):
    """granian binds with SO_REUSEPORT: without the check a second server shares the port."""
    server = start_server(tmp_path)
    try:
        port = server.url.rsplit(":", 1)[1].strip("/")
        (tmp_path / "other").mkdir()
        same_port = _serve(tmp_path, "--port", port, store=str(tmp_path / "other" / "store"))
        assert same_port.returncode == 2
        assert same_port.stderr.startswith(f"filmld serve: cannot listen on 127.0.0.1:{port}: ")
        assert len(same_port.stderr.splitlines()) == 1
        same_store = _serve(tmp_path, "--port", str(free_port()), store=str(server.store))
        assert same_store.returncode == 2
        assert same_store.stderr == (f"filmld serve: the store {server.store} is in use by "
                                     "another filmld process\n")
        assert server.process.poll() is None
    finally:
        server.stop()


@pytest.mark.parametrize("args", [("query", "ASK {}"), ("dump",), ("get", "/id/person/cher.ttl")])
def test_commands_on_a_running_servers_store_say_so(tmp_path, args):
    server = start_server(tmp_path)
    try:
        result = run(*args, tmp_path=tmp_path, store=str(server.store))
    finally:
        server.stop()
    assert result.returncode == 2
    assert result.stderr == (f"filmld {args[0]}: the store {server.store} is in use by a "
                             "running filmld server\n")


# -- option and setting values an operator may get wrong: one line naming both, exit 2 ------
def _one_clear_line(result: subprocess.CompletedProcess, *names: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for name in names:
        assert name in result.stderr, result.stderr


@pytest.mark.parametrize("host, message", [
    ("999.1.1.1", "is not an IP address"),
    ("localhost", "is not an IP address"),  # granian takes IP addresses only
    ("192.0.2.1", "is not an address of this machine"),  # TEST-NET-1, never assigned
])
def test_serve_on_a_host_it_cannot_listen_on_says_so(tmp_path, host, message):
    """999.1.1.1 was "Name or service not known (another server ... is using it; choose
    another --port)"; localhost passed the check and granian failed once started."""
    result = _serve(tmp_path, "--host", host, "--port", str(free_port()),
                    store=str(tmp_path / "store"))
    _one_clear_line(result, f"--host {host!r}", message)
    assert "another --port" not in result.stderr


STORE_MUST_BE = "must be a directory (created if missing) or the http(s) URL of a SPARQL"


@pytest.mark.parametrize("args", [("serve",), ("load", "films.nt"), ("query", "ASK {}"),
                                  ("dump",), ("get", "/"),
                                  ("validate", "--contribution", "films.nt")])
def test_a_store_that_is_a_file_says_what_a_store_must_be(tmp_path, args):
    """It was a raw "[Errno 17] File exists" (and a traceback from serve's worker)."""
    (tmp_path / "films.nt").write_text(f'<{DEFAULT_BASE}id/x> <https://schema.org/name> "x" .\n')
    a_file = tmp_path / "a-file"
    a_file.write_text("not a store")
    if args[0] == "serve":
        args = ("serve", "--port", str(free_port()))
    result = run(*args, "--store", str(a_file), tmp_path=tmp_path)
    _one_clear_line(result, f"--store {str(a_file)!r}", STORE_MUST_BE)
    from_env = run(*args, tmp_path=tmp_path, store=str(a_file))
    _one_clear_line(from_env, f"FILMLD_STORE={str(a_file)!r}", STORE_MUST_BE)


@pytest.mark.parametrize("command", [("load", "films.nt"), ("get", "/"), ("query", "ASK {}"),
                                     ("serve", "--port", "0")])
@pytest.mark.parametrize("value", ["notaurl", "http://exa mple.org/"])
def test_a_bad_base_url_is_named_as_the_base_url(tmp_path, command, value):
    """load blamed --graph ('notaurl/graph/loaded' is not an absolute IRI); get dropped the
    store's graphs first, then failed on an ontology file."""
    (tmp_path / "films.nt").write_text(f'<{DEFAULT_BASE}id/x> <https://schema.org/name> "x" .\n')
    if command[0] == "serve":
        command = ("serve", "--port", str(free_port()))
    result = run(*command, "--base-url", value, tmp_path=tmp_path)
    _one_clear_line(result, f"--base-url {value!r}", "must be an absolute http(s) IRI")
    assert "--graph" not in result.stderr and "dropped" not in result.stderr
    from_env = run(*command, tmp_path=tmp_path, base_url=value)
    _one_clear_line(from_env, f"FILMLD_BASE_URL={value!r}", "must be an absolute http(s) IRI")


@pytest.mark.parametrize("value", ["1", "255"])
def test_a_query_memory_limit_no_worker_can_start_in_is_refused(tmp_path, value):
    """FILMLD_QUERY_MEMORY_MB=1 started, and every SPARQL query a worker evaluates was a 500."""
    for args in (("serve", "--port", str(free_port())), ("get", "/")):
        result = run(*args, tmp_path=tmp_path, query_memory_mb=value)
        _one_clear_line(result, f"FILMLD_QUERY_MEMORY_MB={value!r}", "must be at least 256")


def test_a_query_worker_answers_at_the_smallest_memory_limit_accepted(tmp_path):
    """The minimum is measured (config.MINIMUMS): a worker at it evaluates a real query."""
    from filmld.config import MINIMUMS, Settings
    from filmld.dataset import open_dataset
    from filmld.query_pool import QueryPool, QueryRequest

    store = open_dataset(Settings(store=str(tmp_path / "store")))
    pool = QueryPool(store, workers=1, concurrency=1, timeout=30,
                     memory_mb=MINIMUMS["query_memory_mb"])
    try:
        stream = pool.run(QueryRequest(query="SELECT * WHERE { ?s ?p ?o } ORDER BY ?o",
                                       format="csv", limit=10000, inline=False))
        assert b"mask-1985" in stream.read_all()
    finally:
        pool.close()
        store.close()


def test_serve_on_an_ipv6_address_mints_a_base_iri_with_it_in_brackets():
    """http://::1:8000/ is no IRI: `serve --host ::1` failed on the first ontology file."""
    from filmld.cli import _own_base

    assert _own_base("::1", 8000) == "http://[::1]:8000/"
    assert _own_base("127.0.0.1", 8000) == "http://127.0.0.1:8000/"


def test_load_refuses_a_negative_number_of_violations_to_report(tmp_path):
    """-1 was taken: the load stopped at the first invalid batch and reported nothing."""
    result = run("load", "films.nt", "--validate", "--max-violations", "-1", tmp_path=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.endswith("argument --max-violations: -1 is not 0 or more\n")


@pytest.mark.parametrize("query, fmt, message", [
    ("CONSTRUCT WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o }", "rdf",
     "U+0001, which RDF/XML (XML 1.0) cannot carry"),
    ("CONSTRUCT WHERE { ?s <http://example.org/p/123> ?o }", "rdf",
     "no XML local name"),
    ("SELECT ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o }", "xml",
     "U+0001, which the SPARQL XML results format (XML 1.0)"),
])
def test_query_refuses_xml_that_cannot_carry_the_result(tmp_path, query, fmt, message):
    """As /sparql's 406: XML 1.0 has no way to write U+0001, nor an element named by
    `.../123`; it was printed raw (not well-formed) with exit 0."""
    (tmp_path / "odd.nt").write_text(
        f'<{DEFAULT_BASE}id/person/odd> <http://www.w3.org/2000/01/rdf-schema#label> '
        '"a\\u0001b"@en .\n'
        f'<{DEFAULT_BASE}id/person/odd2> <http://example.org/p/123> "x" .\n')
    assert run("load", "odd.nt", tmp_path=tmp_path).returncode == 0
    result = run("query", query, "--format", fmt, tmp_path=tmp_path)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert result.stdout == ""


def test_query_writes_a_cr_in_xml_as_a_character_reference(tmp_path):
    """A raw CR in XML is read back as LF (XML 1.0 section 2.11): /sparql writes &#13;."""
    (tmp_path / "cr.nt").write_text(f'<{DEFAULT_BASE}id/person/cr> '
                                    '<http://www.w3.org/2000/01/rdf-schema#label> "a\\rb" .\n')
    assert run("load", "cr.nt", tmp_path=tmp_path).returncode == 0
    for query, fmt in [(f"CONSTRUCT WHERE {{ <{DEFAULT_BASE}id/person/cr> ?p ?o }}", "rdf"),
                       (f"SELECT ?o WHERE {{ <{DEFAULT_BASE}id/person/cr> ?p ?o }}", "xml")]:
        result = run("query", query, "--format", fmt, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "a&#13;b" in result.stdout
