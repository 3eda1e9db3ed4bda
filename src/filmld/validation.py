"""SHACL validation, and a report a non-expert can act on: grouped by focus node, with labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import rdflib
from rdflib.namespace import RDFS, SH

SCHEMA_NAME = rdflib.URIRef("https://schema.org/name")


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

    def text(self) -> str:
        """The report as plain lines, for the terminal."""
        if not self.results:
            return "Conforms: no violations, no warnings."
        lines = [f"{'Conforms' if self.conforms else 'Does not conform'}: "
                 f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)."]
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
                label_sources: list[rdflib.Graph]) -> Report:
    """Turn pySHACL's results graph into a Report, naming nodes and paths with their labels."""
    report = Report(conforms=conforms, graph=results_graph)
    for result in results_graph.subjects(rdflib.RDF.type, SH.ValidationResult):
        def one(predicate):
            return next(results_graph.objects(result, predicate), None)

        focus, path, value = one(SH.focusNode), one(SH.resultPath), one(SH.value)
        severity = one(SH.resultSeverity)
        messages = [str(m) for m in results_graph.objects(result, SH.resultMessage)]
        report.results.append(Result(
            focus=str(focus),
            focus_label=_label(label_sources, focus),
            path=str(path) if isinstance(path, rdflib.URIRef) else None,
            path_label=_label(label_sources, path) if isinstance(path, rdflib.URIRef) else None,
            value=str(value) if value is not None else None,
            message=messages[0] if messages else "constraint not met",
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            source_shape=str(one(SH.sourceShape)) if one(SH.sourceShape) else None,
            constraint=str(one(SH.sourceConstraintComponent)).rsplit("#", 1)[-1]
            if one(SH.sourceConstraintComponent) else None,
        ))
    # Only violations refuse data; warnings are reported alongside (SHACL 3.6.1).
    report.conforms = not report.violations
    return report


def validate(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph | None = None
             ) -> Report:
    """Validate a whole data graph against the shapes (no inference: data is typed)."""
    import pyshacl

    conforms, results_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none",
        allow_warnings=True, advanced=True)
    sources = [data] + ([ontology] if ontology is not None else [])
    return report_from(results_graph, conforms, sources)
