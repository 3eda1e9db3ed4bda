"""SPARQL query policy: what an untrusted query may do here, decided before any evaluation.

Read-only, no outbound traffic, bounded size and nesting. The decision is lexical, on the
token stream the SPARQL 1.1 grammar defines (https://www.w3.org/TR/sparql11-query/#sparqlGrammar
section 19.8, terminals), after the codepoint-escape pass of section 19.2 that parsers apply
before anything else. A token-level decision is exact for what matters here, because every
construct that could reach outside (`SERVICE`, `LOAD`, `FROM`, `FROM NAMED`) and every update
operation starts with a keyword token, and keywords cannot hide inside comments, strings,
IRIs or prefixed names once those are tokenised by the grammar's own rules. It also costs
microseconds, where rdflib's parser costs about 9 ms per query (measured; the endpoint's
latency budget is a few ms). The queries are then parsed for real and evaluated in a worker
process with no network at all (see query_pool), so a lexer mistake still cannot connect out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urljoin

from filmld.errors import BadRequest, PayloadTooLarge, SyntaxProblem

MAX_NESTING = 128
"""Deepest nesting of (), {} and [] accepted; pyoxigraph's parser dies at about 10,000."""

MAX_UNARY_RUN = 128
"""Longest run of unary operators (`!`, `-`, `+`) accepted, for the same reason."""

UPDATE_KEYWORDS = frozenset({"insert", "delete", "load", "clear", "create", "drop", "copy",
                             "move", "add", "with", "using"})
FORMS = {"select": "tabular", "ask": "boolean", "construct": "graph", "describe": "graph"}
NONDETERMINISTIC = frozenset({"rand", "now", "uuid", "struuid"})
"""Functions whose answer changes from one evaluation to the next: never cached."""


class UpdateRefused(BadRequest):
    """SPARQL Update sent to the query endpoint: always refused, whatever the content type."""

    title = "Update not allowed"


class OutboundRefused(BadRequest):
    """A query that names something outside this dataset (SERVICE, LOAD, a foreign graph)."""

    title = "Outbound access not allowed"


# -- lexing (SPARQL 1.1 section 19.8, terminals) -------------------------------------------
_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
                  "\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF"
                  "\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = (f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})"
             f"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?")
_ECHAR = r"\\[tbnrf\\\"']"

