"""The command line: serve, get, query, dump, validate. Exit codes are decided in one place."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from filmld.config import SETTINGS_HELP, Settings, from_env
from filmld.errors import FilmldError

OK, FAILED, BAD_INPUT = 0, 1, 2
TRY_LATER = 3  # the server is unreachable, busy (429) or failing (5xx): nothing was wrong


class UsageProblem(Exception):
    """Bad input from the command line: one clear line, exit 2."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = from_env()
    overrides = {"base_url": getattr(args, "base_url", None), "store": getattr(args, "store", None)}
    return settings.with_overrides(**overrides)


def _export(settings: Settings) -> None:
    """Hand settings to server worker processes, which read FILMLD_* variables."""
    os.environ["FILMLD_BASE_URL"] = settings.base_url
    os.environ["FILMLD_STORE"] = settings.store


def cmd_serve(args: argparse.Namespace) -> int:
    from filmld.server import serve

    settings = _settings(args)
    if not getattr(args, "base_url", None) and settings.base_url == Settings().base_url:
        settings = settings.with_overrides(base_url=f"http://{args.host}:{args.port}/")
    _export(settings)
    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def cmd_get(args: argparse.Namespace) -> int:
    from filmld.web import create_app

    app = create_app(_settings(args))
    headers = dict(h.split(":", 1) for h in args.header or [])
    response = app.test_client().get(args.path, headers={k.strip(): v.strip()
                                                         for k, v in headers.items()})
    if args.include:
        print(f"HTTP {response.status}")
        for key, value in response.headers.items():
            print(f"{key}: {value}")
        print()
    sys.stdout.buffer.write(response.get_data())
    sys.stdout.flush()
    return OK if response.status_code < 400 else FAILED


def cmd_query(args: argparse.Namespace) -> int:
    from filmld.dataset import open_dataset
    from filmld.query_output import print_query

    store = open_dataset(_settings(args))
    try:
        return print_query(store, args.query, args.format, sys.stdout)
    finally:
        store.close()


def cmd_dump(args: argparse.Namespace) -> int:
    from filmld.dataset import open_dataset
    from filmld.formats import rdf_format

    fmt = rdf_format(args.format)
    if fmt is None:
        raise UsageProblem(f"unknown format {args.format!r}; use ttl, nt, nq or jsonld")
    store = open_dataset(_settings(args))
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


def _open_for_validation(settings: Settings, open_dataset: Callable):
    """The store, or one clear line when a running server holds it (RocksDB's lock)."""
    try:
        return open_dataset(settings)
    except OSError as error:
        if "lock" not in str(error).lower():
            raise
        raise UsageProblem(f"the store {settings.store} is in use by a running server; use "
                           "`filmld contribute FILE --dry-run --url <its URL> --token ...`") \
            from None


def cmd_validate(args: argparse.Namespace) -> int:
    from filmld.formats import rdf_format
    from filmld.loading import read_files
    from filmld.terms import to_rdflib_graph
    from filmld.validation import Validator

    settings = _settings(args)
    paths = [Path(p) for p in args.files]
    for path in paths:
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

        store = _open_for_validation(settings, open_dataset)
        try:
            report = Contributions(store, validator, settings).check(triples)
        finally:
            store.close()
    else:
        report = validator.validate_graph(to_rdflib_graph(triples))
    print(report.text())
    return OK if report.conforms else FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filmld", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("--base-url", help=SETTINGS_HELP["base_url"])
        p.add_argument("--store", help=SETTINGS_HELP["store"])
        return p

    p = command("serve", cmd_serve, "Serve the dataset over HTTP (granian, a production server).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1,
                   help="Web worker processes (several need a remote --store).")

    p = command("get", cmd_get, "Answer one HTTP GET in-process and print the body.")
    p.add_argument("path")
    p.add_argument("-H", "--header", action="append", help="A request header, 'Name: value'.")
    p.add_argument("-i", "--include", action="store_true", help="Print status and headers too.")

    p = command("query", cmd_query, "Run a SPARQL query over the dataset and print the result.")
    p.add_argument("query")
    p.add_argument("--format", default="table", choices=["table", "json", "csv", "ttl"])

    p = command("dump", cmd_dump, "Write the whole dataset to standard output.")
    p.add_argument("--format", default="ttl", help="ttl, nt, nq or jsonld")

    p = command("validate", cmd_validate, "Validate RDF files against the SHACL shapes.")
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageProblem as problem:
        print(f"filmld {args.command}: {problem}", file=sys.stderr)
        return BAD_INPUT
    except FilmldError as error:
        print(f"filmld {args.command}: {error.message}", file=sys.stderr)
        return BAD_INPUT if error.status < 500 else FAILED
    except (OSError, ValueError) as error:
        print(f"filmld {args.command}: {error}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        return FAILED
