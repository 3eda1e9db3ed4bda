"""The VoID description of the dataset (https://www.w3.org/TR/void/): size, class and
property partitions, dumps, the SPARQL endpoint and the licence, computed from the store."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from filmld.describe import RDF_TYPE
from filmld.errors import FilmldError
from filmld.store import Store

log = logging.getLogger("filmld.void")
VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
DUMP_SUFFIXES = ("ttl", "nt", "jsonld", "nq")


def void_iri(base: str) -> str:
    return f"{base}.well-known/void"


def dataset_iri(base: str) -> str:
    return f"{void_iri(base)}#dataset"


@dataclass
class Statistics:
    """The counts VoID publishes: whole-store scans, so computed once per data version."""

    triples: int = 0
    entities: int = 0
    subjects: int = 0
    classes: list[tuple[str, int]] = field(default_factory=list)
    properties: list[tuple[str, int]] = field(default_factory=list)


def _int(row: dict, name: str) -> int:
    return int(row[name].value) if name in row else 0


SCAN_TIMEOUT = 3600.0
"""Seconds a remote store may take over one scan: far beyond the usual store time limit
(10 s), which a scan passes at 100k films; it runs in the background, no request waits."""


def compute_statistics(store: Store, base: str) -> Statistics:
    """Three scans (about 2 s at 10k films, 2 million triples; issue 7): the triples count
    is the sum of the property partitions, and entities are counted among the distinct
    subjects, not by a string test on every triple (that alone took 4.3 s at 10k films).
    Blank subjects (the shapes' RDF lists) are no entities: STR() of one is an error, which
    would make the whole SUM unbound, hence isIRI first (SPARQL 1.1 section 17.2, `&&`)."""
    properties = [(r["p"].value, _int(r, "n")) for r in store.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p ORDER BY ?p",
        timeout=SCAN_TIMEOUT)]
    subjects = store.select(
        "SELECT (COUNT(*) AS ?all) (SUM(IF(isIRI(?s) && STRSTARTS(STR(?s), "
        f'"{base}id/"), 1, 0)) AS ?n) WHERE {{ {{ SELECT DISTINCT ?s WHERE {{ ?s ?p ?o }} }} }}',
        timeout=SCAN_TIMEOUT)
    classes = [(r["c"].value, _int(r, "n")) for r in store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } "
        "GROUP BY ?c ORDER BY ?c", timeout=SCAN_TIMEOUT)]
    row = subjects[0] if subjects else {}
    return Statistics(sum(n for _, n in properties), _int(row, "n"), _int(row, "all"),
                      classes, properties)


STALE_AFTER_SECONDS = 1.0
"""A store whose last scan took longer than this is answered with its previous counts while
the new ones are computed in the background (issue 4: every request has bounded time; a
scan takes 32 s at 100k films). Faster scans are waited for, so small stores are exact."""
FIRST_WAIT_SECONDS = 2.0
"""How long a request waits for counts no earlier scan can stand in for (the first since
the server started, or since the store's last scan was fast); the scan goes on in the
background after that, and the request is a 503 with Retry-After."""


class StatisticsPending(FilmldError):
    """The VoID counts are being computed (a whole-store scan); ask again shortly."""

    status, title = 503, "Statistics being computed"


@dataclass
class _Scan:
    """A background count: done when set; `error` what it raised, if anything."""

    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass
class _Counted:
    version: str
    base: str
    stats: Statistics
    seconds: float


_memory: dict[tuple[str, str], Statistics] = {}
_last: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Store -> _Counted
_scanning: dict[tuple[int, str, str], _Scan] = {}
_lock = threading.Lock()  # the three above
_scan = threading.Lock()  # one scan at a time: concurrent first requests wait for the first


def _cache_file(version: str, base: str) -> Path:
    key = hashlib.blake2b(f"{version}|{base}".encode(), digest_size=12).hexdigest()
    return Path(tempfile.gettempdir()) / "filmld-void" / f"{key}.json"


def _known(store: Store, version: str, base: str) -> Statistics | None:
    """The counts of this version, from memory or from the file another worker or an
    earlier run wrote. Versions are random or hashed tokens (filmld.store), so a file never
    answers for another store."""
    with _lock:
        found = _memory.get((version, base))
    if found is not None:
        return found
    try:
        data = json.loads(_cache_file(version, base).read_text())
        stats = Statistics(data["triples"], data["entities"], data["subjects"],
                           [tuple(c) for c in data["classes"]],
                           [tuple(p) for p in data["properties"]])
        seconds = float(data.get("seconds", 0.0))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _remember(store, _Counted(version, base, stats, seconds))
    return stats


def _remember(store: Store, counted: _Counted) -> None:
    with _lock:
        if counted.version == store.version():
            _memory.clear()
            _memory[(counted.version, counted.base)] = counted.stats
        _last[store] = counted


def _count(store: Store, version: str, base: str) -> Statistics:
    with _scan:
        found = _known(store, version, base)  # counted meanwhile by another request
        if found is not None:
            return found
        started = time.monotonic()
        stats = compute_statistics(store, base)
        counted = _Counted(version, base, stats, time.monotonic() - started)
        try:
            path = _cache_file(version, base)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps({**asdict(stats), "seconds": counted.seconds}))
            temporary.replace(path)
        except OSError:
            pass  # a read-only temp dir costs a scan per process, nothing else
        if version == store.version():  # not changed while counting
            _remember(store, counted)
        return stats


def _count_in_background(store: Store, version: str, base: str) -> _Scan:
    key = (id(store), version, base)
    with _lock:
        scan = _scanning.get(key)
        if scan is not None:
            return scan
        scan = _scanning[key] = _Scan()

    def run() -> None:
        try:
            _count(store, version, base)
        except Exception as error:  # noqa: BLE001 - kept for the waiting request; the next one tries again
            scan.error = error
            log.warning("VoID statistics could not be computed: %s", error)
        finally:
            with _lock:
                _scanning.pop(key, None)
            scan.done.set()

    threading.Thread(target=run, daemon=True, name="filmld-void-statistics").start()
    return scan


def statistics(store: Store, base: str) -> tuple[Statistics, str]:
    """The counts and the data version they count: `compute_statistics` once per version,
    in the background. While a slow store's new counts are computed, its previous ones
    (STALE_AFTER_SECONDS); with no previous ones, a wait of FIRST_WAIT_SECONDS at most."""
    version = store.version()
    found = _known(store, version, base)
    if found is not None:
        return found, version
    with _lock:
        last = _last.get(store)
    scan = _count_in_background(store, version, base)
    if last is not None and last.base == base and last.seconds >= STALE_AFTER_SECONDS:
        return last.stats, last.version
    if scan.done.wait(FIRST_WAIT_SECONDS):
        if isinstance(scan.error, FilmldError):
            raise scan.error  # the store's own answer: unavailable, timed out
        found = _known(store, version, base)
        if found is not None:
            return found, version
    raise StatisticsPending(
        "the dataset's statistics (a scan of the whole store) are being computed; "
        "ask again in a few seconds", headers={"Retry-After": "5"})


def void_triples(store: Store, base: str) -> tuple[list[ox.Triple], str]:
    """Every triple of the VoID document, and the data version its counts are of (the
    validators of the response); partitions get hash IRIs so output is stable."""
    doc = ox.NamedNode(void_iri(base))
    dataset = ox.NamedNode(dataset_iri(base))
    triples: list[ox.Triple] = []

    def add(s, p: str, o) -> None:
        triples.append(ox.Triple(s, ox.NamedNode(p), o))

    def number(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))

    add(doc, RDF_TYPE, ox.NamedNode(VOID + "DatasetDescription"))
    add(doc, FOAF + "primaryTopic", dataset)
    add(dataset, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
    add(dataset, DCT + "title", ox.Literal("filmld: film facts as linked data", language="en"))
    add(dataset, DCT + "description", ox.Literal(
        "Facts about films (cast, characters, plot, setting, soundtrack), hand-mapped to "
        "schema.org and the filmld ontology, with contributions in named graphs.",
        language="en"))
    licences = store.select(
        "SELECT DISTINCT ?l WHERE { ?o a <http://www.w3.org/2002/07/owl#Ontology> ; "
        f"<{DCT}license> ?l }} ORDER BY ?l")
    for row in licences or [{"l": ox.NamedNode(DEFAULT_LICENSE)}]:
        add(dataset, DCT + "license", row["l"])
    stats, counted = statistics(store, base)
    add(dataset, VOID + "triples", number(stats.triples))
    add(dataset, VOID + "entities", number(stats.entities))
    add(dataset, VOID + "distinctSubjects", number(stats.subjects))
    add(dataset, VOID + "uriSpace", ox.Literal(f"{base}id/"))
    add(dataset, VOID + "sparqlEndpoint", ox.NamedNode(f"{base}sparql"))
    add(dataset, VOID + "rootResource", ox.NamedNode(f"{base}id/film/mask-1985"))
    add(dataset, VOID + "exampleResource", ox.NamedNode(f"{base}id/film/mask-1985"))
    add(dataset, VOID + "exampleResource", ox.NamedNode(f"{base}id/person/cher"))
    add(dataset, VOID + "vocabulary", ox.NamedNode("https://schema.org/"))
    add(dataset, VOID + "vocabulary", ox.NamedNode(f"{base}ontology/"))
    for suffix in DUMP_SUFFIXES:
        add(dataset, VOID + "dataDump", ox.NamedNode(f"{base}dataset.{suffix}"))
    add(dataset, VOID + "classes", number(len(stats.classes)))
    for i, (cls, n) in enumerate(stats.classes, 1):
        part = ox.NamedNode(f"{void_iri(base)}#class-{i}")
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", ox.NamedNode(cls))
        add(part, VOID + "entities", number(n))
    add(dataset, VOID + "properties", number(len(stats.properties)))
    for i, (prop, n) in enumerate(stats.properties, 1):
        part = ox.NamedNode(f"{void_iri(base)}#property-{i}")
        add(dataset, VOID + "propertyPartition", part)
        add(part, VOID + "property", ox.NamedNode(prop))
        add(part, VOID + "triples", number(n))
    return triples, counted
