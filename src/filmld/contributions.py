"""Contributed triples: read safely, validate with the data they touch, accept durably with
PROV-O provenance in a named graph of their own, refuse with a report, or withdraw (issue 6).

Nothing here imports Flask: the web views and the CLI call these functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox

from filmld.config import Settings
from filmld.contribution_policy import Model
from filmld.contribution_policy import check as policy_check
from filmld.errors import (
    BadRequest,
    FilmldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    SyntaxProblem,
    UnsupportedMediaType,
)
from filmld.formats import JSONLD, NTRIPLES, TURTLE, RdfFormat
from filmld.loading import parse
from filmld.store import Store
from filmld.tokens import CHALLENGE, Contributor
from filmld.validation import Report, Validator, attribute
from filmld.xml_chars import XML_FORBIDDEN

log = logging.getLogger("filmld.contributions")

# RDF/XML is refused: its parser expands entity declarations ("billion laughs"), see
# shared/stores/README.md. Named-graph formats are refused: a contribution is one graph.
ACCEPTED_FORMATS: dict[str, RdfFormat] = {f.media_type: f for f in (TURTLE, JSONLD, NTRIPLES)}
# pyoxigraph's JSON-LD parser overflows its stack at about 5,000 nested objects (segfault,
# no exception); film facts need a handful of levels.
MAX_JSONLD_DEPTH = 64
ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
BOM = b"\xef\xbb\xbf"
# GET /contributions?page=N: beyond this, 400 (an OFFSET past 2**63 overflows the store).
MAX_PAGE = 1_000_000

PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
SPDX = "http://spdx.org/rdf/terms#"


class Gone(FilmldError):
    status, title = 410, "Gone"


class WithdrawalRefused(FilmldError):
    """Withdrawing would make the remaining data invalid; carries the SHACL report."""

    status, title = 409, "Conflict"

    def __init__(self, message: str, report: Report,
                 blockers: list[dict] | None = None) -> None:
        super().__init__(message, details={"blockedBy": blockers or []})
        self.report = report
        self.blockers = blockers or []


# -- reading a body --------------------------------------------------------------------

def body_format(content_type: str | None) -> RdfFormat:
    """The format a Content-Type names, or 415 listing the accepted ones. A charset other
    than UTF-8 is a 415 too: Turtle, N-Triples and JSON-LD are UTF-8 (RDF 1.1 Turtle
    section 7.2, RFC 8259 section 8.1), and filmld does not transcode."""
    media, _, parameters = (content_type or "").partition(";")
    media = media.strip().lower()
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                f"charset {charset} is not accepted: send the body as UTF-8 "
                "(charset=utf-8, or no charset)", headers={"Accept-Post": ", ".join(ACCEPTED_FORMATS)})
    fmt = ACCEPTED_FORMATS.get(media)
    if fmt is None:
        accepted = ", ".join(ACCEPTED_FORMATS)
        said = f"Content-Type {media}" if media else "no Content-Type"
        raise UnsupportedMediaType(f"{said} is not accepted; send one of: {accepted}",
                                   headers={"Accept-Post": accepted},
                                   details={"accepted": list(ACCEPTED_FORMATS)})
    return fmt


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
        raise SyntaxProblem("the body is not valid UTF-8", line=line, column=column) from None


def check_jsonld(text: str) -> object:
    """Refuse, before pyoxigraph sees it, JSON-LD that would fetch or crash.

    A remote @context (a string, or @import) would be fetched by a JSON-LD processor:
    filmld never fetches one (pyoxigraph 0.5 has no loader and errors; we say why, first).
    Nesting deeper than MAX_JSONLD_DEPTH is refused: pyoxigraph dies at about 5,000 levels.
    Python's json module stops at about 1,000 levels with a clean RecursionError,
    so this check itself cannot crash; it takes about 50 ms per MB of JSON-LD here.
    """
    try:
        document = json.loads(text)
    except RecursionError:
        raise BadRequest(f"JSON-LD nested more than {MAX_JSONLD_DEPTH} levels deep is not "
                         "accepted") from None
    except json.JSONDecodeError as error:
        raise SyntaxProblem(error.msg, line=error.lineno, column=error.colno) from None
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSONLD_DEPTH:
            raise BadRequest(f"JSON-LD nested more than {MAX_JSONLD_DEPTH} levels deep is not "
                             "accepted")
        if isinstance(value, dict):
            if "@context" in value:
                _check_context(value["@context"])
            if "@import" in value:
                raise BadRequest("JSON-LD @import loads a remote context; filmld never "
                                 "fetches one: put the context inline")
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return document


KEYWORD_PROBLEM = re.compile(r"(@[a-z]+) value must be")


def json_path(document: object, message: str) -> str | None:
    """Where in a JSON-LD document pyoxigraph's complaint ("@id value must be a string")
    applies, as a JSONPath ($["knows"][0]["@id"]): its errors carry no position."""
    match = KEYWORD_PROBLEM.search(message)
    term_definition = "Term definition" in message
    if not match and not term_definition:
        return None
    stack: list[tuple[object, str, bool]] = [(document, "$", False)]
    while stack:
        value, path, in_context = stack.pop(0)
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{path}[{json.dumps(key)}]"
                if match and key == match.group(1) and _malformed(key, item):
                    return here
                if term_definition and in_context and not isinstance(item, str | dict) \
                        and item is not None:
                    return here
                stack.append((item, here, key == "@context"))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]", in_context) for i, item in enumerate(value))
    return None


def _malformed(key: str, value: object) -> bool:
    if key == "@value":
        return isinstance(value, dict | list)
    return not isinstance(value, str) and not (key == "@type" and isinstance(value, list))


def _check_context(context: object) -> None:
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, str):
            raise BadRequest(f"JSON-LD remote @context {entry!r}: filmld never fetches "
                             "remote contexts; put the context inline")


def read_contribution(body: bytes, content_type: str | None, settings: Settings
                      ) -> list[ox.Triple]:
    """The triples of a request body, or the 4xx error that says what is wrong with it.

    Order: media type (415), empty (400), UTF-8 (400), JSON-LD guards (400), syntax (400
    with line and column), named graphs (400), size in triples (413), namespace (403).
    """
    fmt = body_format(content_type)
    body = body.removeprefix(BOM)  # allowed, and meaningless, in UTF-8 (Unicode 15, 23.8)
    if not body.strip():
        raise BadRequest("the body is empty; send the triples to contribute")
    text = _utf8(body)
    document = check_jsonld(text) if fmt is JSONLD else None
    limit = settings.max_contribution_triples
    triples: list[ox.Triple] = []
    blank: dict[str, ox.BlankNode] = {}
    try:
        for quad in parse(body, fmt, base=settings.base_url, name="body"):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                raise BadRequest("named graphs are not accepted: a contribution is one graph")
            if len(triples) >= limit:
                raise PayloadTooLarge(f"a contribution may carry at most {limit} triples")
            triples.append(ox.Triple(_fresh(quad.subject, blank), quad.predicate,
                                     _fresh(quad.object, blank)))
    except SyntaxProblem as problem:
        where = json_path(document, problem.message) if document is not None else None
        if where is None or problem.line is not None:
            raise
        located = SyntaxProblem(f"{problem.message} (at {where})")
        located.details["path"] = where
        raise located from None
    if not triples:
        raise BadRequest("the body holds no triples")
    check_characters(triples, text)
    return triples


# C0 controls other than TAB, LF, CR (and U+FFFE, U+FFFF) cannot be written in XML 1.0
# (section 2.2, Char) and are never text: RDF/XML could not carry them (renderers.rdfxml).
CONTROL = XML_FORBIDDEN


def check_characters(triples: list[ox.Triple], text: str) -> None:
    """400 for a literal holding a control character, at its line and column if written
    raw in the body (else the triple it is in: it was written as an escape)."""
    for t in triples:
        if isinstance(t.object, ox.Literal) and CONTROL.search(t.object.value):
            char = CONTROL.search(t.object.value).group(0)
            where = CONTROL.search(text)
            message = (f"the literal {_short(t.object.value)!r} of {t.subject} "
                       f"{t.predicate} holds the control character U+{ord(char):04X}, "
                       "which RDF/XML and HTML cannot carry; remove it")
            if where is not None:
                line = text.count("\n", 0, where.start()) + 1
                column = where.start() - (text.rfind("\n", 0, where.start()) + 1) + 1
                raise SyntaxProblem(message, line=line, column=column)
            raise BadRequest(message, details={"subject": str(t.subject),
                                               "predicate": str(t.predicate)})


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "..."


def _fresh(term, blank: dict[str, ox.BlankNode]):
    """Blank nodes get new random identifiers, so two contributions' _:b0 never merge."""
    if isinstance(term, ox.BlankNode):
        return blank.setdefault(term.value, ox.BlankNode())
    return term


