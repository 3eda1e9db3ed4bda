"""Queries bounded by construction, evaluated in the server process instead of a worker.

Why (issue 5): a query goes to a worker process so that it can be killed at its time limit
(query_pool). For a lookup that round trip is most of the cost: measured under granian, a
label lookup spends about 0.3 ms in the pool against 0.05 ms in pyoxigraph, three times
Oxigraph server's whole answer. Some queries cannot run away, because every step of their
evaluation produces a result: one triple pattern with no variable repeated (one index scan,
every triple it reads is a row), or DESCRIBE of named resources (an index scan per
resource). The result cap (`result_limit`) bounds their rows, and an answer that grows past
HOLD_BYTES is abandoned and sent to a worker, so their time and memory are bounded without
a process to kill. Anything else goes to the pool: a join, FILTER, OPTIONAL, ORDER BY,
DISTINCT, OFFSET, a property path, a nested group, FROM, SERVICE... The decision is on the
policy's token stream (filmld.sparql), a closed list of what may appear; a query it does not
recognise is simply not inline.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from filmld.query_worker import Channel, answer
from filmld.sparql import Token, tokens, unescape_codepoints
from filmld.sparql_results import HOLD_BYTES

_TERM_KINDS = frozenset({"var", "iri", "pname", "string", "number"})
_CONSTANT_WORDS = frozenset({"a", "true", "false"})


def is_bounded(query: str) -> bool:
    """True for a query whose evaluation reads only what it returns (see the module doc)."""
    return is_bounded_tokens(list(tokens(unescape_codepoints(query))))


def is_bounded_tokens(stream: list[Token]) -> bool:
    """is_bounded on the tokens the policy already has (QueryShape.tokens)."""
    at = _after_prologue(stream)
    if at >= len(stream) or stream[at].kind != "word":
        return False
    form = stream[at].text.lower()
    if form == "describe":
        resources = stream[at + 1:]
        return bool(resources) and all(t.kind in ("iri", "pname") for t in resources)
    if form == "select":
        at += 1
        if at < len(stream) and stream[at].text == "*":
            at += 1
        else:
            start = at
            while at < len(stream) and stream[at].kind == "var":
                at += 1
            if at == start:
                return False
    elif form == "ask":
        at += 1
    else:
        return False
    if at < len(stream) and stream[at].kind == "word" and stream[at].text.lower() == "where":
        at += 1
    at = _one_pattern(stream, at)
    if at is None:
        return False
    rest = stream[at:]
    if not rest:
        return True
    return (form == "select" and len(rest) == 2 and rest[0].kind == "word"
            and rest[0].text.lower() == "limit" and rest[1].text.isdigit())


def _after_prologue(stream: list[Token]) -> int:
    """The index of the query form's keyword, past BASE and PREFIX declarations."""
    at = 0
    while at < len(stream) and stream[at].kind == "word":
        word = stream[at].text.lower()
        if word == "base" and at + 1 < len(stream) and stream[at + 1].kind == "iri":
            at += 2
        elif word == "prefix" and at + 2 < len(stream) and stream[at + 1].kind == "pname" \
                and stream[at + 2].kind == "iri":
            at += 3
        else:
            return at
    return at


def _one_pattern(stream: list[Token], at: int) -> int | None:
    """The index after `{ s p o [.] }`, or None when the group is anything else."""
    if at >= len(stream) or stream[at].text != "{":
        return None
    at += 1
    variables: set[str] = set()
    for _ in range(3):
        at = _term(stream, at, variables)
        if at is None:
            return None
    if at < len(stream) and stream[at].text == ".":
        at += 1
    if at >= len(stream) or stream[at].text != "}":
        return None
    return at + 1


def _term(stream: list[Token], at: int, variables: set[str]) -> int | None:
    """The index after one RDF term or variable (a repeated variable is refused: `?x ?p ?x`
    scans every triple to return a few)."""
    if at >= len(stream):
        return None
    token = stream[at]
    if token.kind == "word":
        return at + 1 if token.text in _CONSTANT_WORDS else None
    if token.kind not in _TERM_KINDS:
        return None
    if token.kind == "var":
        name = token.text[1:]
        if name in variables:
            return None
        variables.add(name)
    at += 1
    if token.kind == "string" and at < len(stream):
        if stream[at].kind == "langtag":
            return at + 1
        if stream[at].text == "^^":
            return at + 2 if at + 1 < len(stream) and stream[at + 1].kind in ("iri", "pname") \
                else None
    return at


# -- evaluation ----------------------------------------------------------------------------
class _Spill(Exception):
    """The answer outgrew HOLD_BYTES: it goes to a worker, which streams it."""


class _Collector(Channel):
    """The worker's channel, kept in memory: the same frames, no pipe."""

    def __init__(self) -> None:  # no stdin/stdout: nothing is read or written
        self.pending: list[bytes] = []
        self.size = 0

    def send(self, kind: bytes, payload: bytes | dict) -> None:
        self.size += len(payload) if isinstance(payload, bytes) else 0
        if self.size > HOLD_BYTES:
            raise _Spill
        self.pending.append(kind)
        self.pending.append(payload)

    def send_json(self, kind: bytes, value: dict) -> None:
        self.send(kind, value)  # kept as it is: nothing crosses a pipe

    def flush(self) -> None:
        pass


@dataclass
class InlineAnswer:
    """A complete answer, read like the pool's QueryStream."""

    media_type: str
    truncated: bool
    body: bytes
    rows: int | None
    version: str = ""

    @property
    def finished_truncated(self) -> bool:
        return self.truncated

    def __iter__(self):
        yield self.body

    def read_all(self) -> bytes:
        return self.body

    def close(self) -> None:
        pass


def evaluate(store: ox.Store, request: dict) -> InlineAnswer | dict | None:
    """The whole answer; the worker's error dict (`kind`, `message`...) for a query that
    fails; None when it outgrew HOLD_BYTES. Same function as the worker (query_worker.answer),
    so the same bytes."""
    channel = _Collector()
    try:
        answer(store, request, channel)
    except (_Spill, SystemExit):  # SystemExit: the worker's way to cut a started stream
        return None
    frames = channel.pending
    head = frames[1]
    if frames[0] == b"X":
        return head
    body = b"".join(frames[i + 1] for i in range(2, len(frames) - 2, 2))
    end = frames[-1]
    return InlineAnswer(head["media_type"], end["truncated"], body, end["rows"])
