"""SPARQL result formats: one registry entry per format, each a streaming, capped serialiser.

Formats: SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/),
XML (https://www.w3.org/TR/rdf-sparql-XMLres/), CSV and TSV
(https://www.w3.org/TR/sparql11-results-csv-tsv/) for SELECT and ASK; Turtle, JSON-LD,
N-Triples and RDF/XML for CONSTRUCT and DESCRIBE, and N-Quads and TriG, the dataset formats
some clients ask a graph in (YASGUI's N-Quads and TriG settings): a graph is a dataset of
one default graph, written as such. Every serialiser writes through `emit`
in pieces and stops after `limit` rows or triples, so memory does not grow with the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count, islice
from operator import itemgetter
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from filmld.formats import JSONLD, NQUADS, NTRIPLES, RDFXML, TRIG, TURTLE, RdfFormat

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
BATCH = 256
"""Rows serialised per emitted piece."""

Emit = Callable[[bytes], None]
TRUNCATED_MEMBER = "x-filmld-truncated"
STREAMS_EARLY = frozenset({"json", "xml", "csv", "tsv", "ttl", "nt", "rdf", "nq", "trig"})
"""Formats that may start streaming before the cut at the result limit is known (beyond the
first HOLD_BYTES, held so that headers can say the cut exactly): their end says the cut (a
JSON member, an XML or Turtle comment; CSV and TSV, which have no comments, a last line of
its own, see `write_solutions`). JSON-LD is held whole (memory bounded by the result limit)."""
PREFIXED = frozenset({"ttl", "trig"})
"""Graph formats written with the base IRI's prefixes (filmld.namespaces)."""
HOLD_BYTES = 1 << 20
"""Output held back until the result cut is known, so headers can say it exactly."""


def truncation_note(limit: int, unit: str) -> str:
    return f"filmld: result truncated after {limit} {unit} (the endpoint's result limit)"


def cut_ending(name: str, limit: int, streaming: bool = True) -> bytes:
    """What follows the last row (or triple) of an answer cut at `limit`, in format `name`;
    one definition for every writer (write_solutions, write_triples, native_results,
    sparql_passthrough), so a cut reads the same whichever wrote it. JSON: the end of the
    document with the extension member (SPARQL JSON readers ignore unknown members); XML:
    a comment before `</sparql>`; N-Triples and Turtle a comment line, RDF/XML a comment
    after the root element; CSV and TSV, which have no comments, a last line of their own,
    only once streaming has begun (a held answer says the cut in its response header)."""
    note = truncation_note(limit, "rows" if name in ("json", "xml", "csv", "tsv")
                           else "triples")
    if name == "json":
        return f']}},"{TRUNCATED_MEMBER}":{{"limit":{limit}}}}}\n'.encode()
    if name == "xml":
        return f"</results><!-- {note} --></sparql>\n".encode()
    if name in ("csv", "tsv"):
        return f"# {note}{chr(13) if name == 'csv' else ''}\n".encode() if streaming else b""
    if name in ("ttl", "nt", "nq", "trig"):
        return f"# {note}\n".encode()
    if name == "rdf":
        return f"<!-- {note} -->\n".encode()
    return b""


def lead_json_cut(body: bytes, limit: int) -> bytes:
    """A whole JSON answer cut at `limit`, its note moved from its end to its front.

    Why: strict readers (Oxigraph's, so pyoxigraph's `parse_query_results`) refuse any
    member after "results", and every reader accepts one before "head" (JSON members have
    no order). A streamed answer cannot do this: its cut is found after its start is sent."""
    ending = cut_ending("json", limit)
    if not body.endswith(ending) or not body.startswith(b"{"):
        return body
    return (b'{"%s":{"limit":%d},' % (TRUNCATED_MEMBER.encode(), limit)
            + body[1:-len(ending)] + b"]}}\n")


def stream_cut_marker(reason: str) -> bytes:
    """The last line of a response cut after its headers were sent (time bound, worker gone).

    granian (2.8, WSGI) ends a chunked body cleanly even when the application's iterator
    raises, so the connection cannot be aborted from here (tested in test_sparql_live.py);
    instead the body ends with this line, which is a syntax error in every result format
    (JSON, XML, Turtle, N-Triples, TSV: a parsing client raises) and a visible last row in
    CSV. It names no internal detail, only what happened."""
    reason = " ".join(reason.split()).replace(",", ";")
    return (f"\n!filmld: RESULT STREAM CUT ({reason}); this response is incomplete\n").encode()