HASH_METHOD = ("SHA-256 of the contribution's triples as stored, each written as one "
               "N-Triples line (pyoxigraph's serialisation, ending in LF), the lines sorted "
               "by code point and joined, encoded as UTF-8. No canonicalisation is needed: "
               "blank nodes are stored as skolem IRIs {base}.well-known/genid/<id>-<n> "
               "(RDF 1.1 Concepts, section 3.5), so the stored graph has none")


def content_hash(triples: list[ox.Triple]) -> str:
    """HASH_METHOD. (Triples with blank nodes, which the server never hashes, are relabelled
    by RDFC-1.0 first; RDFC-1.0 is exponential on some small graphs: 72 triples, 3 s.)"""
    if any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
           for t in triples):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        triples = [q.triple for q in dataset]
    lines = sorted(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def skolemise(triples: list[ox.Triple], base: str, contribution_id: str) -> list[ox.Triple]:
    """Blank nodes replaced by IRIs of their own, numbered in order of first appearance
    (RDF 1.1 Concepts section 3.5): the stored graph is hashed without canonicalising
    (RDFC-1.0 on eight blank nodes with eight alike children each took 3 s, 16 x 16 ran out
    of memory, under the write lock), and stays the same graph on any store."""
    names: dict[ox.BlankNode, ox.NamedNode] = {}

    def term(node):
        if not isinstance(node, ox.BlankNode):
            return node
        if node not in names:
            names[node] = ox.NamedNode(f"{base}.well-known/genid/{contribution_id}-"
                                       f"{len(names) + 1}")
        return names[node]

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]


