"""`filmld load FILE... [--graph IRI] [--validate[=skip-invalid]]`: bulk load into the store.

Exit codes as everywhere in filmld (cli.py): 0 loaded, 1 not loaded because the data does
not conform (`--validate`), 2 bad input (missing file, unknown format, syntax error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from filmld import cli_extensions
from filmld.cli import FAILED, OK, UsageProblem, _not_negative, _settings, open_checked


def cmd_load(args: argparse.Namespace) -> int:
    from filmld.bulk import load_files, print_violations, source, validate_and_load
    from filmld.store import open_store

    settings = _settings(args)
    try:
        sources = [source(Path(name), args.format) for name in args.files]
    except ValueError as problem:
        raise UsageProblem(str(problem)) from None
    store = open_checked(settings, open_store)
    graph = args.graph or store.graph_iri("loaded")
    try:
        ox.NamedNode(graph)
    except ValueError:
        store.close()
        raise UsageProblem(f"--graph {graph!r} is not an absolute IRI") from None
    progress = None if args.quiet else sys.stderr
    try:
        if args.validate:
            from filmld.validation import Validator

            summary = validate_and_load(store, sources, graph, base=settings.base_url,
                                        validator=Validator.from_settings(settings),
                                        mode=args.validate, limit=args.max_violations,
                                        progress_out=progress)
        else:
            summary = load_files(store, sources, graph, base=settings.base_url,
                                 progress_out=progress)
    finally:
        store.close()
    print_violations(summary, sys.stderr)
    print(summary.text(), file=sys.stderr)
    return OK if summary.loaded else FAILED


def register(command: Callable) -> None:
    p = command("load", cmd_load,
                "Bulk-load RDF files (N-Triples, N-Quads, Turtle, TriG; .gz too) into the store, "
                "streamed.", dataset=True)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--graph", help="Graph IRI for the triples (default: {base}graph/loaded; "
                   "N-Quads keep their own graph names).")
    p.add_argument("--format", help="Format of every file: nt, nq, ttl or trig "
                   "(default: from the extension).")
    p.add_argument("--validate", nargs="?", const="report", choices=["report", "skip-invalid"],
                   help="Validate against the shapes: alone (or =report), report the first "
                   "violations and load nothing unless all conforms; =skip-invalid, load what "
                   "conforms and report the rest.")
    p.add_argument("--max-violations", type=_not_negative, default=20,
                   help="How many violations to report.")
    p.add_argument("-q", "--quiet", action="store_true", help="No progress line.")


cli_extensions.REGISTRY.append(register)