@dataclass(frozen=True)
class ResultFormat:
    """One result serialisation: its short name, media type, the query kinds it serves."""

    name: str
    media_type: str
    kinds: tuple[str, ...]
    label: str
    aliases: tuple[str, ...] = ()
    rdf: RdfFormat | None = None

    @property
    def content_type(self) -> str:
        return self.media_type if self.media_type == "application/ld+json" \
            else f"{self.media_type}; charset=utf-8"


TABULAR = ("tabular", "boolean")
RESULT_FORMATS: dict[str, ResultFormat] = {f.name: f for f in (
    ResultFormat("json", "application/sparql-results+json", TABULAR, "JSON",
                 ("application/json", "srj")),
    ResultFormat("xml", "application/sparql-results+xml", TABULAR, "XML",
                 ("application/xml", "text/xml", "srx")),
    ResultFormat("csv", "text/csv", TABULAR, "CSV"),
    ResultFormat("tsv", "text/tab-separated-values", TABULAR, "TSV"),
    ResultFormat("ttl", TURTLE.media_type, ("graph",), "Turtle",
                 ("turtle", "application/x-turtle"), TURTLE),
    ResultFormat("jsonld", JSONLD.media_type, ("graph",), "JSON-LD",
                 ("json-ld", "application/json"), JSONLD),
    ResultFormat("nt", NTRIPLES.media_type, ("graph",), "N-Triples",
                 ("ntriples", "n-triples", "text/plain"), NTRIPLES),
    ResultFormat("rdf", RDFXML.media_type, ("graph",), "RDF/XML",
                 ("rdfxml", "rdf/xml", "application/xml", "text/xml"), RDFXML),
    ResultFormat("nq", NQUADS.media_type, ("graph",), "N-Quads", ("nquads", "n-quads"), NQUADS),
    ResultFormat("trig", TRIG.media_type, ("graph",), "TriG", (), TRIG),
)}
"""In server preference order: for a tie in the client's q-values the first wins."""


def formats_for(kind: str) -> list[ResultFormat]:
    return [f for f in RESULT_FORMATS.values() if kind in f.kinds]


XML_LABELS = {"xml": "the SPARQL XML results format", "rdf": "RDF/XML"}
"""The result formats that are XML 1.0 (filmld.xml_chars), as messages name them."""


def xml_rules(fmt: ResultFormat) -> tuple[str, list[str]] | None:
    """For an XML format, xml_chars.xml_guard's arguments: its name in messages, and the
    formats of its kind that can carry what XML cannot; None for the others."""
    if fmt.name not in XML_LABELS:
        return None
    return XML_LABELS[fmt.name], [f.name for f in formats_for(fmt.kinds[0])
                                  if f.name not in XML_LABELS]


def format_named(name: str, kind: str) -> ResultFormat | None:
    """The format a ?format= value names for this kind of query (short name or media type)."""
    key = name.split(";", 1)[0].strip().lower()
    for fmt in formats_for(kind):
        if key in (fmt.name, fmt.media_type, *fmt.aliases):
            return fmt
    return None


# -- terms -----------------------------------------------------------------------------------
def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                        "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{escape(term.value)}</literal>")
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
            f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}</object>"
            "</triple>")


def _csv_field(term) -> str:
    if term is None:
        return ""
    value = f"_:{term.value}" if isinstance(term, ox.BlankNode) else \
        term.value if isinstance(term, (ox.NamedNode, ox.Literal)) else str(term)
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _tsv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype == XSD_INTEGER and term.value.lstrip("+-").isdigit():
            return term.value
        text = (term.value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
                .replace("\n", "\\n").replace("\r", "\\r"))
        if term.language:
            return f'"{text}"@{term.language}'
        return f'"{text}"' if datatype == XSD_STRING else f'"{text}"^^<{datatype}>'
    return str(term)


# -- SELECT and ASK ----------------------------------------------------------------------------
def _rows(solutions: Iterable, limit: int, width: int, counter: list) -> Iterator[list]:
    """Rows as lists of terms (None when unbound); counter[0] counts, counter[1] marks a cut."""
    for solution in solutions:
        if counter[0] >= limit:
            counter[1] = True
            return
        counter[0] += 1
        yield [solution[i] for i in range(width)]


