"""Settings: one table of names, defaults and help; read from FILMLD_* variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_BASE = "http://127.0.0.1:8000/"


@dataclass(frozen=True)
class Settings:
    """Every setting, with its default; `help` in SETTINGS_HELP says what it is for."""

    base_url: str = DEFAULT_BASE
    store: str = ""
    data_dir: Path = PROJECT_DIR / "data"
    ontology_dir: Path = PROJECT_DIR / "ontology"
    shapes_dir: Path = PROJECT_DIR / "shapes"
    max_age: int = 60
    page_size: int = 500
    query_timeout: float = 5.0
    stream_timeout: float = 60.0
    query_memory_mb: int = 768
    result_limit: int = 10000
    max_query_length: int = 20000
    max_body_bytes: int = 1_000_000
    query_concurrency: int = 2
    query_workers: int = 2
    tokens: str = ""
    tokens_file: str = ""
    max_contribution_triples: int = 5000
    contribution_rate: int = 30
    allowed_graphs: str = ""
    update_url: str = ""
    graph_store_url: str = ""
    store_timeout: float = 10.0
    store_retry_after: int = 5
    access_log: bool = True

    def __post_init__(self) -> None:
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some settings changed; unknown names are an error, not ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


SETTINGS_HELP = {
    "base_url": "Public base IRI; every IRI filmld mints starts with it (must end with /).",
    "store": "Embedded store directory, or http(s) URL of a remote SPARQL 1.1 query endpoint. "
    "Empty: a directory .filmld-store in the working directory.",
    "data_dir": "Folder of curated Turtle files, reloaded at every start (the source of truth).",
    "ontology_dir": "Folder of the ontology's Turtle files.",
    "shapes_dir": "Folder of the SHACL shapes.",
    "max_age": "Cache-Control max-age in seconds for entity pages and dumps.",
    "page_size": "Most triples in one page of an entity description (?page=N for the rest).",
    "query_timeout": "Seconds a SPARQL query may run before it is stopped: until its answer "
    "(or, for a large result, its first MiB) is ready.",
    "stream_timeout": "Further seconds, after query_timeout, that a large SPARQL result may "
    "take to reach the client; past them the body ends with a RESULT STREAM CUT line. No query "
    "takes longer than query_timeout + stream_timeout in all.",
    "query_memory_mb": "Address-space limit, in MiB, of each process that evaluates queries; "
    "at least 256 (one needs about 190 to start and open the store).",
    "result_limit": "Most rows (or triples) one SPARQL response carries; a cut result says so.",
    "max_query_length": "Longest SPARQL query accepted, in characters.",
    "max_body_bytes": "Largest request body accepted, in bytes (413 beyond).",
    "query_concurrency": "SPARQL queries evaluated at once; more wait, entity pages never do.",
    "query_workers": "Processes kept ready to evaluate SPARQL queries.",
    "tokens": "Contributor tokens: comma-separated contributor:token pairs; "
    "the contributor named 'operator' may withdraw any contribution.",
    "tokens_file": "File with one contributor:token pair per line (alternative to tokens); "
    "edits take effect at the next request, without a restart.",
    "max_contribution_triples": "Most triples one contribution may carry.",
    "contribution_rate": "Contributions one token may make per minute (429 beyond).",
    "allowed_graphs": "Comma-separated graph IRIs outside this dataset that FROM may name "
    "(empty: none; filmld never fetches them either way).",
    "update_url": "SPARQL 1.1 Update endpoint of a remote store (empty: derived from the query "
    "URL: Oxigraph /query -> /update, Virtuoso /sparql takes both).",
    "graph_store_url": "Graph Store Protocol endpoint of a remote store (empty: derived; "
    "Oxigraph /store, Virtuoso /sparql-graph-crud).",
    "store_timeout": "Seconds filmld waits for a remote store's answer before a 503.",
    "store_retry_after": "Retry-After seconds sent with a 503 when the remote store is down.",
    "access_log": "Log every request, one line each on standard output (written in batches "
    "every 0.1 s). It costs up to a quarter of the throughput of cached entity requests "
    "at 16 connections (benchmarks/README.md); turn it off behind a proxy that logs.",
}


MAY_BE_ZERO = {"max_age", "contribution_rate", "store_retry_after"}
"""Numeric settings for which 0 means something; every other one must be above 0."""

MINIMUMS = {"query_memory_mb": 256}
"""Numeric settings below which nothing works. query_memory_mb: a query worker with less
cannot start its threads (std::system_error when the store is opened, or Python's "can't
start new thread"), so every query sent to one is a 500. Measured with a QueryPool running
real queries (ORDER BY over the whole store, GROUP BY, CONSTRUCT, a join) on a 2-CPU Linux
machine with 8 MiB thread stacks: 184 MiB works and 180 fails on the curated data, 192
works and 184 fails on 1.9 million triples; 256 leaves a third more than that."""


STORE_MUST_BE = ("the store must be a directory (created if missing) or the http(s) URL of "
                 "a SPARQL query endpoint")


def store_problem(value: str) -> str:
    """Why `value` cannot be the store ('' when it can): said before anything opens it, which
    would fail with a bare errno (a file) or make a directory named ftp: (another scheme)."""
    import re
    from urllib.parse import urlsplit

    if value.startswith(("http://", "https://")):
        return "" if urlsplit(value).netloc else f"names no host; {STORE_MUST_BE}"
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
        return f"is not an http(s) URL; {STORE_MUST_BE}"
    path = Path(value or ".filmld-store")
    for place in (path, *path.parents):
        if place.exists():
            if place.is_dir():
                return ""
            what = "is a file" if place == path else f"is under {str(place)!r}, which is a file"
            return f"{what}; {STORE_MUST_BE}"
    return ""


def base_url_problem(value: str, *, ending_in_slash: bool = False) -> str:
    """Why `value` cannot be the base IRI ('' when it can): every IRI filmld mints starts
    with it, so a bad one fails later, far from its cause (a --graph, an ontology file).
    The variable may leave out the final / (it is added); the option's help says it ends so."""
    from urllib.parse import urlsplit

    import pyoxigraph as ox

    rule = "must be an absolute http(s) IRI" + (" ending in /" if ending_in_slash else "")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return rule
    if ending_in_slash and not value.endswith("/"):
        return rule
    try:
        ox.NamedNode(value)
    except ValueError as error:
        return f"{rule} ({error})"
    return ""


VALUE_CHECKS = {"store": store_problem, "base_url": base_url_problem}
"""Text settings with rules of their own; each check returns the problem, '' if none."""


def _coerce(value: str, default: object, name: str = "") -> object:
    if isinstance(default, bool):
        if value.strip().lower() not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise ValueError("use true or false")
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int | float):
        number = type(default)(value)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        if number < 0 or (number == 0 and name not in MAY_BE_ZERO):
            raise ValueError("must be above 0" if name not in MAY_BE_ZERO else "must not be "
                             "negative")
        if number < MINIMUMS.get(name, 0):
            raise ValueError(f"must be at least {MINIMUMS[name]}")
        return number
    problem = VALUE_CHECKS[name](value) if name in VALUE_CHECKS else ""
    if problem:
        raise ValueError(problem)
    if isinstance(default, Path):
        return Path(value)
    return value


def from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings from FILMLD_<NAME> variables (FILMLD_BASE_URL, FILMLD_QUERY_TIMEOUT, ...)."""
    environ = os.environ if environ is None else environ
    defaults = Settings()
    found: dict[str, object] = {}
    for field in fields(Settings):
        raw = environ.get("FILMLD_" + field.name.upper())
        if raw is not None:
            try:
                found[field.name] = _coerce(raw, getattr(defaults, field.name), field.name)
            except ValueError as error:
                raise ValueError(f"FILMLD_{field.name.upper()}={raw!r}: {error}") from None
    return replace(defaults, **found)
