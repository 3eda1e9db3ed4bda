"""Printing a SPARQL result for `filmld query`: a text table, JSON, CSV or Turtle."""

from __future__ import annotations

import json
from typing import TextIO

from filmld.renderers import render_turtle
from filmld.store import Store


def _cell(term) -> str:
    if term is None:
        return ""
    return term.value


def print_query(store: Store, sparql: str, fmt: str, out: TextIO) -> int:
    from filmld.sparql_syntax import check_query

    check_query(sparql)
    if _is_graph_query(sparql):
        triples = store.construct(sparql)
        out.write(render_turtle(triples, store.base).decode())
        return 0
    if _is_ask(sparql):
        answer = store.ask(sparql)
        out.write(json.dumps({"boolean": answer}) + "\n" if fmt == "json" else f"{answer}\n")
        return 0
    rows = store.select(sparql)
    names = list(dict.fromkeys(k for row in rows for k in row))
    if fmt == "json":
        out.write(json.dumps([{k: _cell(v) for k, v in row.items()} for row in rows],
                             indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(out)
        writer.writerow(names)
        writer.writerows([[_cell(row.get(n)) for n in names] for row in rows])
    else:
        table = [names] + [[_cell(row.get(n)) for n in names] for row in rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(names))]
        for i, r in enumerate(table):
            out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
            if i == 0:
                out.write("  ".join("-" * w for w in widths) + "\n")
    return 0


def _kind(sparql: str) -> str:
    """'select', 'ask' or 'graph', from the policy's reading of the query (never evaluated)."""
    from filmld.sparql import analyse

    kind = analyse(sparql, max_length=1_000_000).kind
    return {"tabular": "select", "boolean": "ask"}.get(kind, kind)


def _is_graph_query(sparql: str) -> bool:
    return _kind(sparql) == "graph"


def _is_ask(sparql: str) -> bool:
    return _kind(sparql) == "ask"