def write_solutions(fmt: ResultFormat, variables: list[str], solutions: Iterable, limit: int,
                    emit: Emit, hold: int = HOLD_BYTES) -> tuple[int, bool]:
    """Serialise up to `limit` solutions; returns (rows written, whether the result was cut).

    CSV and TSV have no comment syntax: a cut is said by the response header when the body
    is at most `hold` bytes (held until the end, the caller's rule), and only beyond that,
    once streaming has begun, by a last line `# filmld: result truncated after N rows ...`
    (a visible row in CSV, an invalid term in TSV, so never silent). Rows are emitted in
    batches, so memory stays flat whatever the result size."""
    counter = [0, False]
    rows = _rows(solutions, limit, len(variables), counter)
    batch: list[str] = []
    written = [0]

    def flush() -> None:
        if batch:
            data = "".join(batch).encode()
            written[0] += len(data)
            emit(data)
            batch.clear()

    if fmt.name == "json":
        names = json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
        emit(('{"head":{"vars":' + names + '},"results":{"bindings":[').encode())
        separator = ""
        for row in rows:
            binding = {v: _json_term(t) for v, t in zip(variables, row) if t is not None}
            batch.append(separator + json.dumps(binding, ensure_ascii=False,
                                                separators=(",", ":")))
            separator = ","
            if len(batch) >= BATCH:
                flush()
        batch.append(cut_ending("json", limit).decode() if counter[1] else "]}}\n")
    elif fmt.name == "xml":
        emit(('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
              "<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
              + "</head><results>\n").encode())
        for row in rows:
            batch.append("<result>" + "".join(
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row) if t is not None) + "</result>\n")
            if len(batch) >= BATCH:
                flush()
        batch.append(cut_ending("xml", limit).decode() if counter[1] else
                     "</results></sparql>\n")
    elif fmt.name == "csv":
        batch.append(",".join(variables) + "\r\n")
        for row in rows:
            batch.append(",".join(_csv_field(t) for t in row) + "\r\n")
            if len(batch) >= BATCH:
                flush()
        flush()
        if counter[1]:
            batch.append(cut_ending("csv", limit, written[0] >= hold).decode())
    elif fmt.name == "tsv":
        batch.append("\t".join("?" + v for v in variables) + "\n")
        for row in rows:
            batch.append("\t".join(_tsv_field(t) for t in row) + "\n")
            if len(batch) >= BATCH:
                flush()
        flush()
        if counter[1]:
            batch.append(cut_ending("tsv", limit, written[0] >= hold).decode())
    else:
        raise ValueError(f"{fmt.name} is not a format for SELECT results")
    flush()
    return counter[0], counter[1]


def write_boolean(fmt: ResultFormat, answer: bool, emit: Emit) -> None:
    word = "true" if answer else "false"
    if fmt.name == "json":
        emit(f'{{"head":{{}},"boolean":{word}}}\n'.encode())
    elif fmt.name == "xml":
        emit(('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
              f"<head/><boolean>{word}</boolean></sparql>\n").encode())
    elif fmt.name == "csv":
        emit(f"_askResult\r\n{word}\r\n".encode())
    elif fmt.name == "tsv":
        emit(f"?_askResult\n{word}\n".encode())
    else:
        raise ValueError(f"{fmt.name} is not a format for ASK results")


# -- CONSTRUCT and DESCRIBE ------------------------------------------------------------------
class _Writer:
    """A binary file-like object that hands what pyoxigraph writes to `emit`."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit

    def write(self, data) -> int:
        if data:
            self.emit(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def write_triples(fmt: ResultFormat, triples: Iterable, limit: int, emit: Emit,
                  prefixes: dict[str, str] | None = None) -> tuple[int, bool]:
    """Serialise up to `limit` triples; returns (triples written, whether the result was cut).

    The cap and the count are C iterators (islice, zip with a count), not a Python
    generator: pyoxigraph pulls each triple from them, and a generator's frame per triple
    was most of the time of a small DESCRIBE."""
    if fmt.rdf is None:
        raise ValueError(f"{fmt.name} is not a format for CONSTRUCT results")
    source = iter(triples)
    counted = count()
    capped = map(itemgetter(0), zip(islice(source, limit), counted))
    ox.serialize(capped, _Writer(emit), fmt.rdf.oxigraph,
                 prefixes=prefixes if fmt.name in PREFIXED else None)
    written = next(counted)  # zip stops at the end of islice, before taking a number
    cut = written == limit and next(source, None) is not None
    if cut:  # JSON-LD is held whole: its cut is said by the response header
        emit(cut_ending(fmt.name, limit))
    return written, cut
