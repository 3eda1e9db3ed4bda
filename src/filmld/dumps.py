"""Whole-dataset dumps, streamed piece by piece: memory does not grow with the dataset."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from filmld.formats import NQUADS, NTRIPLES, TURTLE
from filmld.jsonld import stream
from filmld.store import Store

DUMP_FORMATS = {
    "ttl": TURTLE,
    "nt": NTRIPLES,
    "nq": NQUADS,
    "jsonld": None,  # written by filmld.jsonld.stream from N-Triples pieces
}
CONTENT_TYPES = {
    "ttl": "text/turtle; charset=utf-8",
    "nt": "application/n-triples; charset=utf-8",
    "nq": "application/n-quads; charset=utf-8",
    "jsonld": "application/ld+json",
}


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Whole lines only, whatever the store's piece boundaries."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        cut = rest.rfind(b"\n")
        if cut >= 0:
            yield rest[: cut + 1]
            rest = rest[cut + 1:]
    if rest.strip():
        yield rest


def _subject_groups(store: Store) -> Iterator[list[ox.Triple]]:
    group: list[ox.Triple] = []
    for piece in _lines(store.dump(NTRIPLES)):
        for quad in ox.parse(piece, format=ox.RdfFormat.N_TRIPLES):
            triple = quad.triple
            if group and (triple.subject != group[-1].subject or len(group) >= 10000):
                yield group
                group = []
            group.append(triple)
    if group:
        yield group


def dump(store: Store, name: str, base: str) -> Iterator[bytes]:
    """The dataset in format `name` (ttl, nt, nq, jsonld), as a stream of byte pieces."""
    if name == "jsonld":
        return stream(_subject_groups(store), base)
    return store.dump(DUMP_FORMATS[name])
