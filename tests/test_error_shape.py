"""Every error has one JSON shape, the one `filmld.errors.error_body` builds (Datasette's
`error_body` idea), whatever raised it: our views, routing, methods, negotiation, limits."""

from __future__ import annotations

import pytest

from filmld.config import Settings
from filmld.errors import NotFound, error_body
from filmld.web import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def assert_error_shape(response, status: int) -> dict:
    """The one helper every error response is checked with."""
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.get_json()
    reference = error_body(NotFound("reference")).as_dict()
    assert set(body) == set(reference) == {"error"}
    error = body["error"]
    assert set(reference["error"]) <= set(error)
    assert error["status"] == status
    assert isinstance(error["title"], str) and error["title"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return error


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    app = create_app(Settings(store=str(tmp_path_factory.mktemp("errors") / "store"),
                              max_body_bytes=1000))
    yield app
    app.extensions["filmld.store"].close()


@pytest.mark.parametrize("method, path, headers, data, status", [
    ("GET", "/id/person/nobody", {}, None, 404),
    ("GET", "/id/person/nobody.jsonld", {}, None, 404),
    ("GET", "/no/such/route", {}, None, 404),
    ("GET", "/ontology/NoSuchTerm", {}, None, 404),
    ("GET", "/dataset.docx", {}, None, 404),
    ("POST", "/id/person/cher", {}, b"x", 405),
    ("DELETE", "/id/person/cher.ttl", {}, None, 405),
    ("PUT", "/", {}, b"x", 405),
    ("GET", "/id/person/cher", {"Accept": "image/png"}, None, 406),
    ("GET", "/id/person/cher?format=docx", {}, None, 406),
    ("GET", "/.well-known/void", {"Accept": "text/csv"}, None, 406),
    ("GET", "/id/person/cher.ttl?page=x", {}, None, 400),
    # Paths that make no IRI (issue 4 review): 404, never a 500 with a traceback.
    ("GET", "/id/person/a%20b", {}, None, 404),
    ("GET", "/id/person/a%3Eb", {}, None, 404),
    ("GET", "/id/person/cher%ZZ", {}, None, 404),
    ("GET", "/id/person/%ZZ.ttl", {}, None, 404),
    ("GET", "/ontology/a%3Eb.ttl", {}, None, 404),
    ("GET", "/id/a%20b/c", {}, None, 404),
    ("GET", "/graph/a%20b", {}, None, 404),
    ("GET", "/id/person/a%0Ab", {}, None, 400),
    ("GET", "/id/person/a%00b", {}, None, 400),
    ("GET", "/id/person/cher.ttl", {"If-Match": '"stale"'}, None, 412),
    ("POST", "/sparql", {"Content-Type": "application/sparql-query"}, b"#" * 5000, 413),
])
def test_every_error_has_the_same_shape(small_app, method, path, headers, data, status):
    response = small_app.test_client().open(path, method=method, headers=headers, data=data)
    error = assert_error_shape(response, status)
    if status == 405:
        assert "GET" in response.headers["Allow"]
    if status == 406:
        assert error["available"]


def test_browsers_get_the_error_as_a_page(small_app):
    response = small_app.test_client().get("/id/person/nobody", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>404 Not found</h1>" in response.get_data(as_text=True)


def test_browsers_sending_media_type_parameters_get_the_error_page_too(small_app):
    response = small_app.test_client().get("/id/person/nobody",
                                           headers={"Accept": "text/html;level=1"})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_every_html_page_has_a_strict_content_security_policy(client):
    """Pages run nothing but their own inline blocks, by hash (web/security.py)."""
    pages = ["/", "/id/film/mask-1985.html", "/id/person/cher.html", "/ontology.html",
             "/sparql", "/id/person/nobody"]
    for path in pages:
        response = client.get(path, headers={"Accept": "text/html"})
        policy = response.headers.get("Content-Security-Policy", "")
        assert policy.startswith("default-src 'none'"), path
        assert "unsafe-inline" not in policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