# -- contributions in the store ---------------------------------------------------------

@dataclass
class Record:
    """What the provenance graph says about one contribution."""

    id: str
    iri: str
    contributor: str
    generated: str
    triples: int
    sha256: str
    withdrawn: str | None = None
    withdrawn_by: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "iri": self.iri, "contributor": self.contributor,
                "generatedAtTime": self.generated, "triples": self.triples,
                "sha256": self.sha256, "withdrawnAtTime": self.withdrawn,
                "withdrawnBy": self.withdrawn_by}


def withdrawn(record: Record) -> Gone:
    """410 for a withdrawn contribution, the same for a GET and a second DELETE: who, when,
    and where its provenance stays."""
    where = f"/contributions/{record.id}/provenance"
    return Gone(f"contribution {record.id} was withdrawn by {record.withdrawn_by} at "
                f"{record.withdrawn}; its provenance is at {where}",
                headers={"Link": f'<{where}>; rel="describedby"'})


@dataclass
class Outcome:
    """The answer to a contribution: accepted (with its record) or refused (with a report)."""

    report: Report
    record: Record | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.record is not None


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


class Contributions:
    """Accept, refuse, list and withdraw contributions on one store."""

    def __init__(self, store: Store, validator: Validator, settings: Settings) -> None:
        self.store, self.validator, self.settings = store, validator, settings
        self.base = settings.base_url
        self.provenance_graph = store.graph_iri("provenance")
        self._model: Model | None = None

    @property
    def model(self) -> Model:
        """The policy's model (terms, kinds), read from ontology/, shapes/ and data/ once."""
        if self._model is None:
            from filmld.loading import read_data

            self._model = Model.from_graphs(self.validator.ontology, self.validator.shapes,
                                            read_data(self.base, self.settings), self.base)
        return self._model

    def iri(self, contribution_id: str) -> str:
        return f"{self.base}contributions/{contribution_id}"

    def agent(self, name: str) -> str:
        from urllib.parse import quote

        return f"{self.base}contributors/{quote(name, safe='')}"

    # -- accepting ------------------------------------------------------------------------
    def check(self, triples: list[ox.Triple]) -> Report:
        """The dry run (POST /validate, filmld validate --store): validate, store nothing."""
        return self._validate(triples)

    def _validate(self, triples: list[ox.Triple]) -> Report:
        """The policy first (cheap, linear); the shapes only for what it lets through."""
        report = policy_check(triples, self.model, self.base, self.store)
        if not report.conforms:
            return attribute(report, triples)
        return self.validator.validate_change(self.store, triples)

    def submit(self, contributor: Contributor, triples: list[ox.Triple]) -> Outcome:
        """Validate against the store and, if no violation, store with provenance.

        Validation and write happen under the store's write lock, so two contributions
        each valid alone but not together cannot both land. Durable when this returns.
        """
        with self.store.write_lock():
            report = self._validate(triples)
            if not report.conforms:
                log.info("refused contribution by %s: %d triples, %d violation(s)",
                         contributor.name, len(triples), len(report.violations))
                return Outcome(report)
            new_id = secrets.token_hex(8)
            triples = skolemise(triples, self.base, new_id)
            record = Record(id=new_id, iri=self.iri(new_id), contributor=contributor.name,
                            generated=_now(), triples=len(triples),
                            sha256=content_hash(triples))
            self.store.change_graphs(add={record.iri: triples,
                                          self.provenance_graph: self._provenance(record)})
        log.info("accepted contribution %s by %s: %d triples, %d warning(s), sha256 %s",
                 record.id, contributor.name, record.triples, len(report.warnings),
                 record.sha256)
        return Outcome(report, record, triples)

    def _provenance(self, record: Record) -> list[ox.Triple]:
        """PROV-O: the contribution is a prov:Entity generated by a submission activity."""
        c, agent = _n(record.iri), _n(self.agent(record.contributor))
        activity, checksum = _n(record.iri + "#submission"), _n(record.iri + "#sha256")
        when = ox.Literal(record.generated, datatype=_n(XSD + "dateTime"))
        return [
            ox.Triple(c, _n(RDF_TYPE), _n(PROV + "Entity")),
            ox.Triple(c, _n(RDFS_LABEL), ox.Literal(
                f"Contribution {record.id} by {record.contributor}", language="en")),
            ox.Triple(c, _n(PROV + "wasAttributedTo"), agent),
            ox.Triple(c, _n(PROV + "generatedAtTime"), when),
            ox.Triple(c, _n(PROV + "wasGeneratedBy"), activity),
            ox.Triple(c, _n(VOID_TRIPLES), ox.Literal(str(record.triples),
                                                       datatype=_n(XSD + "integer"))),
            ox.Triple(c, _n(SPDX + "checksum"), checksum),
            ox.Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
            ox.Triple(checksum, _n(SPDX + "checksumValue"), ox.Literal(record.sha256)),
            ox.Triple(activity, _n(RDF_TYPE), _n(PROV + "Activity")),
            ox.Triple(activity, _n(PROV + "wasAssociatedWith"), agent),
            ox.Triple(activity, _n(PROV + "endedAtTime"), when),
            ox.Triple(agent, _n(RDF_TYPE), _n(PROV + "Agent")),
            ox.Triple(agent, _n(RDFS_LABEL), ox.Literal(record.contributor)),
        ]

    # -- withdrawing ----------------------------------------------------------------------
    def withdraw(self, contributor: Contributor, contribution_id: str) -> Record:
        """Remove a contribution's graph and record who withdrew it, in one transaction.

        Its contributor or the operator may; curated data is never touched (it is not a
        contribution), and the provenance stays, with the withdrawal as an activity.
        """
        with self.store.write_lock():
            record = self.record(contribution_id)
            if record.withdrawn:
                raise withdrawn(record)
            if not contributor.is_operator and contributor.name != record.contributor:
                # RFC 6750 section 3: a token that does not enable access gets a challenge.
                raise Forbidden(f"only {record.contributor} or the operator may withdraw "
                                f"contribution {contribution_id}", headers={
                                    "WWW-Authenticate": CHALLENGE + ', error="insufficient_scope"'})
            report = self.validator.validate_removal(self.store, record.iri)
            if not report.conforms:
                # No override, not even for the operator: the store must stay valid.
                # Withdraw the blocking contributions first (README, Contributions).
                blockers = self.blockers(report, record)
                log.info("refused withdrawal of contribution %s by %s: %d violation(s)",
                         contribution_id, contributor.name, len(report.violations))
                named = "; ".join(f"{b['iri']} by {b['contributor']}" for b in blockers)
                raise WithdrawalRefused(
                    f"withdrawing contribution {contribution_id} would leave "
                    f"{len(report.violations)} violation(s) of the shapes: other data builds "
                    f"on it ({named or 'curated data'}); withdraw those first", report,
                    blockers)
            when = _now()
            c, activity = _n(record.iri), _n(record.iri + "#withdrawal")
            agent = _n(self.agent(contributor.name))
            stamp = ox.Literal(when, datatype=_n(XSD + "dateTime"))
            provenance = [
                ox.Triple(c, _n(PROV + "wasInvalidatedBy"), activity),
                ox.Triple(c, _n(PROV + "invalidatedAtTime"), stamp),
                ox.Triple(activity, _n(RDF_TYPE), _n(PROV + "Activity")),
                ox.Triple(activity, _n(RDFS_LABEL), ox.Literal("withdrawal", language="en")),
                ox.Triple(activity, _n(PROV + "wasAssociatedWith"), agent),
                ox.Triple(activity, _n(PROV + "endedAtTime"), stamp),
                ox.Triple(activity, _n(PROV + "invalidated"), c),
                ox.Triple(agent, _n(RDF_TYPE), _n(PROV + "Agent")),
                ox.Triple(agent, _n(RDFS_LABEL), ox.Literal(contributor.name)),
            ]
            self.store.change_graphs(drop=[record.iri],
                                     add={self.provenance_graph: provenance})
        log.info("withdrew contribution %s of %s by %s", contribution_id, record.contributor,
                 contributor.name)
        record.withdrawn, record.withdrawn_by = when, contributor.name
        return record

    def blockers(self, report: Report, record: Record) -> list[dict]:
        """The live contributions that state the facts the violations are about (their
        focus nodes as subjects), with their contributors: what to withdraw first."""
        focus = " ".join(f"<{f}>" for f in report.by_focus() if f.startswith("http"))
        if not focus:
            return []
        rows = self.store.select(
            f"SELECT DISTINCT ?g WHERE {{ VALUES ?s {{ {focus} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(STRSTARTS(STR(?g), \"{self.base}contributions/\") "
            f"&& ?g != <{record.iri}>) }}")
        found = []
        for row in rows:
            other = self.record(row["g"].value.rsplit("/", 1)[-1])
            found.append({"id": other.id, "iri": other.iri, "contributor": other.contributor})
        return sorted(found, key=lambda b: b["id"])

    # -- reading --------------------------------------------------------------------------
    _RECORDS = """PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?c ?who ?when ?n ?hash ?gone ?goneBy WHERE {{ GRAPH <{graph}> {{
  {values}
  ?c prov:wasAttributedTo ?agent ; prov:generatedAtTime ?when ;
     <http://rdfs.org/ns/void#triples> ?n ;
     <http://spdx.org/rdf/terms#checksum>/<http://spdx.org/rdf/terms#checksumValue> ?hash .
  ?agent <http://www.w3.org/2000/01/rdf-schema#label> ?who .
  OPTIONAL {{ ?c prov:invalidatedAtTime ?gone ; prov:wasInvalidatedBy ?w .
             ?w prov:wasAssociatedWith/<http://www.w3.org/2000/01/rdf-schema#label> ?goneBy }}
}} }} ORDER BY DESC(?when) DESC(?c) {page}"""

    def _records(self, values: str = "", page: str = "") -> list[Record]:
        rows = self.store.select(self._RECORDS.format(graph=self.provenance_graph,
                                                      values=values, page=page))
        return [Record(id=r["c"].value.rsplit("/", 1)[-1], iri=r["c"].value,
                       contributor=r["who"].value, generated=r["when"].value,
                       triples=int(r["n"].value), sha256=r["hash"].value,
                       withdrawn=r["gone"].value if "gone" in r else None,
                       withdrawn_by=r["goneBy"].value if "goneBy" in r else None)
                for r in rows]

    def record(self, contribution_id: str) -> Record:
        """The provenance of one contribution, or 404."""
        if not ID_PATTERN.match(contribution_id):
            raise NotFound(f"no contribution {contribution_id!r}")
        found = self._records(values=f"VALUES ?c {{ <{self.iri(contribution_id)}> }}")
        if not found:
            raise NotFound(f"no contribution {contribution_id}")
        return found[0]

    def page(self, number: int, size: int) -> tuple[list[Record], bool]:
        """One page of contributions, newest first, and whether another page follows."""
        if not 1 <= number <= MAX_PAGE:
            raise BadRequest(f"page numbers run from 1 to {MAX_PAGE}")
        rows = self._records(page=f"LIMIT {size + 1} OFFSET {(number - 1) * size}")
        return rows[:size], len(rows) > size

    def count(self) -> int:
        """How many contributions were ever accepted (withdrawn ones included)."""
        rows = self.store.select(
            f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{self.provenance_graph}> {{ "
            f"?c <{PROV}generatedAtTime> ?when ; <{PROV}wasAttributedTo> ?agent }} }}")
        return int(rows[0]["n"].value) if rows else 0

    def by_contributor(self, name: str) -> list[Record]:
        """Every contribution of one contributor, newest first (their agent page)."""
        agent = self.agent(name)
        return [r for r in self._records(values=f"?c prov:wasAttributedTo <{agent}> .")]

    def triples_of(self, record: Record) -> list[ox.Triple]:
        """The contributed triples (none once withdrawn)."""
        return self.store.graph_triples(record.iri)

    def provenance_of(self, record: Record) -> list[ox.Triple]:
        rows = self.store.select(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{self.provenance_graph}> {{ ?s ?p ?o . "
            f"FILTER(?s = <{record.iri}> || STRSTARTS(STR(?s), \"{record.iri}#\") "
            f"|| ?s = <{self.agent(record.contributor)}>"
            + (f" || ?s = <{self.agent(record.withdrawn_by)}>" if record.withdrawn_by else "")
            + ") } }")
        return [ox.Triple(r["s"], r["p"], r["o"]) for r in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
