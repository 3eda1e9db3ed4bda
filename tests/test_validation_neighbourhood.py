"""Validating a change with the data it touches: right answers, and cost that follows the
change, not the store (issue 6, "What validation means")."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.plugins.stores.memory import Memory

from filmld.config import Settings
from filmld.dataset import open_dataset
from filmld.formats import NTRIPLES, TURTLE
from filmld.loading import parse
from filmld.neighbourhood import UnboundedShapes, reach
from filmld.store.embedded import EmbeddedStore
from filmld.validation import Validator

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:8000/"
PREFIXES = """@prefix schema: <https://schema.org/> . @prefix filmld: <ontology/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
"""


def triples(turtle: str, base: str = BASE) -> list[ox.Triple]:
    return [q.triple for q in parse((PREFIXES + turtle).encode(), TURTLE, base=base)]


@pytest.fixture
def store(settings):
    store = open_dataset(settings)
    yield store
    store.close()


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator.from_settings(Settings())


def one_film(slug: str, date: str = "2001-05-04", *, actors: list[str] | None = None,
             roles: int = 5, same_as: bool = True) -> str:
    """A new film in Turtle: about 70 triples with 5 roles, actors already in the store."""
    actors = actors or ["cher", "eric-stoltz", "sam-elliott", "laura-dern", "lawrence-monoson"]
    film = f"<id/film/{slug}>"
    lines = [f'{film} a schema:Movie ; rdfs:label "Film {slug}"@en ; schema:name "Film {slug}"@en ;',
             f'  schema:datePublished "{date}"^^xsd:date ; schema:genre "drama"@en ;',
             f"  filmld:plotEvent <id/event/{slug}-opening> ."]
    if same_as:
        lines.append(f"{film} schema:sameAs <http://dbpedia.org/resource/{slug}> ; "
                     f"dct:source <https://en.wikipedia.org/wiki/{slug}> .")
    for i in range(roles):
        actor = actors[i % len(actors)]
        role, character = f"<id/role/{slug}-c{i}>", f"<id/character/{slug}-c{i}>"
        lines += [
            f"{film} schema:actor {role} ; schema:character {character} .",
            f'{role} a schema:PerformanceRole ; rdfs:label "Role {i} in {slug}"@en ;',
            f'  schema:name "Role {i}"@en ; schema:actor <id/person/{actor}> ;',
            f'  schema:characterName "Character {i}"@en ; filmld:character {character} .',
            f'{character} a filmld:Character ; rdfs:label "Character {i} in {slug}"@en ;',
            f'  schema:name "Character {i}"@en ; schema:description "Someone."@en .',
        ]
    lines += [f'<id/event/{slug}-opening> a schema:Event ; rdfs:label "Opening of {slug}"@en ;',
              '  schema:name "Opening"@en ; filmld:plotPosition 1 ;',
              '  schema:description "It begins."@en ;',
              f"  filmld:involvesCharacter <id/character/{slug}-c0> ."]
    return "\n".join(lines) + "\n"


def violations(report) -> set[tuple[str, str | None, str | None]]:
    return {(r.focus.rsplit("/", 1)[-1], r.path.rsplit("/", 1)[-1] if r.path else None,
             r.constraint) for r in report.violations}


# -- what the shapes read -------------------------------------------------------------------

def test_reach_of_the_shapes_is_two_hops_and_sh_class_reads_linked_types(validator):
    shape_reach = validator.reach
    assert shape_reach.depth == 2
    rdf_type = str(rdflib.RDF.type)
    assert shape_reach.affects_linkers(rdf_type, "out") == 1
    assert shape_reach.affects_linkers("https://schema.org/name", "out") == 0


def test_unbounded_paths_are_refused_rather_than_validated_wrongly():
    shapes = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://x/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:A ;
          sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:minCount 1 ] .""",
                                  format="turtle")
    with pytest.raises(UnboundedShapes):
        reach(shapes)


# -- the answers ------------------------------------------------------------------------------

def test_a_new_film_alone_conforms_and_its_warnings_do_not_refuse(store, validator):
    report = validator.validate_change(store, triples(one_film("new-1999", same_as=False)))
    assert report.conforms, report.text()
    assert [r.path.rsplit("/", 1)[-1] for r in report.warnings] == ["sameAs"]


def test_a_second_release_date_is_refused(store, validator):
    change = triples('<id/film/mask-1985> schema:datePublished "1986"^^xsd:gYear .')
    report = validator.validate_change(store, change)
    assert not report.conforms
    assert violations(report) == {("mask-1985", "datePublished", "MaxCountConstraintComponent")}
    (result,) = report.violations
    assert result.focus_label == "Mask (1985)" and result.path_label == "release date"


def test_a_role_whose_actor_does_not_exist_is_refused(store, validator):
    change = triples("""<id/role/mask-1985-extra> a schema:PerformanceRole ;
        rdfs:label "Nobody as Extra"@en ; schema:name "Nobody as Extra"@en ;
        schema:actor <id/person/nobody> ; schema:characterName "Extra"@en ;
        filmld:character <id/character/gar> .""")
    report = validator.validate_change(store, change)
    assert ("mask-1985-extra", "actor", "ClassConstraintComponent") in violations(report)
    assert next(r.value for r in report.violations) == f"{BASE}id/person/nobody"


def test_a_triple_that_makes_an_existing_linked_node_invalid_is_refused(store, validator):
    """Cher alone stays valid as a character; the curated role she plays does not."""
    change = triples("<id/person/cher> a filmld:Character .")
    report = validator.validate_change(store, change)
    assert ("mask-1985-rusty-dennis", "actor", "NotConstraintComponent") in violations(report)


