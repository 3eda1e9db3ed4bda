"""Checking SPARQL syntax, with the line and column of the first error."""

from __future__ import annotations

import re

import pyoxigraph as ox

from filmld.errors import SyntaxProblem

_POSITION = re.compile(r"error at (\d+):(\d+): ?(.*)", re.S)


def check_query(sparql: str) -> None:
    """Raise SyntaxProblem (with line and column) unless `sparql` is a valid query."""
    try:
        ox.Store().query(sparql)
    except SyntaxError as error:
        text = str(error)
        match = _POSITION.search(text)
        if match:
            raise SyntaxProblem(match.group(3) or "syntax error", line=int(match.group(1)),
                                column=int(match.group(2))) from None
        raise SyntaxProblem(text) from None
