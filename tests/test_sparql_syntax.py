"""Checking syntax never evaluates: no SERVICE call, no store, line and column on errors."""

from __future__ import annotations

import pytest

from filmld.errors import BadRequest, SyntaxProblem
from filmld.sparql_syntax import check_query


def test_valid_query_gives_its_shape():
    assert check_query("PREFIX s: <https://schema.org/> SELECT ?n { ?f s:name ?n }").kind == \
        "tabular"
    assert check_query("DESCRIBE <http://e/x>").kind == "graph"


def test_syntax_error_has_line_and_column():
    with pytest.raises(SyntaxProblem) as caught:
        check_query("SELECT * WHERE {\n  ?s ?p }")
    assert caught.value.line == 2 and caught.value.column is not None
    assert "line 2" in caught.value.message


def test_service_is_refused_without_any_connection():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.3)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(BadRequest):
            check_query(f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}")
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_updates_are_refused():
    with pytest.raises(BadRequest, match="read-only"):
        check_query("CLEAR ALL")
