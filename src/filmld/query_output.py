"""Printing a SPARQL result for `filmld query`: the standard serialisations, or a text table.

One registry, one entry per format and the query forms it fits (STYLE.md, "Output formats"):
tabular results and booleans in the SPARQL 1.1 Query Results formats (JSON, CSV, TSV, XML:
https://www.w3.org/TR/sparql11-results-json/, .../sparql11-results-csv-tsv/,
.../rdf-sparql-XMLres/) as pyoxigraph writes them, graphs in RDF formats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import pyoxigraph as ox

from filmld.formats import ALL_FORMATS
from filmld.xml_chars import xml_guard


@dataclass(frozen=True)
class OutputFormat:
    """One `--format` value: the query kinds it fits ('tabular', 'boolean', 'graph') and
    its writer, result -> bytes."""

    name: str
    kinds: frozenset[str]
    write: Callable[[object, list[str], str], bytes]


def _results(fmt: ox.QueryResultsFormat) -> Callable:
    def write(result, names: list[str], base: str) -> bytes:
        data = result.serialize(format=fmt)
        return data if data.endswith(b"\n") else data + b"\n"  # a terminal's last line
    return write


def _table(result, names: list[str], base: str) -> bytes:
    if isinstance(result, ox.QueryBoolean):
        return f"{'true' if result else 'false'}\n".encode()
    rows = [[_cell(solution[name]) for name in names] for solution in result]
    table = [names] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(names))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if not rows:
        lines.append("(no rows)")
    return ("\n".join(lines) + "\n").encode()


def _cell(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _csv(result, names: list[str], base: str) -> bytes:
    if isinstance(result, ox.QueryBoolean):  # SPARQL CSV has no boolean form: say it plainly
        return f"{'true' if result else 'false'}\n".encode()
    return result.serialize(format=ox.QueryResultsFormat.CSV)


def _graph(name: str) -> Callable:
    def write(result, names: list[str], base: str) -> bytes:
        triples = list(result)
        if name == "jsonld":
            from filmld.jsonld import compact_jsonld
            from filmld.terms import to_rdflib_graph

            return compact_jsonld(to_rdflib_graph(triples), base)
        if name == "ttl":
            from filmld.renderers import render_turtle

            return render_turtle(triples, base)
        return ox.serialize(triples, format=ALL_FORMATS[name].oxigraph)
    return write


def _xml(write: Callable, label: str, available: list[str]) -> Callable:
    """`write`, guarded as /sparql guards its XML (filmld.xml_chars): a character XML 1.0
    cannot carry, or an IRI no element name can write, is NotInXml (exit 2, naming the
    formats that can); a CR is written `&#13;`."""
    def guarded(result, names: list[str], base: str) -> bytes:
        out: list[bytes] = []
        xml_guard(out.append, label, available)(write(result, names, base))
        return b"".join(out)
    return guarded


_ANSWERS = frozenset({"tabular", "boolean"})
OUTPUT_FORMATS: dict[str, OutputFormat] = {f.name: f for f in (
    OutputFormat("table", _ANSWERS, _table),
    OutputFormat("json", _ANSWERS, _results(ox.QueryResultsFormat.JSON)),
    OutputFormat("csv", _ANSWERS, _csv),
    OutputFormat("tsv", frozenset({"tabular"}), _results(ox.QueryResultsFormat.TSV)),
    OutputFormat("xml", _ANSWERS, _xml(_results(ox.QueryResultsFormat.XML),
                                       "the SPARQL XML results format",
                                       ["table", "json", "csv", "tsv"])),
    OutputFormat("ttl", frozenset({"graph"}), _graph("ttl")),
    OutputFormat("nt", frozenset({"graph"}), _graph("nt")),
    OutputFormat("jsonld", frozenset({"graph"}), _graph("jsonld")),
    OutputFormat("rdf", frozenset({"graph"}), _xml(_graph("rdf"), "RDF/XML",
                                                   ["ttl", "nt", "jsonld"])),
)}
DEFAULTS = {"tabular": "table", "boolean": "table", "graph": "ttl"}


def choose_output(kind: str, requested: str | None) -> OutputFormat:
    """The format for a query of `kind`; ValueError (a usage problem) when it does not fit."""
    fmt = OUTPUT_FORMATS[requested or DEFAULTS[kind]]
    if kind not in fmt.kinds:
        fits = ", ".join(f.name for f in OUTPUT_FORMATS.values() if kind in f.kinds)
        form = {"tabular": "a SELECT", "boolean": "an ASK", "graph": "a CONSTRUCT or DESCRIBE"}
        raise ValueError(f"--format {fmt.name} does not fit {form[kind]} query; use {fits}")
    return fmt


def write_result(result, fmt: OutputFormat, base: str, out: BinaryIO) -> None:
    names = [v.value for v in result.variables] if isinstance(result, ox.QuerySolutions) else []
    out.write(fmt.write(result, names, base))
