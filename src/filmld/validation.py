"""SHACL validation, and a report a non-expert can act on: grouped by focus node, with labels."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDFS, SH

from filmld.config import Settings
from filmld.neighbourhood import only_in, pull, reach, to_graph, touched
from filmld.store import Store
from filmld.terms import to_rdflib

SCHEMA_NAME = rdflib.URIRef("https://schema.org/name")


class _IllTypedLiteralNoise(logging.Filter):
    """rdflib logs a traceback for every ill-typed literal it reads ("Failed to convert
    Literal lexical form to value"): a client could flood the server log with them. The
    shapes report the literal (sh:datatype); other rdflib messages still get through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


logging.getLogger("rdflib.term").addFilter(_IllTypedLiteralNoise())


@dataclass
class Result:
    """One SHACL validation result, with human names next to every IRI."""

    focus: str
    focus_label: str
    path: str | None
    path_label: str | None
    value: str | None
    message: str
    severity: str
    source_shape: str | None
    constraint: str | None
    # Which contributed triples this result is about (issue 6 review, defect 9): `direct`
    # when the contribution itself states something of the focus node; `caused_by` the
    # contributed triples (N-Triples) that mention the focus node or the offending value.
    direct: bool | None = None
    caused_by: list[str] = field(default_factory=list)


@dataclass
class Report:
    conforms: bool
    results: list[Result] = field(default_factory=list)
    graph: rdflib.Graph | None = None

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    def by_focus(self) -> dict[str, list[Result]]:
        grouped: dict[str, list[Result]] = defaultdict(list)
        for r in sorted(self.results, key=lambda r: (r.focus, r.path or "", r.message)):
            grouped[r.focus].append(r)
        return dict(grouped)

    def summary(self) -> dict:
        """The JSON summary: counts, and results grouped by focus node."""
        return {
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "focusNodes": [
                {"focusNode": focus, "label": results[0].focus_label,
                 "results": [{k: v for k, v in vars(r).items() if k not in ("focus",)}
                             for r in results]}
                for focus, results in self.by_focus().items()],
        }

    @classmethod
    def from_summary(cls, summary: dict) -> Report:
        """The Report a `summary()` describes (what a client reads back from the server)."""
        report = cls(conforms=bool(summary.get("conforms")))
        for group in summary.get("focusNodes", []):
            for r in group.get("results", []):
                fields_ = {k: r.get(k) for k in Result.__dataclass_fields__ if k != "focus"}
                report.results.append(Result(focus=group["focusNode"], **fields_))
        return report

    def text(self) -> str:
        """The report as plain lines, for the terminal."""
        if not self.results:
            return "Conforms: no violations, no warnings."
        lines = [(f"{'Conforms' if self.conforms else 'Does not conform'}: "
                 f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s).")]
        for focus, results in self.by_focus().items():
            lines.append(f"\n{results[0].focus_label} <{focus}>")
            for r in results:
                where = f" {r.path_label} <{r.path}>" if r.path else ""
                value = f" (value: {r.value})" if r.value is not None else ""
                lines.append(f"  [{r.severity}]{where}: {r.message}{value}")
        return "\n".join(lines)


def _label(graphs: list[rdflib.Graph], node) -> str:
    for graph in graphs:
        for predicate in (RDFS.label, SCHEMA_NAME):
            for value in graph.objects(node, predicate):
                return str(value)
    text = str(node)
    return text.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or text


def report_from(results_graph: rdflib.Graph, conforms: bool,
                label_sources: list[rdflib.Graph], *, shapes: rdflib.Graph | None = None,
                keep: Callable[[rdflib.term.Node], bool] | None = None,
                ignore: set[tuple] | None = None) -> Report:
    """Turn pySHACL's results graph into a Report, naming nodes and paths with their labels.

    `keep` selects results by focus node (the nodes whose neighbourhood was loaded in full);
    `ignore` drops results by `result_key` (violations that were there before a change).
    The report's graph holds only the kept results (SHACL 3.6: sh:ValidationReport).
    """
    report = Report(conforms=conforms, graph=None)
    kept: list[rdflib.term.Node] = []
    for result in results_graph.subjects(rdflib.RDF.type, SH.ValidationResult):
        if (None, SH.detail, result) in results_graph:
            continue  # nested detail of another result, reported with its parent
        def one(predicate, result=result):
            return next(results_graph.objects(result, predicate), None)

        focus, path, value = one(SH.focusNode), one(SH.resultPath), one(SH.value)
        if keep is not None and not keep(focus):
            continue
        if ignore and result_key(results_graph, result) in ignore:
            continue
        kept.append(result)
        severity = one(SH.resultSeverity)
        messages = [str(m) for m in results_graph.objects(result, SH.resultMessage)]
        source_shape = one(SH.sourceShape)
        report.results.append(Result(
            focus=str(focus),
            focus_label=_label(label_sources, focus),
            path=str(path) if isinstance(path, rdflib.URIRef) else None,
            path_label=_path_label(shapes, source_shape, label_sources, path)
            if isinstance(path, rdflib.URIRef) else None,
            value=str(value) if value is not None else _clashing(label_sources, focus, path, one),
            message=messages[0] if messages else "constraint not met",
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            source_shape=str(source_shape) if isinstance(source_shape, rdflib.URIRef) else None,
            constraint=str(one(SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
            if one(SH.sourceConstraintComponent) else None,
        ))
    # Only violations refuse data; warnings are reported alongside (SHACL 3.6.1).
    report.conforms = not report.violations
    # In the sh:ValidationReport, sh:conforms is true if and only if there are no results
    # at all, warnings included (SHACL 3.6.1.1); `report.conforms` says accepted or not.
    report.graph = _report_graph(results_graph, kept, not kept)
    return report


def _clashing(graphs: list[rdflib.Graph], focus, path, one) -> str | None:
    """sh:uniqueLang results carry no sh:value (SHACL 4.5.4): name the clashing values."""
    if one(SH.sourceConstraintComponent) != SH.UniqueLangConstraintComponent \
            or not isinstance(path, rdflib.URIRef) or not graphs:
        return None
    by_lang: dict[str, list[str]] = defaultdict(list)
    for value in graphs[0].objects(focus, path):
        if isinstance(value, rdflib.Literal) and value.language:
            by_lang[value.language.lower()].append(value.n3())
    clashes = [" and ".join(sorted(v)) for v in by_lang.values() if len(v) > 1]
    return "; ".join(clashes) or None


def attribute(report: Report, triples: list[ox.Triple]) -> Report:
    """Say, per result, which contributed triples it is about (see Result.caused_by)."""
    mentions: dict[str, list[str]] = defaultdict(list)
    subjects = set()
    for t in triples:
        line = f"{t.subject} {t.predicate} {t.object} ."
        subjects.add(_plain(t.subject))
        mentions[_plain(t.subject)].append(line)
        if not isinstance(t.object, ox.Literal):
            mentions[_plain(t.object)].append(line)
    for result in report.results:
        result.direct = result.focus in subjects
        found = mentions.get(result.focus, []) + mentions.get(result.value or "", [])
        result.caused_by = list(dict.fromkeys(found))
    return report


def _plain(term) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def _path_label(shapes: rdflib.Graph | None, shape, sources: list[rdflib.Graph], path) -> str:
    """The property shape's sh:name ("release date") reads best; else the property's label."""
    if shapes is not None and shape is not None:
        for name in shapes.objects(shape, SH.name):
            return str(name)
    return _label(sources, path)


def result_key(graph: rdflib.Graph, result: rdflib.term.Node) -> tuple:
    """What makes two results the same problem: focus, path, value, shape and constraint."""
    def one(predicate):
        value = next(graph.objects(result, predicate), None)
        return None if isinstance(value, rdflib.BNode) else value

    return (one(SH.focusNode), one(SH.resultPath), one(SH.value), one(SH.sourceShape),
            one(SH.sourceConstraintComponent), one(SH.resultSeverity))


def _report_graph(results: rdflib.Graph, kept: list, conforms: bool) -> rdflib.Graph:
    """A sh:ValidationReport holding only the kept results, each with what it links to."""
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    report = rdflib.BNode()
    graph.add((report, rdflib.RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    for result in kept:
        graph.add((report, SH.result, result))
        todo, seen = [result], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for _, predicate, value in results.triples((node, None, None)):
                graph.add((node, predicate, value))
                if isinstance(value, rdflib.BNode):
                    todo.append(value)
    return graph


class Validator:
    """The shapes and the ontology, read once; validates whole graphs, or changes to a store.

    The server, `filmld validate` and `filmld contribute`'s dry run all go through here.
    """

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph | None = None) -> None:
        self.shapes = shapes
        self.ontology = ontology if ontology is not None else rdflib.Graph()
        self.reach = reach(shapes)
        # All that sh:class and sh:targetClass read of the ontology (SHACL 2.1.3.1): the
        # class hierarchy. Copied into every small graph, so kept small.
        self.hierarchy = list(self.ontology.triples((None, RDFS.subClassOf, None)))
        # pySHACL reads the shared shapes graph and keeps caches on it: one run at a time.
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Validator:
        from filmld.loading import read_ontology, read_shapes

        return cls(read_shapes(settings.base_url, settings),
                   read_ontology(settings.base_url, settings))

    def _graph(self, *, whole_ontology: bool = False) -> rdflib.Graph:
        """A fresh in-memory graph holding the class hierarchy (or the whole ontology)."""
        graph = rdflib.Graph()
        for triple in self.ontology if whole_ontology else self.hierarchy:
            graph.add(triple)
        return graph

    def _run(self, graph: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
        import pyshacl

        with self._lock:
            conforms, results, _ = pyshacl.validate(
                graph, shacl_graph=self.shapes, inference="none", allow_warnings=True,
                advanced=True, inplace=True)
        return conforms, results

    def validate_graph(self, data: rdflib.Graph) -> Report:
        """Validate a whole data graph (files on the command line, the benchmark baseline)."""
        graph = self._graph(whole_ontology=True)
        for triple in data:
            graph.add(triple)
        conforms, results = self._run(graph)
        return report_from(results, conforms, [graph], shapes=self.shapes)

    def validate_change(self, store: Store, triples: list[ox.Triple]) -> Report:
        """Would the store still conform with `triples` added? Only violations the
        change causes count; ones already in the store around the change are not its fault.

        Validates the touched nodes (`neighbourhood.touched`) with the neighbourhood the
        shapes read (`neighbourhood.pull`) in a small graph: the cost follows the size of
        the change, not of the store. pySHACL runs on the whole small graph, not with its
        `focus_nodes` option, which misses violations inside sh:or (pyshacl 0.40.1); results
        are then kept for the touched nodes only, the ones whose neighbourhood is complete.
        """
        focus = touched(store, triples, self.reach)
        stored = pull(store, focus, self.reach, extra=triples)
        keep_nodes = {to_rdflib(n) for n in focus}
        graph = to_graph(triples, to_graph(stored, self._graph()))
        conforms, results = self._run(graph)
        report = report_from(results, conforms, [graph, self.ontology], shapes=self.shapes,
                             keep=keep_nodes.__contains__)
        if report.conforms:
            return attribute(report, triples)
        before = to_graph(stored, self._graph())
        _, old = self._run(before)
        existing = {result_key(old, r) for r in old.subjects(rdflib.RDF.type,
                                                             SH.ValidationResult)}
        return attribute(report_from(results, conforms, [graph, self.ontology],
                                     shapes=self.shapes, keep=keep_nodes.__contains__,
                                     ignore=existing), triples)


    def validate_removal(self, store: Store, graph: str) -> Report:
        """Would the store still conform without the named graph? (Withdrawing a
        contribution others build on, such as the person their roles cast, must not leave
        the store invalid.) Same neighbourhood method as `validate_change`."""
        gone = only_in(store, graph, store.graph_triples(graph))
        if not gone:
            return Report(conforms=True, graph=_report_graph(rdflib.Graph(), [], True))
        focus = touched(store, gone, self.reach, removed=True)
        stored = pull(store, focus, self.reach)
        keep_nodes = {to_rdflib(n) for n in focus}
        removed = set(gone)
        after = to_graph([t for t in stored if t not in removed], self._graph())
        conforms, results = self._run(after)
        report = report_from(results, conforms, [after, self.ontology], shapes=self.shapes,
                             keep=keep_nodes.__contains__)
        if report.conforms:
            return report
        _, old = self._run(to_graph(stored, self._graph()))
        existing = {result_key(old, r) for r in old.subjects(rdflib.RDF.type,
                                                             SH.ValidationResult)}
        return report_from(results, conforms, [after, self.ontology],
                           shapes=self.shapes, keep=keep_nodes.__contains__, ignore=existing)


def validate(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph | None = None
             ) -> Report:
    """Validate a whole data graph against the shapes (no inference: data is typed)."""
    return Validator(shapes, ontology).validate_graph(data)