_TOKENS = [
    ("ws", r"[ \t\r\n]+"),
    ("comment", r"#[^\r\n]*"),
    ("iri", r"<[^<>\"{}|^`\\\x00-\x20]*>"),
    ("string", rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''"),
    ("string", rf'"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*"""'),
    ("string", rf"'(?:[^'\\\n\r]|{_ECHAR})*'"),
    ("string", rf'"(?:[^"\\\n\r]|{_ECHAR})*"'),
    ("pname", rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
    ("bnode", rf"_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
    ("var", rf"[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"),
    ("langtag", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"),
    ("number", r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"),
    ("word", r"[A-Za-z_][A-Za-z_0-9]*"),
    ("open", r"[({\[]"),
    ("close", r"[)}\]]"),
    ("operator", r"\|\||&&|!=|<=|>=|\^\^|[!=<>+\-*/|^,;.]"),
]
_SHORTCUTS = [
    ("ws", _TOKENS[0][1]),
    ("word", rf"[A-Za-z_][A-Za-z_0-9]*(?![{_PN_CHARS}.:])"),
    ("var", _TOKENS[9][1]),
    ("iri", _TOKENS[2][1]),
]
"""The commonest tokens, tried first (the lexer is a third of a small query's time in the
server). Exact: a word is taken early only where no prefixed name could go on from it; in
every other case these fail and the grammar's order above decides."""
_LEXER = re.compile("|".join(f"(?P<{name}{i}>{pattern})"
                             for i, (name, pattern) in enumerate(_SHORTCUTS + _TOKENS)))
_GROUP_KIND = {f"{name}{i}": name for i, (name, _) in enumerate(_SHORTCUTS + _TOKENS)}
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class Token(NamedTuple):
    """A tuple, not a dataclass: tokens are made for every request, and this is cheaper."""

    kind: str
    text: str
    position: int


def unescape_codepoints(text: str) -> str:
    """Section 19.2: \\uXXXX and \\UXXXXXXXX are replaced before parsing, everywhere."""
    def replace(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)
    return _CODEPOINT.sub(replace, text) if "\\u" in text or "\\U" in text else text


def tokens(text: str) -> Iterable[Token]:
    """The grammar's tokens, comments and white space dropped; unknown characters kept as such."""
    position, end = 0, len(text)
    match_at, kinds = _LEXER.match, _GROUP_KIND
    while position < end:
        match = match_at(text, position)
        if match is None:
            yield Token("unknown", text[position], position)
            position += 1
            continue
        kind = kinds[match.lastgroup]
        if kind != "ws" and kind != "comment":
            yield Token(kind, match.group(), position)
        position = match.end()


# -- the shape of a query ------------------------------------------------------------------
@dataclass
class QueryShape:
    """What the policy found: the query form and the graphs its FROM clauses name."""

    form: str
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    deterministic: bool = True
    tokens: list[Token] = field(default_factory=list, repr=False, compare=False)
    """The query's tokens (codepoint escapes applied), for what else decides on them."""

    @property
    def kind(self) -> str:
        """'tabular' (SELECT), 'boolean' (ASK) or 'graph' (CONSTRUCT, DESCRIBE)."""
        return FORMS[self.form]

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def analyse(query: str, *, max_length: int = 20000, base: str = "") -> QueryShape:
    """The shape of an untrusted query, or a 4xx error saying what is not allowed and where.

    Refuses: queries longer than `max_length` (413), any update operation (400), SERVICE
    (400), nesting deeper than MAX_NESTING (400). Syntax is not checked here beyond what the
    decision needs: the evaluating worker's parser reports syntax errors with line and column.
    Relative IRIs (in FROM, PREFIX, BASE) are resolved against `base`, the same base IRI
    the query is evaluated with (SPARQL 1.1 Query section 4.1.1.1), so the graphs checked
    are the graphs the query names.
    """
    if len(query) > max_length:
        raise PayloadTooLarge(f"the query is {len(query)} characters long; this endpoint "
                              f"accepts at most {max_length}")
    text = unescape_codepoints(query)
    prefixes: dict[str, tuple[str, str]] = {}  # name -> (base then, IRI): resolved if used
    form = ""
    depth = deepest = unary = 0
    from_graphs: list[str] = []
    from_named: list[str] = []
    deterministic = True
    stream = list(tokens(text))
    previous = None
    for index, token in enumerate(stream):
        if token.kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                line, column = _line_column(text, token.position)
                raise BadRequest(f"the query nests brackets more than {MAX_NESTING} levels deep "
                                 f"(at line {line}, column {column})",
                                 details={"line": line, "column": column})
            deepest = max(deepest, depth)
        elif token.kind == "close":
            depth = max(depth - 1, 0)
        if token.kind == "operator" and token.text in "!+-" and (
                previous is None or previous.kind in ("operator", "open")
                or previous.text == "!"):
            unary += 1
            if unary > MAX_UNARY_RUN:
                raise BadRequest(f"the query chains more than {MAX_UNARY_RUN} unary operators")
        elif token.kind != "operator":
            unary = 0
        previous = token
        if token.kind != "word":
            continue
        word = token.text.lower()
        if word in NONDETERMINISTIC:
            deterministic = False
        if word in UPDATE_KEYWORDS:
            line, column = _line_column(text, token.position)
            raise UpdateRefused(
                f"this endpoint is read-only: {token.text.upper()} (line {line}, column "
                f"{column}) is SPARQL Update, which is never executed here",
                details={"line": line, "column": column})
        if word == "service":
            line, column = _line_column(text, token.position)
            raise OutboundRefused(
                f"SERVICE (line {line}, column {column}) would make this server query another "
                "one; federated queries are not allowed here", details={"line": line,
                                                                        "column": column})
        if word == "base" and not form:
            following = stream[index + 1] if index + 1 < len(stream) else None
            if following is not None and following.kind == "iri":
                base = urljoin(base, following.text[1:-1])
        elif word == "prefix" and not form and index + 2 < len(stream):
            name, iri = stream[index + 1], stream[index + 2]
            if name.kind == "pname" and iri.kind == "iri":
                prefixes[name.text.split(":", 1)[0]] = (base, iri.text[1:-1])
        elif word in FORMS and not form:
            form = word
        elif word == "from":
            named = index + 1 < len(stream) and stream[index + 1].text.lower() == "named"
            at = index + (2 if named else 1)
            iri = _resolve(stream[at], prefixes, base) if at < len(stream) else None
            if iri is None:
                continue
            (from_named if named else from_graphs).append(iri)
    if not form:
        at = 0  # where the query form should be: past the BASE and PREFIX declarations
        while at < len(stream) and stream[at].text.lower() in ("base", "prefix"):
            at += 2 if stream[at].text.lower() == "base" else 3
        line, column = _line_column(text, stream[at].position if at < len(stream)
                                    else len(text))
        raise SyntaxProblem("this is not a SPARQL query: it should be a SELECT, ASK, CONSTRUCT "
                            "or DESCRIBE after any BASE and PREFIX declarations",
                            line=line, column=column)
    return QueryShape(form, from_graphs, from_named, deterministic, stream)


def without_dataset_clauses(query: str, stream: list[Token] | None = None) -> str:
    """The query with its FROM and FROM NAMED clauses blanked out, for a store that is given
    the dataset as protocol graphs (which replace them: SPARQL 1.1 Protocol 2.1.4) but lets
    the query's own clauses win (Virtuoso). Blanked with spaces, line breaks kept, so the
    store's error positions still point into the query as sent. `stream`: its tokens when
    the policy has them already (QueryShape.tokens), not lexed again."""
    text = unescape_codepoints(query)
    if stream is None:
        stream = list(tokens(text))
    spans = []
    for index, token in enumerate(stream):
        if token.kind != "word" or token.text.lower() != "from":
            continue
        at = index + 1
        if at < len(stream) and stream[at].text.lower() == "named":
            at += 1
        if at < len(stream) and stream[at].kind in ("iri", "pname"):
            spans.append((token.position, stream[at].position + len(stream[at].text)))
    if not spans:
        return query
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], re.sub(r"[^\n]", " ", text[start:end])]
        last = end
    return "".join([*pieces, text[last:]])


_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


def _resolve(token: Token | None, prefixes: dict[str, tuple[str, str]],
             base: str) -> str | None:
    if token is None:
        return None
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1]) if base else token.text[1:-1]
    if token.kind == "pname":
        prefix, local = token.text.split(":", 1)
        if prefix not in prefixes:
            return None  # an undeclared prefix is a syntax error for the real parser
        return urljoin(*prefixes[prefix]) + _PN_LOCAL_ESCAPE.sub(r"\1", local)
    return None


# -- readable parser messages -------------------------------------------------------------
_CHARACTER_CLASS = re.compile(r"\[[^\]]*\]\s*,?\s*")


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    return start + max(column - 1, 0)


def undeclared_prefix(query: str, line: int, column: int) -> str | None:
    """The first prefix used at or before (line, column) that no PREFIX declares."""
    text = unescape_codepoints(query)
    end = _offset(text, line, column)
    declared: set[str] = set()
    stream = list(tokens(text))
    for index, token in enumerate(stream):
        if token.position > end:
            break
        if token.kind == "word" and token.text.lower() == "prefix" and index + 1 < len(stream):
            following = stream[index + 1]
            if following.kind == "pname":
                declared.add(following.text.split(":", 1)[0])
            continue
        if token.kind == "pname" and (index == 0 or stream[index - 1].text.lower() != "prefix"):
            previous = stream[index - 1] if index else None
            if text.startswith("//", token.position + len(token.text)) or (
                    previous is not None and previous.text == "<"
                    and previous.position + 1 == token.position):
                continue  # an IRI the lexer could not read (`<http://a b>`, no brackets)
            prefix = token.text.split(":", 1)[0]
            if prefix not in declared:
                return prefix
    return None


def readable_syntax_message(message: str, query: str, line: int, column: int) -> str:
    """A parser message people can act on: the common mistakes in words, the token lists
    of the grammar without their character classes, and short (line and column are kept
    apart by the caller)."""
    prefix = undeclared_prefix(query, line, column) if query else None
    if prefix is not None:
        return (f"undeclared prefix '{prefix}:' (declare it first: PREFIX {prefix}: <...>)")
    message = " ".join(message.split())
    message = message.replace("Prefix not found, ", "")
    cleaned = _CHARACTER_CLASS.sub("", message).rstrip(", ")
    if cleaned and cleaned not in ("expected one of", "expected"):
        message = cleaned
    if len(message) > 240:  # pyoxigraph lists every expected token; keep the start
        message = message[:240].rsplit(",", 1)[0] + ", ..."
    return message or "syntax error"


# -- the dataset a request may name --------------------------------------------------------
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*")


def check_iris(values: Iterable[str], *, where: str) -> None:
    """400 for a protocol graph parameter that is not an absolute IRI (RFC 3987)."""
    for value in values:
        if not _IRI.fullmatch(value):
            raise BadRequest(f"{where}={value!r} is not an IRI: the SPARQL 1.1 Protocol "
                             "(section 2.1.4) takes absolute IRIs of graphs here",
                             details={"parameter": where})


def check_graphs(graphs: Iterable[str], dataset_graphs: Iterable[str],
                 allowed: Iterable[str], *, where: str) -> None:
    """400 unless every graph is one of this dataset's or on the allow-list (never fetched)."""
    known = set(dataset_graphs) | {g for g in allowed if g}
    foreign = [g for g in graphs if g not in known]
    if foreign:
        raise OutboundRefused(
            f"{where} names {', '.join('<' + g + '>' for g in foreign)}, which is not a graph of "
            "this dataset; this server never fetches graphs from elsewhere. Graphs here: "
            "GET /sparql (service description) lists them.",
            details={"graphs": foreign})


def allowed_graphs(setting: str) -> list[str]:
    """The allowed_graphs setting as a list (comma- or space-separated IRIs)."""
    return [g for g in re.split(r"[,\s]+", setting or "") if g]


def dataset_options(default_graphs: list[str], named_graphs: list[str],
                    shape: QueryShape) -> dict:
    """Protocol graphs replace the query's FROM, and name the whole dataset: default-graph-uri
    alone means no named graphs, named-graph-uri alone an empty default graph (SPARQL 1.1
    Protocol section 2.1.4, Query section 13.2); neither: the query's FROM / FROM NAMED when
    it has them, else the union of all graphs. `/sparql` and `filmld query` both use this."""
    if default_graphs or named_graphs:
        return {"default_graphs": default_graphs, "named_graphs": named_graphs, "union": False}
    return {"default_graphs": None, "named_graphs": None, "union": not shape.has_dataset_clause}
