"""Every constraint of shapes/filmld-shapes.ttl has a graph that breaks it.

tests/shape_fixtures/minimal.ttl is a small graph that conforms to every shape. Each row of
CASES changes it (drops and/or adds triples) so that exactly one constraint fails, and checks
the validation result: focus node, result path, source shape and constraint component. A
coverage test makes sure every (property shape, constraint) pair of the shapes file has a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
import pytest
import rdflib
import rdflib.collection
from rdflib import RDF, RDFS, SH, XSD, Literal, URIRef

from filmld.config import DEFAULT_BASE
from filmld.loading import read_data, read_ontology, read_shapes

FIXTURE = Path(__file__).resolve().parent / "shape_fixtures" / "minimal.ttl"
SCHEMA = rdflib.Namespace("https://schema.org/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
F = rdflib.Namespace(DEFAULT_BASE + "ontology/")
FSH = rdflib.Namespace(DEFAULT_BASE + "shapes/")
ID = DEFAULT_BASE + "id/"


def r(local: str) -> URIRef:
    """A resource of the fixture, e.g. r('film/test-film')."""
    return URIRef(ID + local)


FILM, ROLE, HERO, FRIEND = r("film/test-film"), r("role/test-film-hero"), r("character/hero"), \
    r("character/friend")
ACTOR, DIRECTOR, REAL, MOTHER = r("person/actor"), r("person/director"), r("person/real-hero"), \
    r("person/real-mother")
TOWN, STATE, GANG, ILLNESS = r("place/town"), r("place/state"), r("organization/gang"), \
    r("condition/illness")
BRAVE, SHY, PITY, COURAGE = r("trait/brave"), r("trait/shy"), r("attitude/pity"), r("theme/courage")
SONG, EVENT, SUMMARY, DOC = r("recording/song"), r("event/test-film-start"), \
    r("summary/test-film-1"), r("source/doc")
EN = "en"


def en(text: str) -> Literal:
    return Literal(text, lang=EN)


@dataclass
class Case:
    id: str
    shape: str                      # local name of the property shape in fsh:
    component: str                  # local name of the constraint component in sh:
    focus: URIRef
    path: URIRef | None
    drop: list[tuple] = field(default_factory=list)   # (s, p) or (s, p, o)
    add: list[tuple] = field(default_factory=list)
    severity: URIRef = SH.Violation


def missing(shape, focus, path):
    """Drop every value of the path: sh:minCount fails."""
    return Case(f"{shape}-minCount", shape, "MinCountConstraintComponent", focus, path,
                drop=[(focus, path)])


def extra(shape, focus, path, value, component="MaxCountConstraintComponent"):
    """Add one value more."""
    return Case(f"{shape}-{component.removesuffix('ConstraintComponent')}", shape, component,
                focus, path, add=[(focus, path, value)])


def replaced(shape, focus, path, value, component):
    """Replace every value of the path by `value`."""
    return Case(f"{shape}-{component.removesuffix('ConstraintComponent')}", shape, component,
                focus, path, drop=[(focus, path)], add=[(focus, path, value)])


def wrong_class(shape, focus, path, value):
    return extra(shape, focus, path, value, "ClassConstraintComponent")


CASES = [
    # every typed resource
    missing("LabelledResource-label", SHY, RDFS.label),
    replaced("LabelledResource-label", SHY, RDFS.label, Literal("schüchtern", lang="de"),
             "LanguageInConstraintComponent"),
    extra("LabelledResource-label", SHY, RDFS.label, en("timid"), "UniqueLangConstraintComponent"),
    missing("LabelledResource-name", TOWN, SCHEMA.name),
    replaced("LabelledResource-name", TOWN, SCHEMA.name, Literal("Town"),
             "LanguageInConstraintComponent"),
    extra("LabelledResource-name", TOWN, SCHEMA.name, en("City"), "UniqueLangConstraintComponent"),
    # an untyped resource escapes every class target: it still needs a type
    Case("TypedResource-type-minCount", "TypedResource-type", "MinCountConstraintComponent",
         r("person/untyped"), RDF.type, add=[(r("person/untyped"), RDFS.label, en("U"))]),
    Case("TypedResource-type-minCount-name", "TypedResource-type", "MinCountConstraintComponent",
         r("person/unnamed"), RDF.type, add=[(r("person/unnamed"), SCHEMA.name, en("N"))]),
    # links to other datasets
    missing("ExternalLink-source", REAL, DCT.source),
    replaced("ExternalLink-source", REAL, DCT.source,
             Literal("https://en.wikipedia.org/wiki/Real_hero"), "NodeKindConstraintComponent"),
    replaced("ExternalLink-source", REAL, DCT.source, URIRef("https://example.org/real-hero"),
             "QualifiedMinCountConstraintComponent"),
    # the source document alone is not enough: facts beyond it need a Wikipedia article
    Case("ExternalLink-source-QualifiedMinCount-source-document", "ExternalLink-source",
         "QualifiedMinCountConstraintComponent", REAL, DCT.source, drop=[(REAL, DCT.source)],
         add=[(REAL, DCT.source, r("source/doc"))]),
    # film
    missing("Movie-datePublished", FILM, SCHEMA.datePublished),
    extra("Movie-datePublished", FILM, SCHEMA.datePublished, Literal("2001", datatype=XSD.gYear)),
    replaced("Movie-datePublished", FILM, SCHEMA.datePublished, URIRef("http://example.org/2000"),
             "OrConstraintComponent"),
    # Ill-typed and wrongly typed release dates (issue 6 review, defect 3).
    Case("Movie-datePublished-Or-plain", "Movie-datePublished", "OrConstraintComponent", FILM,
         SCHEMA.datePublished, drop=[(FILM, SCHEMA.datePublished)],
         add=[(FILM, SCHEMA.datePublished, Literal("2000"))]),
    Case("Movie-datePublished-Or-integer", "Movie-datePublished", "OrConstraintComponent",
         FILM, SCHEMA.datePublished, drop=[(FILM, SCHEMA.datePublished)],
         add=[(FILM, SCHEMA.datePublished, Literal("1985", datatype=XSD.integer))]),
    Case("Movie-datePublished-Or-ill-typed-date", "Movie-datePublished",
         "OrConstraintComponent", FILM, SCHEMA.datePublished,
         drop=[(FILM, SCHEMA.datePublished)],
         add=[(FILM, SCHEMA.datePublished, Literal("1985-99-99", datatype=XSD.date))]),
    Case("Movie-datePublished-Or-ill-typed-year", "Movie-datePublished",
         "OrConstraintComponent", FILM, SCHEMA.datePublished,
         drop=[(FILM, SCHEMA.datePublished)],
         add=[(FILM, SCHEMA.datePublished, Literal("85", datatype=XSD.gYear))]),
    missing("Movie-genre", FILM, SCHEMA.genre),
    replaced("Movie-genre", FILM, SCHEMA.genre, Literal("drama"), "DatatypeConstraintComponent"),
    wrong_class("Movie-director", FILM, SCHEMA.director, TOWN),
    missing("Movie-actor", FILM, SCHEMA.actor),
    wrong_class("Movie-actor", FILM, SCHEMA.actor, ACTOR),
    wrong_class("Movie-character", FILM, SCHEMA.character, ACTOR),
    wrong_class("Movie-basedOnStoryOf", FILM, F.basedOnStoryOf, TOWN),
    extra("Movie-basedOnStoryOf", FILM, F.basedOnStoryOf, HERO, "NotConstraintComponent"),
    wrong_class("Movie-setting", FILM, F.setting, BRAVE),
    extra("Movie-settingTime", FILM, F.settingTime, en("autumn")),
    replaced("Movie-settingTime", FILM, F.settingTime, Literal("summer"),
             "DatatypeConstraintComponent"),
    extra("Movie-settingYear", FILM, F.settingYear, Literal("1998", datatype=XSD.gYear)),
    replaced("Movie-settingYear", FILM, F.settingYear, Literal("1999"),
             "DatatypeConstraintComponent"),
    Case("Movie-settingYear-Pattern-ill-typed", "Movie-settingYear",
         "PatternConstraintComponent", FILM, F.settingYear, drop=[(FILM, F.settingYear)],
         add=[(FILM, F.settingYear, Literal("19x9", datatype=XSD.gYear))]),
    wrong_class("Movie-soundtrack", FILM, F.soundtrack, TOWN),
    wrong_class("Movie-theme", FILM, F.theme, BRAVE),
    missing("Movie-plotEvent", FILM, F.plotEvent),
    wrong_class("Movie-plotEvent", FILM, F.plotEvent, TOWN),
    Case("Movie-sameAs-minCount-warning", "Movie-sameAs", "MinCountConstraintComponent", FILM,
         SCHEMA.sameAs, drop=[(FILM, SCHEMA.sameAs)], severity=SH.Warning),
    # people
    extra("Person-birthDate", REAL, SCHEMA.birthDate, Literal("1960-01-03", datatype=XSD.date)),
    replaced("Person-birthDate", REAL, SCHEMA.birthDate, Literal("1960"),
             "DatatypeConstraintComponent"),
    Case("Person-birthDate-Datatype-ill-typed", "Person-birthDate",
         "DatatypeConstraintComponent", REAL, SCHEMA.birthDate, drop=[(REAL, SCHEMA.birthDate)],
         add=[(REAL, SCHEMA.birthDate, Literal("1960-13-45", datatype=XSD.date))]),
    Case("Person-deathDate-Datatype-ill-typed", "Person-deathDate",
         "DatatypeConstraintComponent", REAL, SCHEMA.deathDate, drop=[(REAL, SCHEMA.deathDate)],
         add=[(REAL, SCHEMA.deathDate, Literal("1990-02-30", datatype=XSD.date))]),
    extra("Person-deathDate", REAL, SCHEMA.deathDate, Literal("1990-03-05", datatype=XSD.date)),
    replaced("Person-deathDate", REAL, SCHEMA.deathDate, Literal("1990"),
             "DatatypeConstraintComponent"),
    wrong_class("Person-parent", REAL, SCHEMA.parent, TOWN),
    wrong_class("Person-motherOf", MOTHER, F.motherOf, TOWN),
    wrong_class("Person-hasCondition", REAL, F.hasCondition, BRAVE),
    replaced("Person-sameAs", REAL, SCHEMA.sameAs,
             Literal("http://dbpedia.org/resource/Real_hero"), "NodeKindConstraintComponent"),
    replaced("Person-sameAs", REAL, SCHEMA.sameAs, URIRef("https://www.wikidata.org/entity/Q1"),
             "PatternConstraintComponent"),
    # performance roles
    missing("PerformanceRole-actor", ROLE, SCHEMA.actor),
    extra("PerformanceRole-actor", ROLE, SCHEMA.actor, DIRECTOR),
    replaced("PerformanceRole-actor", ROLE, SCHEMA.actor, TOWN, "ClassConstraintComponent"),
    replaced("PerformanceRole-actor", ROLE, SCHEMA.actor, HERO, "NotConstraintComponent"),
    missing("PerformanceRole-character", ROLE, F.character),
    extra("PerformanceRole-character", ROLE, F.character, FRIEND),
    replaced("PerformanceRole-character", ROLE, F.character, ACTOR, "ClassConstraintComponent"),
    missing("PerformanceRole-characterName", ROLE, SCHEMA.characterName),
    extra("PerformanceRole-characterName", ROLE, SCHEMA.characterName, en("Villain")),
    replaced("PerformanceRole-characterName", ROLE, SCHEMA.characterName, Literal("Hero"),
             "DatatypeConstraintComponent"),
    # characters
    Case("Character-description-minCount-warning", "Character-description",
         "MinCountConstraintComponent", FRIEND, SCHEMA.description,
         drop=[(FRIEND, SCHEMA.description)], severity=SH.Warning),
    Case("Character-sameAs-maxCount", "Character-sameAs", "MaxCountConstraintComponent", HERO,
         SCHEMA.sameAs, add=[(HERO, SCHEMA.sameAs, URIRef("http://dbpedia.org/resource/Hero")),
                             (HERO, DCT.source, URIRef("https://en.wikipedia.org/wiki/Hero"))]),
    extra("Character-basedOnPerson", HERO, F.basedOnPerson, MOTHER),
    replaced("Character-basedOnPerson", HERO, F.basedOnPerson, TOWN, "ClassConstraintComponent"),
    replaced("Character-basedOnPerson", HERO, F.basedOnPerson, FRIEND, "NotConstraintComponent"),
    wrong_class("Character-hasTrait", HERO, F.hasTrait, PITY),
    extra("Character-goal", HERO, F.goal, Literal("to lose"), "DatatypeConstraintComponent"),
    extra("Character-lifeExpectancyOutlived", HERO, F.lifeExpectancyOutlived, Literal(False)),
    replaced("Character-lifeExpectancyOutlived", HERO, F.lifeExpectancyOutlived, Literal("yes"),
             "DatatypeConstraintComponent"),
    wrong_class("Character-treatedWith", HERO, F.treatedWith, BRAVE),
    wrong_class("Character-overcomes", HERO, F.overcomes, BRAVE),
    wrong_class("Character-motivatedBy", HERO, F.motivatedBy, ACTOR),
    wrong_class("Character-boyfriendOf", FRIEND, F.boyfriendOf, ACTOR),
    wrong_class("Character-girlfriendOf", FRIEND, F.girlfriendOf, ACTOR),
    wrong_class("Character-firstLoveOf", FRIEND, F.firstLoveOf, ACTOR),
    wrong_class("Character-bestFriendOf", FRIEND, F.bestFriendOf, ACTOR),
    wrong_class("Character-acceptsWithoutQuestion", FRIEND, F.acceptsWithoutQuestion, ACTOR),
    wrong_class("Character-memberOf", HERO, SCHEMA.memberOf, TOWN),
    extra("Character-deathEvent", HERO, F.deathEvent, EVENT + "-2"),
    replaced("Character-deathEvent", HERO, F.deathEvent, TOWN, "ClassConstraintComponent"),
    # groups
    wrong_class("Organization-member", GANG, SCHEMA.member, TOWN),
    wrong_class("Organization-acceptsWithoutQuestion", GANG, F.acceptsWithoutQuestion, ACTOR),
    wrong_class("Organization-givesLoveAndRespectTo", GANG, F.givesLoveAndRespectTo, ACTOR),
    # conditions, traits, attitudes, themes
    extra("MedicalCondition-alternateName", ILLNESS, SCHEMA.alternateName, Literal("disease"),
          "DatatypeConstraintComponent"),
    wrong_class("Trait-atOddsWith", BRAVE, F.atOddsWith, PITY),
    extra("Trait-description", BRAVE, SCHEMA.description, en("Bold.")),
    replaced("Trait-description", BRAVE, SCHEMA.description, Literal("Brave."),
             "DatatypeConstraintComponent"),
    extra("Attitude-description", PITY, SCHEMA.description, en("Sorrow.")),
    replaced("Attitude-description", PITY, SCHEMA.description, Literal("Pity."),
             "DatatypeConstraintComponent"),
    extra("Theme-description", COURAGE, SCHEMA.description, en("Bravery.")),
    replaced("Theme-description", COURAGE, SCHEMA.description, Literal("Courage."),
             "DatatypeConstraintComponent"),
    # places and music
    extra("Place-containedInPlace", TOWN, SCHEMA.containedInPlace, TOWN),
    replaced("Place-containedInPlace", TOWN, SCHEMA.containedInPlace, BRAVE,
             "ClassConstraintComponent"),
    missing("MusicRecording-byArtist", SONG, SCHEMA.byArtist),
    replaced("MusicRecording-byArtist", SONG, SCHEMA.byArtist, TOWN, "ClassConstraintComponent"),
    wrong_class("MusicRecording-playsDuring", SONG, F.playsDuring, TOWN),
    # plot events
    missing("Event-position", EVENT, F.plotPosition),
    extra("Event-position", EVENT, F.plotPosition, Literal(2)),
    replaced("Event-position", EVENT, F.plotPosition, Literal("1.5", datatype=XSD.decimal),
             "DatatypeConstraintComponent"),
    replaced("Event-position", EVENT, F.plotPosition, Literal(0),
             "MinInclusiveConstraintComponent"),
    missing("Event-description", EVENT, SCHEMA.description),
    extra("Event-description", EVENT, SCHEMA.description, en("It begins.")),
    replaced("Event-description", EVENT, SCHEMA.description, Literal("It starts."),
             "DatatypeConstraintComponent"),
    missing("Event-involvesCharacter", EVENT, F.involvesCharacter),
    wrong_class("Event-involvesCharacter", EVENT, F.involvesCharacter, ACTOR),
    wrong_class("Event-location", EVENT, SCHEMA.location, BRAVE),
    # summaries and their source
    missing("Summary-text", SUMMARY, SCHEMA.text),
    extra("Summary-text", SUMMARY, SCHEMA.text, en("Another text.")),
    replaced("Summary-text", SUMMARY, SCHEMA.text, Literal("A hero wins."),
             "DatatypeConstraintComponent"),
    replaced("Summary-text", SUMMARY, SCHEMA.text, en(""), "MinLengthConstraintComponent"),
    missing("Summary-position", SUMMARY, SCHEMA.position),
    extra("Summary-position", SUMMARY, SCHEMA.position, Literal(2)),
    replaced("Summary-position", SUMMARY, SCHEMA.position, Literal("1"),
             "DatatypeConstraintComponent"),
    replaced("Summary-position", SUMMARY, SCHEMA.position, Literal(-1),
             "MinInclusiveConstraintComponent"),
    missing("Summary-about", SUMMARY, SCHEMA.about),
    replaced("Summary-about", SUMMARY, SCHEMA.about, ACTOR, "ClassConstraintComponent"),
    missing("Summary-isBasedOn", SUMMARY, SCHEMA.isBasedOn),
    extra("Summary-isBasedOn", SUMMARY, SCHEMA.isBasedOn, FILM),
    replaced("Summary-isBasedOn", SUMMARY, SCHEMA.isBasedOn, FILM, "ClassConstraintComponent"),
    missing("SourceDocument-encodingFormat", DOC, SCHEMA.encodingFormat),
    extra("SourceDocument-encodingFormat", DOC, SCHEMA.encodingFormat, Literal("text/html")),
    replaced("SourceDocument-encodingFormat", DOC, SCHEMA.encodingFormat, Literal("plain text"),
             "PatternConstraintComponent"),
    wrong_class("SourceDocument-about", DOC, SCHEMA.about, ACTOR),
]

# constraint parameter -> constraint component (SHACL Core), for the coverage test
COMPONENTS = {
    SH.minCount: "MinCountConstraintComponent", SH.maxCount: "MaxCountConstraintComponent",
    SH.datatype: "DatatypeConstraintComponent", SH["class"]: "ClassConstraintComponent",
    SH.nodeKind: "NodeKindConstraintComponent", SH.pattern: "PatternConstraintComponent",
    SH.languageIn: "LanguageInConstraintComponent", SH.uniqueLang: "UniqueLangConstraintComponent",
    SH.minInclusive: "MinInclusiveConstraintComponent",
    SH.maxInclusive: "MaxInclusiveConstraintComponent",
    SH.minLength: "MinLengthConstraintComponent", SH.maxLength: "MaxLengthConstraintComponent",
    SH["not"]: "NotConstraintComponent", SH["in"]: "InConstraintComponent",
    SH.hasValue: "HasValueConstraintComponent", SH["or"]: "OrConstraintComponent",
    SH["and"]: "AndConstraintComponent", SH.node: "NodeConstraintComponent",
    SH.closed: "ClosedConstraintComponent", SH.sparql: "SPARQLConstraintComponent",
    SH.qualifiedValueShape: "QualifiedMinCountConstraintComponent",
}
NOT_CONSTRAINTS = {RDF.type, SH.path, SH.name, SH.message, SH.description, SH.severity,
                   SH.property, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                   SH.targetObjectsOf, SH.order, SH.group, SH.deactivated, SH.ignoredProperties,
                   SH.flags, SH.qualifiedMinCount}


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return read_shapes()


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return read_ontology()


@pytest.fixture(scope="module")
def minimal() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(FIXTURE, format="turtle", publicID=DEFAULT_BASE)
    return graph


def results(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph) -> set[tuple]:
    """(focus, path, source shape, component, severity) of every validation result."""
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ontology,
                                    inference="none")
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        found.add(tuple(report.value(result, p) for p in (
            SH.focusNode, SH.resultPath, SH.sourceShape, SH.sourceConstraintComponent,
            SH.resultSeverity)))
    return found


def test_minimal_fixture_conforms(minimal, shapes, ontology):
    assert results(minimal, shapes, ontology) == set()


def test_minimal_fixture_uses_every_targeted_class(minimal, shapes):
    used = set(minimal.objects(None, RDF.type))
    assert set(shapes.objects(None, SH.targetClass)) <= used


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_graph_fails_the_constraint(case, minimal, shapes, ontology):
    graph = rdflib.Graph()
    for triple in minimal:
        graph.add(triple)
    for pattern in case.drop:
        s, p, *o = pattern
        before = len(graph)
        graph.remove((s, p, o[0] if o else None))
        assert len(graph) < before, f"nothing to drop for {pattern}: the fixture changed"
    for triple in case.add:
        assert triple not in graph, f"{triple} is already in the fixture"
        graph.add(triple)

    found = results(graph, shapes, ontology)
    expected = (case.focus, case.path, FSH[case.shape], SH[case.component], case.severity)
    assert expected in found, sorted(found)
    # the break is local: every result comes from the broken property shape
    assert {shape for _, _, shape, _, _ in found} == {FSH[case.shape]}, sorted(found)


def constraints_in(shapes: rdflib.Graph) -> set[tuple[str, str]]:
    """(shape local name, component local name) of every constraint in the shapes file."""
    pairs, unknown = set(), []
    # Shapes used only inside sh:not, sh:or and sh:qualifiedValueShape report through the
    # shape that uses them.
    not_targets = set(shapes.objects(None, SH["not"])) | set(
        shapes.objects(None, SH.qualifiedValueShape)) | {
        member for head in shapes.objects(None, SH["or"])
        for member in rdflib.collection.Collection(shapes, head)}
    shape_nodes = set(shapes.subjects(SH.path, None)) | {
        s for s in shapes.subjects(RDF.type, SH.NodeShape) if s not in not_targets}
    for shape in shape_nodes:
        for p in set(shapes.predicates(shape, None)):
            if p in COMPONENTS:
                pairs.add((str(shape)[len(str(FSH)):], COMPONENTS[p]))
            elif p not in NOT_CONSTRAINTS:
                unknown.append((shape, p))
    assert not unknown, f"constraint parameters this test does not know: {unknown}"
    return pairs


def test_every_constraint_has_a_failing_case(shapes):
    in_shapes = constraints_in(shapes)
    in_cases = {(c.shape, c.component) for c in CASES}
    assert in_shapes - in_cases == set(), "constraints without a failing case"
    assert in_cases - in_shapes == set(), "cases for constraints the shapes no longer have"
    assert len(in_shapes) >= 100


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_shape_has_an_english_name_and_message(shapes):
    shape_nodes = (set(shapes.subjects(RDF.type, SH.NodeShape))
                   | set(shapes.subjects(RDF.type, SH.PropertyShape))
                   | set(shapes.subjects(SH.path, None))
                   | set(shapes.objects(None, SH.property))
                   | set(shapes.objects(None, SH["not"]))
                   | set(shapes.objects(None, SH.qualifiedValueShape)))
    assert len(shape_nodes) >= 75
    problems = []
    for shape in shape_nodes:
        if not isinstance(shape, URIRef):
            problems.append(f"{shape}: blank-node shape (give it an IRI in fsh:)")
        for p in (SH.name, SH.message):
            values = list(shapes.objects(shape, p))
            if len(values) != 1 or getattr(values[0], "language", None) != "en" \
                    or len(str(values[0])) < 3:
                problems.append(f"{shape}: needs exactly one {p} in English")
    assert not problems, problems


def test_property_shapes_are_typed_and_attached(shapes):
    for shape in shapes.subjects(SH.path, None):
        assert (shape, RDF.type, SH.PropertyShape) in shapes, shape
        assert (None, SH.property, shape) in shapes, f"{shape} is not used by a node shape"


def test_at_least_one_soft_rule_is_a_warning(shapes):
    severities = set(shapes.objects(None, SH.severity))
    assert severities == {SH.Warning}
    assert len(list(shapes.subjects(SH.severity, SH.Warning))) >= 2


def test_every_class_in_the_data_has_shapes(shapes):
    used = set(read_data().objects(None, RDF.type))
    labelled = set(shapes.objects(FSH.LabelledResource, SH.targetClass))
    assert used == labelled, used ^ labelled
    specific = {c for s, c in shapes.subject_objects(SH.targetClass) if s != FSH.LabelledResource}
    assert used == specific, used ^ specific


def test_shapes_file_uses_relative_iris_only():
    for path in sorted((Path(__file__).resolve().parents[1] / "shapes").glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        assert "\n@base" not in text and "<http://127.0.0.1" not in text, path
        assert "@prefix fsh:    <shapes/> ." in text and "@prefix filmld: <ontology/> ." in text


def test_shape_iris_follow_the_public_base():
    other = "https://films.example.org/"
    moved = read_shapes(base=other)
    assert (URIRef(other + "shapes/Movie"), SH.targetClass, SCHEMA.Movie) in moved
    assert (URIRef(other + "shapes/Character"), SH.targetClass,
            URIRef(other + "ontology/Character")) in moved