def test_violations_already_in_the_store_are_not_blamed_on_the_change(settings, validator):
    store = open_dataset(settings)
    try:
        store.add_graph(f"{BASE}graph/old", triples(
            '<id/film/mask-1985> schema:datePublished "1984"^^xsd:gYear .'))
        report = validator.validate_change(store, triples(
            '<id/film/mask-1985> schema:genre "biography"@en .'))
        assert report.conforms, report.text()
        report = validator.validate_change(store, triples(
            '<id/film/mask-1985> schema:genre "biography" .'))
        assert violations(report) == {("mask-1985", "genre", "DatatypeConstraintComponent")}
    finally:
        store.close()


def test_the_report_graph_holds_only_the_kept_results(store, validator):
    report = validator.validate_change(store, triples(
        '<id/film/mask-1985> schema:datePublished "1986"^^xsd:gYear .'))
    results = list(report.graph.subjects(rdflib.RDF.type, rdflib.SH.ValidationResult))
    assert len(results) == 1
    assert (None, rdflib.SH.conforms, rdflib.Literal(False)) in report.graph


# -- the two pySHACL 0.40.1 traps -----------------------------------------------------------

OR_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://x/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:FilmShape a sh:NodeShape ; sh:targetClass ex:Film ;
  sh:property [ sh:path ex:date ;
    sh:or ( [ sh:datatype xsd:date ] [ sh:datatype xsd:gYear ] ) ] ."""


def test_violations_inside_sh_or_are_caught(tmp_path):
    """pySHACL's focus_nodes option misses the sh:or violation; our validation must not."""
    shapes = rdflib.Graph().parse(data=OR_SHAPES, format="turtle")
    store = EmbeddedStore(tmp_path / "or", base="http://x/")
    try:
        store.add_graph("http://x/graph/curated", triples(
            "<http://x/f> a <http://x/Film> .", base="http://x/"))
        change = triples('<http://x/f> <http://x/date> "not a date" .', base="http://x/")
        report = Validator(shapes).validate_change(store, change)
        assert {r.constraint for r in report.violations} == {"OrConstraintComponent"}

        # The trap this guards against: the same check through pySHACL's focus_nodes.
        data = rdflib.Graph().parse(data='<http://x/f> a <http://x/Film> ; '
                                    '<http://x/date> "not a date" .', format="turtle")
        conforms, _, _ = pyshacl.validate(data, shacl_graph=shapes,
                                          focus_nodes=[rdflib.URIRef("http://x/f")])
        assert conforms  # pyshacl 0.40.1: the violation is missed
    finally:
        store.close()


def _generator():
    spec = importlib.util.spec_from_file_location("generate_films",
                                                  ROOT / "benchmarks" / "generate_films.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic_store(path: Path, films: int) -> EmbeddedStore:
    store = EmbeddedStore(path, base=BASE)
    text = "".join(_generator().generate(films, 7, BASE)).encode()
    store.replace_graph(store.graph_iri("curated"),
                        [q.triple for q in parse(text, NTRIPLES, base=BASE)])
    return store


def busiest_actors(store, count: int = 5) -> list[str]:
    """The people with the most roles (the same seed makes the same first films)."""
    rows = store.select("SELECT ?p (COUNT(?r) AS ?n) WHERE { ?r <https://schema.org/actor> ?p "
                        "FILTER(STRSTARTS(STR(?r), '" + BASE + "id/role/')) } "
                        f"GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT {count}")
    return [r["p"].value.rsplit("/", 1)[-1] for r in rows]


@pytest.fixture(scope="module")
def sized_stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("sized")
    stores = {n: synthetic_store(root / str(n), n) for n in (50, 1000)}
    yield stores
    for store in stores.values():
        store.close()


@pytest.fixture(scope="module")
def probe(sized_stores) -> str:
    """A one-film contribution whose cast are the busiest actors of the small store."""
    return one_film("probe-2020", actors=busiest_actors(sized_stores[50]))


def test_the_validated_graph_is_small_in_memory_and_independent_of_store_size(
        sized_stores, probe, validator, monkeypatch):
    """Never pySHACL against a pyoxigraph-backed graph (quadratic), never the whole store."""
    seen: list[rdflib.Graph] = []
    real = pyshacl.validate

    def spy(graph, *args, **kwargs):
        seen.append(graph)
        return real(graph, *args, **kwargs)

    monkeypatch.setattr(pyshacl, "validate", spy)
    sizes = {}
    for films, store in sized_stores.items():
        seen.clear()
        report = validator.validate_change(store, triples(probe))
        assert report.conforms, report.text()
        (graph,) = seen
        assert type(graph.store) is Memory
        sizes[films] = len(graph)
    assert sizes[1000] <= sizes[50] * 1.5, sizes


def test_latency_stays_flat_as_the_store_grows(sized_stores, probe, validator):
    change = triples(probe)

    def best_of(store, runs=5):
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            assert validator.validate_change(store, change).conforms
            timings.append(time.perf_counter() - start)
        return min(timings)

    small, large = best_of(sized_stores[50]), best_of(sized_stores[1000])
    assert large < small * 2, (small, large)


def test_restating_a_stored_type_does_not_walk_every_role_of_a_busy_actor(sized_stores):
    from filmld.neighbourhood import touched

    store = sized_stores[1000]
    actor = f"<{BASE}id/person/{busiest_actors(store, 1)[0]}>"
    shape_reach = Validator.from_settings(Settings()).reach
    restated = touched(store, triples(f"{actor} a schema:Person ."), shape_reach)
    assert len(restated) == 2  # the actor and schema:Person
    retyped = touched(store, triples(f"{actor} a filmld:Character ."), shape_reach)
    assert len(retyped) > 20  # a real change: every role that casts them is checked again
