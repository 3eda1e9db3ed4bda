"""The store interface every backend implements; the rest of filmld uses nothing else."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager

import pyoxigraph as ox

from filmld.formats import RdfFormat

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term]


class Store(ABC):
    """Named graphs of triples, queried with SPARQL over their union.

    Graph IRIs: `graph_iri("curated")` holds data/, `graph_iri("ontology")` ontology/,
    `graph_iri("shapes")` shapes/; contributions live in graphs of their own. Curated graphs are replaced at every start.
    """

    def __init__(self, base: str) -> None:
        self.base = base

    def graph_iri(self, name: str) -> str:
        return f"{self.base}graph/{name}"

    # -- reading --------------------------------------------------------------
    @abstractmethod
    def select(self, sparql: str, *, timeout: float | None = None) -> list[Row]:
        """Rows of a SELECT over the union of all graphs (trusted, internal queries only);
        `timeout` replaces a remote store's usual time limit (a whole-store scan)."""

    @abstractmethod
    def ask(self, sparql: str) -> bool: ...

    @abstractmethod
    def construct(self, sparql: str) -> list[ox.Triple]: ...

    @abstractmethod
    def graph_triples(self, graph: str) -> list[ox.Triple]:
        """Every triple of one named graph."""

    @abstractmethod
    def graph_names(self) -> list[str]: ...

    @abstractmethod
    def dump(self, fmt: RdfFormat) -> Iterator[bytes]:
        """The whole dataset, streamed; quad formats keep the graph names."""

    @abstractmethod
    def version(self) -> str:
        """A short token that changes whenever any triple changes (the ETag basis)."""

    @abstractmethod
    def last_modified(self) -> float:
        """POSIX time of the last change (for Last-Modified)."""

    # -- writing --------------------------------------------------------------
    @abstractmethod
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Atomically make `graph` hold exactly `triples`."""

    @abstractmethod
    def add_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Atomically add a new named graph; durable when this returns."""

    @abstractmethod
    def remove_graph(self, graph: str) -> None: ...

    def change_graphs(self, *, drop: Iterable[str] = (),
                      add: Mapping[str, Iterable[ox.Triple]] | None = None) -> None:
        """Drop whole named graphs and add triples to named graphs, all or nothing.

        Contract (contributions rely on it, issue 6): after a crash at any moment either
        every change is there or none is; when this returns the change is durable (it
        survives SIGKILL) and `version()` has changed. Blank nodes in `add` keep their
        identifiers (at least when nothing is dropped in the same call).
        This default is NOT atomic across graphs; every backend overrides it (the embedded
        store with one transaction, a remote store with one SPARQL Update request).
        """
        for graph in drop:
            self.remove_graph(graph)
        for graph, triples in (add or {}).items():
            self.add_graph(graph, triples)

    def write_lock(self) -> AbstractContextManager:
        """Held around validate-then-write, so that no other write lands in between.

        Contract: while one holder is inside, no other `write_lock()` holder of the same
        dataset enters. This default is one lock per store object, enough when one process
        owns the store (the embedded store); a store shared by several processes must
        override it with a lock all of them see.
        """
        lock = self.__dict__.get("_write_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_write_lock", threading.RLock())
        return lock

    def query_stream(self, sparql: str, *, kind: str, default_graphs: list[str] | None = None,
                     named_graphs: list[str] | None = None, timeout: float = 5.0,
                     media_type: str | None = None):
        """Evaluate an untrusted query for /sparql on a backend that runs queries elsewhere.

        Contract (the SPARQL endpoint relies on it, issue 5): `sparql` has already passed
        filmld.sparql's policy (read-only, no SERVICE, only this dataset's graphs); send it
        as is, with `default_graphs` / `named_graphs` as default-graph-uri / named-graph-uri
        when given (None: the union of this dataset's graphs, as `select` does). Return a
        readable binary file-like object streaming the answer: application/sparql-results+json
        for kind 'tabular' and 'boolean', application/n-triples for 'graph' (nothing read into
        memory first), or `media_type` when given, which the endpoint only asks for where
        `answers_in` says the server writes that format as filmld does. The dataset is
        this dataset's graphs as they are when the query is sent, never a list kept from
        an earlier request (a graph another worker just added is part of it). Past
        `timeout` seconds raise filmld.errors.QueryTimeout; for the server's 400 raise
        filmld.errors.SyntaxProblem with its message; unreachable: StoreUnavailable. The embedded store does not implement it: its /sparql queries run
        in filmld.query_pool's killable worker processes on a checkpoint instead.
        """
        raise NotImplementedError(f"{type(self).__name__} does not evaluate /sparql queries")

    def answers_in(self, kind: str, fmt: str) -> bool:
        """Does query_stream(media_type=...) give answers of `kind` in the format named
        `fmt` (sparql_results) exactly as filmld writes them? Then /sparql passes them
        through unchanged (filmld.sparql_passthrough); by default it does not."""
        return False

    def close(self) -> None:
        """Release files and connections."""
