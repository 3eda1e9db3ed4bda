"""The command line: serve, get, query, dump, validate (load and contribute register from
their own modules). Exit codes are decided in one place."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from filmld.config import SETTINGS_HELP, Settings, base_url_problem, from_env, store_problem
from filmld.errors import FilmldError, StoreUnavailable
from filmld.query_output import OUTPUT_FORMATS

OK, FAILED, BAD_INPUT = 0, 1, 2
TRY_LATER = 3  # the server is unreachable, busy (429) or failing (5xx): nothing was wrong


class UsageProblem(Exception):
    """Bad input from the command line: one clear line, exit 2."""


def _settings(args: argparse.Namespace) -> Settings:
    """FILMLD_* settings (checked by from_env), then --base-url and --store, checked here by
    the same rules: nothing is opened or minted with a value that cannot work."""
    settings = from_env()
    overrides = {"base_url": getattr(args, "base_url", None), "store": getattr(args, "store", None)}
    if overrides["base_url"] is not None:
        _check_option("--base-url", overrides["base_url"], _base_url_option_problem)
    if overrides["store"] is not None:
        _check_option("--store", overrides["store"], store_problem)
    return settings.with_overrides(**overrides)


def _check_option(option: str, value: str, problem_of: Callable[[str], str]) -> None:
    problem = problem_of(value)
    if problem:
        raise UsageProblem(f"{option} {value!r}: {problem}")


def _base_url_option_problem(value: str) -> str:
    return base_url_problem(value, ending_in_slash=True)


def _export(settings: Settings) -> None:
    """Hand settings to server worker processes, which read FILMLD_* variables."""
    os.environ["FILMLD_BASE_URL"] = settings.base_url
    os.environ["FILMLD_STORE"] = settings.store


class StoreInUse(UsageProblem):
    """The embedded store is locked (RocksDB's LOCK) by another process."""


def open_checked(settings: Settings, opener: Callable | None = None, *,
                 holder: str = "a running filmld server", hint: str = ""):
    """`opener(settings)` (default: open_dataset), or one clear line when another process
    holds the embedded store: every command that opens the store goes through here."""
    if opener is None:
        from filmld.dataset import open_dataset as opener
    try:
        return opener(settings)
    except OSError as error:
        if "lock" not in str(error).lower():
            raise
        raise StoreInUse(f"the store {settings.store or '.filmld-store'} is in use by "
                         f"{holder}{'; ' + hint if hint else ''}") from None


def _check_store_free(settings: Settings, *, holder: str) -> None:
    """One clear line when another process holds the embedded store, without opening it:
    RocksDB holds an fcntl write lock on DIR/LOCK while a process has the store open."""
    import fcntl

    lock = Path(settings.store or ".filmld-store") / "LOCK"
    if not lock.exists():
        return
    with lock.open("a") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreInUse(f"the store {settings.store or '.filmld-store'} is in use by "
                             f"{holder}") from None
        fcntl.lockf(handle, fcntl.LOCK_UN)


def _check_files_parse(settings: Settings) -> None:
    """A syntax error in ontology/ or data/ as file:line:column, before any worker starts."""
    from filmld.loading import read_folder

    read_folder(settings.ontology_dir, settings.base_url)
    read_folder(settings.data_dir, settings.base_url)


def _check_tokens(settings: Settings) -> None:
    """A malformed tokens setting or file as one line, before any worker starts: not a
    traceback per worker, started again on a remote store (respawn_failed_workers)."""
    from filmld.tokens import Tokens

    Tokens.from_settings(settings)


def _check_host(host: str) -> None:
    """granian listens on an IP address only (a host name such as localhost fails once it has
    started), so anything else is refused here, in one line."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise UsageProblem(f"--host {host!r} is not an IP address this machine can listen on "
                           "(127.0.0.1 for this machine only, 0.0.0.0 or :: for every "
                           "interface)") from None


def _check_port_free(host: str, port: int) -> None:
    """Bind the address ourselves first: granian binds with SO_REUSEPORT, so a second server
    on a port a filmld server already has would start and share it silently. SO_REUSEADDR
    only (never SO_REUSEPORT): a listening socket still makes the bind fail."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageProblem(_bind_problem(host, port, error)) from None


def _bind_problem(host: str, port: int, error: OSError) -> str:
    """What a failed bind means to the operator: only a used port is about another server."""
    import errno

    if error.errno == errno.EADDRNOTAVAIL:
        return (f"--host {host!r} is not an address of this machine (127.0.0.1 for this "
                "machine only, 0.0.0.0 or :: for every interface)")
    if error.errno == errno.EACCES:
        return (f"cannot listen on {host}:{port}: permission denied (ports below 1024 need "
                "privileges; choose another --port)")
    return (f"cannot listen on {host}:{port}: {error.strerror or error} (another server, "
            "perhaps filmld, is using it; choose another --port)")


def _own_base(host: str, port: int) -> str:
    """http://HOST:PORT/, with an IPv6 address in brackets (http://::1:8000/ is no IRI)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def cmd_serve(args: argparse.Namespace) -> int:
    from filmld.server import is_remote, serve

    settings = _settings(args)
    if not getattr(args, "base_url", None) and not os.environ.get("FILMLD_BASE_URL"):
        # only an unset base follows host and port: one set to the default's value is meant
        settings = settings.with_overrides(base_url=_own_base(args.host, args.port))
    _check_host(args.host)
    _check_port_free(args.host, args.port)
    if not is_remote(settings):
        # The ordinary start-up errors (store locked, a syntax error in data/) here, as one
        # line, before granian starts. The parent must NOT open the store: granian forks its
        # worker, and a RocksDB opened before a fork leaves the child without its background
        # threads, so the worker's first flush (a contribution's) would wait forever.
        _check_store_free(settings, holder="another filmld process")
        _check_files_parse(settings)
    _check_tokens(settings)
    _export(settings)
    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def cmd_get(args: argparse.Namespace) -> int:
    from filmld.web import create_app

    headers = {}
    for header in args.header or []:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise UsageProblem(f"header must be 'Name: value', not {header!r}")
        headers[name.strip()] = value.strip()
    app = open_checked(_settings(args), create_app)
    response = app.test_client().get(args.path, headers=headers)
    if args.include:
        print(f"HTTP {response.status}")
        for key, value in response.headers.items():
            print(f"{key}: {value}")
        print()
    sys.stdout.buffer.write(response.get_data())
    sys.stdout.flush()
    return OK if response.status_code < 400 else FAILED


def cmd_query(args: argparse.Namespace) -> int:
    from filmld.query_output import choose_output, write_result
    from filmld.sparql import analyse

    settings = _settings(args)
    shape = analyse(args.query, max_length=1_000_000, base=settings.base_url)
    try:
        fmt = choose_output(shape.kind, args.format)
    except ValueError as problem:
        raise UsageProblem(str(problem)) from None
    store = open_checked(settings)
    try:
        result = _evaluate(store, args.query, shape, settings)
        write_result(result, fmt, store.base, sys.stdout.buffer)
        sys.stdout.flush()
    finally:
        store.close()
    return OK


def _evaluate(store, sparql: str, shape, settings: Settings):
    """The query as /sparql evaluates it: the same policy (filmld.sparql: no SERVICE, no
    update, no graph outside the dataset), the same dataset (FROM / FROM NAMED, else the
    union), the same syntax messages with line and column."""
    import pyoxigraph as ox

    from filmld.errors import SyntaxProblem
    from filmld.query_worker import evaluation_options, syntax_error
    from filmld.sparql import allowed_graphs, check_graphs, dataset_options

    graphs = store.graph_names()
    allowed = allowed_graphs(settings.allowed_graphs)
    check_graphs(shape.from_graphs, graphs, allowed, where="FROM")
    check_graphs(shape.from_named, graphs, allowed, where="FROM NAMED")
    options = dict(dataset_options([], [], shape), base_iri=settings.base_url)
    try:
        if hasattr(store, "store"):  # the embedded store: pyoxigraph in this process
            return store.store.query(sparql, **evaluation_options(options))
        answer = store.query_stream(sparql, kind=shape.kind, timeout=settings.query_timeout)
        if shape.kind == "graph":
            return _RemoteTriples(ox.parse(answer, format=ox.RdfFormat.N_TRIPLES))
        return ox.parse_query_results(answer, format=ox.QueryResultsFormat.JSON)
    except SyntaxError as error:
        problem = syntax_error(str(error), sparql)
        raise SyntaxProblem(problem["message"], line=problem.get("line"),
                            column=problem.get("column")) from None


class _RemoteTriples(list):
    """A remote CONSTRUCT's triples, written like pyoxigraph's QueryTriples."""

    def __init__(self, quads) -> None:
        super().__init__(q.triple if hasattr(q, "triple") else q for q in quads)


def cmd_dump(args: argparse.Namespace) -> int:
    from filmld.dataset import open_dataset
    from filmld.formats import rdf_format

    fmt = rdf_format(args.format)
    if fmt is None:
        raise UsageProblem(f"unknown format {args.format!r}; use ttl, nt, nq or jsonld")
    store = open_checked(_settings(args), open_dataset)
    try:
        if fmt.name == "jsonld":
            from filmld.jsonld import compact_jsonld
            from filmld.terms import to_rdflib_graph

            triples = [t for g in store.graph_names() for t in store.graph_triples(g)]
            sys.stdout.buffer.write(compact_jsonld(to_rdflib_graph(triples), store.base))
        else:
            for chunk in store.dump(fmt):
                sys.stdout.buffer.write(chunk)
    finally:
        store.close()
    return OK


def cmd_validate(args: argparse.Namespace) -> int:
    from filmld.formats import rdf_format
    from filmld.loading import read_files
    from filmld.terms import to_rdflib_graph
    from filmld.validation import Validator

    settings = _settings(args)
    paths = [Path(p) for p in args.files]
    for path in paths:
        if path.is_dir():
            raise UsageProblem(f"{path}: is a directory (name the files: {path}/*.ttl)")
        if not path.is_file():
            raise UsageProblem(f"{path}: no such file")
        if (rdf_format(args.format) if args.format else rdf_format(path.name)) is None:
            raise UsageProblem(f"{path}: unknown RDF format (use --format ttl, jsonld or nt)")
    if args.format:
        from filmld.loading import parse

        triples = []
        for path in paths:
            with path.open("rb") as stream:
                triples += [q.triple for q in parse(stream, rdf_format(args.format),
                                                    base=settings.base_url, name=str(path))]
    else:
        triples = read_files(paths, base=settings.base_url)
    validator = Validator.from_settings(settings)
    if args.contribution:
        # The server's check (POST /validate): the files as one contribution, validated
        # with the stored data it touches; the same body checks as over HTTP.
        from filmld.contributions import Contributions
        from filmld.dataset import open_dataset

        store = open_checked(settings, open_dataset, hint="use `filmld contribute FILE "
                             "--dry-run --url <its URL> --token ...`")
        try:
            report = Contributions(store, validator, settings).check(triples)
        finally:
            store.close()
    else:
        report = validator.validate_graph(to_rdflib_graph(triples))
    print(report.text())
    return OK if report.conforms else FAILED


DESCRIPTION = """filmld publishes the film graph as linked data: entity pages, a SPARQL
endpoint, dumps and contributions. Run `filmld COMMAND --help` for a command's options."""

EXIT_CODES = "exit codes: 0 ok, 1 failed or does not conform, 2 bad input, 3 try again later"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def _at_least(minimum: int):
    """An argparse type: a whole number of at least `minimum`, or one line saying why not."""
    def whole_number(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{number} is not {minimum} or more")
        return number
    return whole_number


_not_negative, _positive = _at_least(0), _at_least(1)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Says an option's default when it has one: not "(default: None)" or "(default: False)"
    for options that are simply off or unset."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False:
            return action.help or ""
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filmld", description=DESCRIPTION, epilog=EXIT_CODES)
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")

    def command(name: str, func: Callable, help: str, *,
                dataset: bool = False) -> argparse.ArgumentParser:
        """A subcommand; `dataset=True` gives it --base-url and --store (only commands that
        open the dataset take them)."""
        p = sub.add_parser(name, help=help, description=help,
                           formatter_class=_HelpFormatter)
        p.set_defaults(func=func)
        if dataset:
            # SUPPRESS: no "(default: None)" in the help; unset means the FILMLD_* setting
            p.add_argument("--base-url", default=argparse.SUPPRESS,
                           help=SETTINGS_HELP["base_url"])
            p.add_argument("--store", default=argparse.SUPPRESS, help=SETTINGS_HELP["store"])
        return p

    p = command("serve", cmd_serve, "Serve the dataset over HTTP (granian, a production server).",
                dataset=True)
    p.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    p.add_argument("--port", type=_port, default=8000, help="TCP port to listen on.")
    p.add_argument("--workers", type=_positive, default=1,
                   help="Web worker processes (several need a remote --store).")

    p = command("get", cmd_get, "Answer one HTTP GET in-process and print the body.",
                dataset=True)
    p.add_argument("path")
    p.add_argument("-H", "--header", action="append", help="A request header, 'Name: value'.")
    p.add_argument("-i", "--include", action="store_true", help="Print status and headers too.")

    p = command("query", cmd_query, "Run a SPARQL query over the dataset and print the result.",
                dataset=True)
    p.add_argument("query")
    p.add_argument("--format", choices=list(OUTPUT_FORMATS),
                   help="table, json, csv, tsv or xml for SELECT and ASK (default table); "
                   "ttl, nt, jsonld or rdf for CONSTRUCT and DESCRIBE (default ttl).")

    p = command("dump", cmd_dump, "Write the whole dataset to standard output.", dataset=True)
    p.add_argument("--format", default="ttl", help="ttl, nt, nq or jsonld")

    p = command("validate", cmd_validate, "Validate RDF files against the SHACL shapes.",
                dataset=True)
    p.add_argument("files", nargs="+")
    p.add_argument("--format", help="Format of every file (default: from the extension).")
    p.add_argument("--contribution", action="store_true",
                   help="Validate the files as one contribution to the dataset (--store), "
                   "with the data it touches, as POST /validate does.")
    _register_extensions(command)
    return parser


def _register_extensions(command: Callable) -> None:
    """Commands that live in their own modules (contribute, load) add themselves here."""
    from filmld import cli_extensions

    for register in cli_extensions.REGISTRY:
        register(command)


def one_line(text: str) -> str:
    """A message as one printable line: control characters (from binary input echoed by a
    parser) escaped, never written raw to the terminal."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(text.split()))


def _message(error: FilmldError) -> str:
    """`file:line:column: message` for a syntax error in a file (the form editors and
    compilers use), the error's own message otherwise."""
    from filmld.errors import SyntaxProblem

    if isinstance(error, SyntaxProblem) and error.source and error.line is not None:
        column = f":{error.column}" if error.column is not None else ""
        return f"{error.source}:{error.line}{column}: {error.reason}"
    return error.message


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader stopped early (`| head`): nothing more to say, and nothing on stderr
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return OK
    except UsageProblem as problem:
        print(f"filmld {args.command}: {one_line(str(problem))}", file=sys.stderr)
        return BAD_INPUT
    except FilmldError as error:
        print(f"filmld {args.command}: {one_line(_message(error))}", file=sys.stderr)
        if isinstance(error, StoreUnavailable):
            return TRY_LATER  # nothing was wrong with the command (load's 1 is "not valid")
        return BAD_INPUT if error.status < 500 else FAILED
    except (OSError, ValueError) as error:
        print(f"filmld {args.command}: {one_line(str(error))}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return FAILED
