"""The tokens file is read again when it changes: revoking or adding a token needs no
restart; a file that changed into something unusable fails closed (503) until it is fixed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from filmld.config import Settings
from filmld.errors import Unauthorized
from filmld.tokens import Tokens, TokensFile, TokensUnavailable
from filmld.web import create_app
from filmld.web.sparql import close_query_pool
from tests.conftest import filmld_env, free_port, start_server
from tests.test_validation_neighbourhood import PREFIXES

DATE = '<id/person/cher> schema:birthDate "1946-05-20"^^xsd:date .'
BODY = (PREFIXES + DATE).encode()
TURTLE = {"Content-Type": "text/turtle"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **TURTLE}


def rewrite(path: Path, text: str | bytes) -> None:
    """Write the file in place and move its mtime a second on: two writes within one tick
    of the file system's clock must not look like one version (the test would be flaky)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    if isinstance(text, str):
        text = text.encode()
    with path.open("r+b" if path.exists() else "wb") as file:
        file.write(text)
        file.truncate()
    later = before + 1_000_000_000
    os.utime(path, ns=(later, later))


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("# contributors\nalice:tok-alice\nbob:tok-bob\n")
    return path


@pytest.fixture
def app(tmp_path: Path, tokens_file: Path):
    app = create_app(Settings(store=str(tmp_path / "store"), tokens="operator:tok-operator",
                              tokens_file=str(tokens_file)))
    app.config["TESTING"] = True
    yield app
    close_query_pool(app)  # started by a read of /sparql
    app.extensions["filmld.store"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def validate(client, token: str):
    """POST /validate: needs a token like a contribution, stores nothing."""
    return client.post("/validate", data=BODY, headers=bearer(token))


def test_a_token_removed_from_the_file_is_refused_at_the_next_request(client, tokens_file):
    assert validate(client, "tok-alice").status_code == 200
    rewrite(tokens_file, "bob:tok-bob\n")
    refused = validate(client, "tok-alice")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert validate(client, "tok-bob").status_code == 200
    assert validate(client, "tok-operator").status_code == 200  # the setting's, unchanged


def test_a_token_removed_from_the_file_cannot_contribute(client, tokens_file):
    assert client.post("/contributions", data=BODY, headers=bearer("tok-bob")).status_code \
        == 201
    rewrite(tokens_file, "alice:tok-alice\n")
    response = client.post("/contributions", data=BODY, headers=bearer("tok-bob"))
    assert response.status_code == 401


def test_a_token_added_to_the_file_is_accepted(client, tokens_file):
    assert validate(client, "tok-carol").status_code == 401
    rewrite(tokens_file, tokens_file.read_text() + "carol:tok-carol\n")
    assert validate(client, "tok-carol").status_code == 200
    assert validate(client, "tok-alice").status_code == 200


def test_a_file_replaced_by_rename_is_seen(client, tokens_file):
    """An editor's save: a new file renamed over the old one. Same size and same mtime as
    the old, so only its inode tells them apart."""
    assert validate(client, "tok-alice").status_code == 200
    old = tokens_file.stat()
    new = tokens_file.with_name("tokens.tmp")
    new.write_text("# contributors\ncarol:tok-carol\nbob:tok-bob\n")
    assert new.stat().st_size == old.st_size
    os.utime(new, ns=(old.st_atime_ns, old.st_mtime_ns))
    os.replace(new, tokens_file)
    assert validate(client, "tok-alice").status_code == 401
    assert validate(client, "tok-carol").status_code == 200


def test_a_malformed_file_is_503_naming_the_line_until_it_is_fixed(
        client, tokens_file, caplog):
    rewrite(tokens_file, "alice:tok-alice\nbob tok-bob\n")
    with caplog.at_level(logging.INFO, logger="filmld.contributions"):
        refused = [validate(client, token) for token in ("tok-alice", "tok-operator", "wrong")]
    for response in refused:  # fail closed: not the file's old tokens, nor the setting's
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["title"] == "Tokens unavailable"
        assert "the tokens file, line 2 is not contributor:token" in error["message"]
        assert str(tokens_file) not in error["message"]  # the log says where, not clients
        assert "tok-bob" not in response.get_data(as_text=True)  # the line may be a secret
        assert response.headers["Retry-After"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 1 and "line 2" in logged[0].getMessage()  # once, not per request
    assert "tok-bob" not in logged[0].getMessage()

    rewrite(tokens_file, "alice:tok-alice\nbob:tok-bob\n")
    assert validate(client, "tok-alice").status_code == 200
    assert client.post("/contributions", data=BODY,
                       headers=bearer("tok-bob")).status_code == 201


def test_a_file_that_is_not_utf8_is_503_until_fixed(client, tokens_file):
    rewrite(tokens_file, b"alice:tok-\xffalice\n")
    response = validate(client, "tok-alice")
    assert response.status_code == 503
    assert "not UTF-8" in response.get_json()["error"]["message"]
    rewrite(tokens_file, "alice:tok-alice\n")
    assert validate(client, "tok-alice").status_code == 200


def test_a_withdrawal_is_refused_too_while_the_file_is_malformed(client, tokens_file):
    created = client.post("/contributions", data=BODY, headers=bearer("tok-alice")).get_json()
    rewrite(tokens_file, "alice\n")
    response = client.delete(created["location"], headers=bearer("tok-operator"))
    assert response.status_code == 503
    assert client.get(created["location"]).status_code == 200  # still there


def test_reads_are_unaffected_by_a_malformed_file(client, tokens_file):
    rewrite(tokens_file, "not a token line\n")
    assert validate(client, "tok-alice").status_code == 503
    assert client.get("/id/film/mask-1985.ttl").status_code == 200
    sparql = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                        headers={"Accept": "application/sparql-results+json"})
    assert sparql.status_code == 200 and sparql.get_json()["boolean"] is True
    assert client.get("/contributions").status_code == 200


def test_a_deleted_file_means_no_tokens_from_it(client, tokens_file):
    tokens_file.unlink()
    assert validate(client, "tok-alice").status_code == 401
    assert validate(client, "tok-operator").status_code == 200
    tokens_file.write_text("alice:tok-alice\n")
    assert validate(client, "tok-alice").status_code == 200


def test_the_file_is_read_only_when_it_changed(client, tokens_file, monkeypatch):
    reads = []
    real = TokensFile._read

    def counting(self):
        reads.append(1)
        return real(self)

    monkeypatch.setattr(TokensFile, "_read", counting)
    for _ in range(3):
        assert validate(client, "tok-alice").status_code == 200
    assert reads == []
    rewrite(tokens_file, "alice:tok-alice\n")
    for _ in range(3):
        assert validate(client, "tok-alice").status_code == 200
    assert reads == [1]


def test_every_token_of_the_file_and_the_setting_is_compared(client, tokens_file,
                                                             compared_tokens):
    rewrite(tokens_file, "alice:tok-alice\ncarol:tok-carol\n")
    assert validate(client, "tok-alice").status_code == 200
    assert sorted(compared_tokens) == [b"tok-alice", b"tok-carol", b"tok-operator"]


def test_a_change_is_seen_while_other_threads_authenticate(tokens_file):
    """granian runs several threads per process: while they authenticate, each new version
    of the file is the one the next authentication uses, and no thread sees an error or a
    token of one version under the name of another."""
    tokens = Tokens.from_settings(Settings(tokens_file=str(tokens_file)))
    # Of different sizes: a freed inode may be reused by the next rename within one tick.
    versions = [("alice:tok-alice\n", "tok-alice", "alice"),
                ("carol:tok-carol-2\n", "tok-carol-2", "carol")]
    problems: list[Exception] = []
    stop = threading.Event()

    def authenticate() -> None:
        while not stop.is_set():
            for _text, token, name in versions:
                try:
                    assert tokens.authenticate(f"Bearer {token}").name == name
                except Unauthorized:
                    pass
                except Exception as error:  # noqa: BLE001 - reported below
                    problems.append(error)

    threads = [threading.Thread(target=authenticate) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for i in range(40):
            text, token, name = versions[(i + 1) % 2]
            new = tokens_file.with_name("tokens.new")
            new.write_text(text)
            os.replace(new, tokens_file)
            assert tokens.authenticate(f"Bearer {token}").name == name
            with pytest.raises(Unauthorized):
                tokens.authenticate(f"Bearer {versions[i % 2][1]}")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert problems == []


def test_at_start_a_malformed_or_missing_file_is_an_error(tmp_path, tokens_file):
    rewrite(tokens_file, "alice:tok-alice\n:tok-nobody\n")
    with pytest.raises(ValueError, match="line 2 is not contributor:token"):
        Tokens.from_settings(Settings(tokens_file=str(tokens_file)))
    with pytest.raises(ValueError, match="does not exist"):
        Tokens.from_settings(Settings(tokens_file=str(tmp_path / "missing")))
    file = TokensFile(tokens_file)
    with pytest.raises(TokensUnavailable):
        file.pairs()


def test_serve_says_in_one_line_that_the_tokens_file_is_malformed(tmp_path, tokens_file):
    """Before any worker starts: not a traceback from each worker that failed on it."""
    rewrite(tokens_file, "alice\n")
    done = subprocess.run(
        [sys.executable, "-m", "filmld", "serve", "--port", str(free_port()), "--store",
         str(tmp_path / "store")],
        env=filmld_env(tokens_file=str(tokens_file)), capture_output=True, text=True, check=False,
        timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == \
        f"filmld serve: tokens file {tokens_file}, line 1 is not contributor:token"


def test_every_worker_process_sees_the_change(tmp_path, tokens_file, oxigraph_server):
    """`filmld serve --workers 2` on a remote store: each process checks the file itself."""
    oxigraph_server.clear()
    server = start_server(tmp_path, store=oxigraph_server.url, extra_args=("--workers", "2"),
                          tokens_file=str(tokens_file))
    try:
        def statuses(token: str) -> set[int]:
            answers = set()
            for _ in range(8):  # a new connection each: they are spread over the workers
                with requests.Session() as session:
                    answers.add(session.post(server.url + "validate", data=BODY,
                                             headers=bearer(token), timeout=30).status_code)
            return answers

        assert statuses("tok-alice") == {200}
        rewrite(tokens_file, "bob:tok-bob\n")
        assert statuses("tok-alice") == {401}
        assert statuses("tok-bob") == {200}
        rewrite(tokens_file, "bob tok-bob\n")
        assert statuses("tok-bob") == {503}
    finally:
        server.stop()
