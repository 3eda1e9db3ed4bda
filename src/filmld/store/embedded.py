"""The embedded default: pyoxigraph on disk, with the curated graphs rebuilt at start."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pyoxigraph as ox

from filmld.formats import RdfFormat
from filmld.store.base import Row, Store


class EmbeddedStore(Store):
    """One process owns the directory (RocksDB locks it); threads share the store."""

    def __init__(self, path: str | Path, *, base: str) -> None:
        super().__init__(base)
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.store = ox.Store(str(self.path))
        self._lock = threading.Lock()
        self._version, self._modified = self._read_version()

    # -- reading --------------------------------------------------------------
    def _query(self, sparql: str):
        return self.store.query(sparql, use_default_graph_as_union=True)

    def select(self, sparql: str, *, timeout: float | None = None) -> list[Row]:
        solutions = self._query(sparql)  # in process: no time limit to replace
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def ask(self, sparql: str) -> bool:
        return bool(self._query(sparql))

    def construct(self, sparql: str) -> list[ox.Triple]:
        return list(self._query(sparql))

    def graph_triples(self, graph: str) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None,
                                                                ox.NamedNode(graph))]

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs()
                      if isinstance(g, ox.NamedNode))

    def dump(self, fmt: RdfFormat) -> Iterator[bytes]:
        """Serialised graph by graph, in pieces, so memory does not grow with the dataset."""
        quads = fmt.oxigraph.supports_datasets
        for graph in self.graph_names():
            chunk: list = []
            for quad in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
                chunk.append(quad if quads else quad.triple)
                if len(chunk) >= 5000:
                    yield ox.serialize(chunk, format=fmt.oxigraph)
                    chunk = []
            if chunk:
                yield ox.serialize(chunk, format=fmt.oxigraph)

    def version(self) -> str:
        return self._version

    def last_modified(self) -> float:
        return self._modified

    # -- writing --------------------------------------------------------------
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        name = ox.NamedNode(graph)
        quads = [ox.Quad(t.subject, t.predicate, t.object, name) for t in triples]
        with self._lock:
            old = list(self.store.quads_for_pattern(None, None, None, name))
            if set(old) == set(quads):
                return
            self.store.update(f"DROP SILENT GRAPH <{graph}>")
            self.store.extend(quads)
            self._bump(f"replace {graph}")

    def add_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        name = ox.NamedNode(graph)
        with self._lock:
            self.store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
            self._bump(f"add {graph}")

    def remove_graph(self, graph: str) -> None:
        with self._lock:
            self.store.update(f"DROP SILENT GRAPH <{graph}>")
            self._bump(f"remove {graph}")

    def change_graphs(self, *, drop: Iterable[str] = (),
                      add: Mapping[str, Iterable[ox.Triple]] | None = None) -> None:
        """One RocksDB transaction (Store.extend, or one SPARQL Update when graphs are also
        dropped), then a flush: all or nothing, and durable on return (base.py contract)."""
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                 for graph, triples in (add or {}).items() for t in triples]
        drop = list(drop)
        with self._lock:
            if drop:
                steps = [f"DROP SILENT GRAPH <{graph}>" for graph in drop]
                if quads:
                    body = " ".join(f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} "
                                    f"{q.object} }}" for q in quads)
                    steps.append(f"INSERT DATA {{ {body} }}")
                self.store.update(" ;\n".join(steps))
            elif quads:
                self.store.extend(quads)
            self.store.flush()
            self._bump("change " + " ".join(drop + sorted({str(q.graph_name) for q in quads})))

    def checkpoint(self, directory: str | Path) -> None:
        """A consistent copy another process can open read-only (hard links: milliseconds)."""
        self.store.backup(str(directory))

    def flush(self) -> None:
        self.store.flush()

    def close(self) -> None:
        self.store.flush()
        del self.store

    # -- the version token ----------------------------------------------------
    # Kept across restarts, so clients' ETags stay valid while the data is the same; the
    # names of the graphs are folded in, so a write whose token did not reach the file
    # before a crash (a contribution is a graph of its own) still changes it.
    def _version_file(self) -> Path:
        return self.path / "filmld-version.json"

    def _read_version(self) -> tuple[str, float]:
        graphs = self._graphs_fingerprint()
        try:
            saved = json.loads(self._version_file().read_text())
            if saved["graphs"] == graphs:
                return str(saved["version"]), float(saved["modified"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        token = hashlib.blake2b(f"{graphs}|{time.time()}".encode(), digest_size=8).hexdigest()
        return token, time.time()

    def _graphs_fingerprint(self) -> str:
        names = "|".join(self.graph_names())
        return hashlib.blake2b(names.encode(), digest_size=8).hexdigest()

    def _bump(self, reason: str) -> None:
        """A new token per change, written to the store's folder (atomically: rename)."""
        now = time.time()
        self._version = hashlib.blake2b(f"{self._version}|{reason}|{now}".encode(),
                                        digest_size=8).hexdigest()
        self._modified = now
        temporary = self._version_file().with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": self._version, "modified": now,
                                         "graphs": self._graphs_fingerprint()}))
        os.replace(temporary, self._version_file())
