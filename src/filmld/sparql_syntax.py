"""Checking SPARQL syntax without evaluating anything, with the line and column of the error.

Evaluating a query to see whether it parses (the old approach: run it on an empty store)
would execute SERVICE, which connects out. Here the policy (filmld.sparql) runs first, then a
real parse by rdflib's SPARQL grammar, which builds a syntax tree and never evaluates. The
endpoint does not use this: its worker processes report pyoxigraph's own syntax errors.
"""

from __future__ import annotations

from filmld.errors import SyntaxProblem
from filmld.sparql import QueryShape, analyse


def check_query(sparql: str, *, max_length: int = 1_000_000) -> QueryShape:
    """The query's shape; SyntaxProblem (with line and column) unless `sparql` is a valid,
    read-only query that names nothing outside the dataset (BadRequest from the policy)."""
    shape = analyse(sparql, max_length=max_length)
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parseQuery(sparql)
    except ParseBaseException as error:
        raise SyntaxProblem(error.msg or "syntax error", line=error.lineno,
                            column=error.col) from None
    except RecursionError:
        raise SyntaxProblem("the query nests too deeply to parse") from None
    return shape
