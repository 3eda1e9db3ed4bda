"""The facts of data/ (Mask, 1985), each asked the way a user would ask it, in SPARQL.

One test per fact of the brief (film, cast, relations, Rocky, Rusty, setting, soundtrack,
plot, themes, summaries), then the other facts of the summaries, then checks that hold for
every resource: labels, names, types, spelling, references for facts beyond the source,
SHACL conformance and relative IRIs.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib import RDF, RDFS, Literal, URIRef

from filmld.config import DEFAULT_BASE
from filmld.loading import read_data, read_ontology, read_shapes

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = rdflib.Namespace("https://schema.org/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
FILMLD = rdflib.Namespace(DEFAULT_BASE + "ontology/")
WIKIPEDIA = "https://en.wikipedia.org/wiki/"

PREFIXES = f"""
PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX filmld: <{DEFAULT_BASE}ontology/>
PREFIX film: <{DEFAULT_BASE}id/film/>
PREFIX person: <{DEFAULT_BASE}id/person/>
PREFIX character: <{DEFAULT_BASE}id/character/>
PREFIX role: <{DEFAULT_BASE}id/role/>
PREFIX place: <{DEFAULT_BASE}id/place/>
PREFIX recording: <{DEFAULT_BASE}id/recording/>
PREFIX event: <{DEFAULT_BASE}id/event/>
PREFIX theme: <{DEFAULT_BASE}id/theme/>
PREFIX condition: <{DEFAULT_BASE}id/condition/>
PREFIX group: <{DEFAULT_BASE}id/organization/>
PREFIX summary: <{DEFAULT_BASE}id/summary/>
PREFIX source: <{DEFAULT_BASE}id/source/>
"""


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    graph = read_data()
    assert len(graph) > 300, "data/ looks empty"
    return graph


def ask(graph: rdflib.Graph, body: str) -> bool:
    return bool(graph.query(PREFIXES + "ASK {" + body + "}").askAnswer)


def select(graph: rdflib.Graph, query: str) -> list[tuple]:
    return [tuple(None if v is None else v.toPython() if isinstance(v, Literal) else str(v)
                  for v in row) for row in graph.query(PREFIXES + query)]


def column(graph: rdflib.Graph, query: str) -> set:
    return {row[0] for row in select(graph, query)}


def source_file() -> Path:
    """shared/sources/film-summaries.txt: beside the repository (CI), or FILMLD_SOURCE_FILE."""
    candidates = [os.environ.get("FILMLD_SOURCE_FILE"),
                  ROOT.parent / "shared" / "sources" / "film-summaries.txt",
                  "/work/shared/sources/film-summaries.txt"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise AssertionError(f"source file film-summaries.txt not found in {candidates}")


# ------------------------------------------------------------------ 1. the film

def test_fact_1_film_mask_1985_is_a_drama_based_on_the_story_of_rocky_dennis(data):
    rows = select(data, """
        SELECT ?film ?date ?genre ?real WHERE {
          ?film a schema:Movie ; schema:name "Mask"@en ; schema:datePublished ?date ;
                schema:genre ?genre ; filmld:basedOnStoryOf ?real .
          ?real a schema:Person ; schema:name "Rocky Dennis"@en .
          FILTER NOT EXISTS { ?real a filmld:Character }
        }""")
    assert len(rows) == 1, rows
    film, date, genre, real = rows[0]
    assert film == DEFAULT_BASE + "id/film/mask-1985"
    assert str(date).startswith("1985")
    assert genre == "drama"
    assert real == DEFAULT_BASE + "id/person/rocky-dennis"


def test_fact_1_film_director_is_peter_bogdanovich_with_reference(data):
    assert ask(data, """
        film:mask-1985 schema:director ?d ; dct:source ?ref .
        ?d a schema:Person ; schema:name "Peter Bogdanovich"@en ; dct:source ?ref2 .
        FILTER(STRSTARTS(STR(?ref), "https://en.wikipedia.org/wiki/Mask_(1985_film)"))""")


# ------------------------------------------------------------------ 2. the cast

def test_fact_2_cast_actors_and_the_characters_they_play(data):
    cast = set(select(data, """
        SELECT ?actorName ?characterName WHERE {
          film:mask-1985 schema:actor ?role .
          ?role a schema:PerformanceRole ; schema:actor ?actor ; filmld:character ?character ;
                schema:characterName ?roleName .
          ?actor a schema:Person ; schema:name ?actorName .
          ?character a filmld:Character ; schema:name ?characterName .
          FILTER(STR(?roleName) = STR(?characterName))
        }"""))
    assert {("Cher", "Rusty Dennis"), ("Eric Stoltz", "Rocky Dennis"),
            ("Sam Elliott", "Gar"), ("Laura Dern", "Diana Adams"),
            ("Lawrence Monoson", "Ben")} == cast


def test_fact_2_which_actor_plays_the_character_whose_mother_is_rusty(data):
    assert column(data, """
        SELECT ?name WHERE {
          ?mother schema:name "Rusty Dennis"@en ; a filmld:Character ; filmld:motherOf ?child .
          ?role filmld:character ?child ; schema:actor/schema:name ?name .
        }""") == {"Eric Stoltz"}


def test_fact_2_laura_dern_plays_rockys_first_love_and_girlfriend(data):
    assert column(data, """
        SELECT ?name WHERE {
          ?role schema:actor/schema:name "Laura Dern"@en ; filmld:character ?c .
          ?c filmld:firstLoveOf character:rocky-dennis ;
             filmld:girlfriendOf character:rocky-dennis ; schema:name ?name .
        }""") == {"Diana Adams"}


def test_fact_2_ben_is_a_character_of_the_film(data):
    assert ask(data, """film:mask-1985 schema:character ?ben .
                        ?ben a filmld:Character ; schema:name "Ben"@en .""")
    assert column(data, "SELECT ?c WHERE { film:mask-1985 schema:character ?c }") == {
        DEFAULT_BASE + f"id/character/{slug}"
        for slug in ("rocky-dennis", "rusty-dennis", "gar", "ben", "diana-adams")}


def test_fact_2_characters_are_distinct_from_actors_and_real_people(data):
    assert not ask(data, "?x a filmld:Character , schema:Person .")
    assert not ask(data, "?role a schema:PerformanceRole ; schema:actor ?a . ?a a filmld:Character .")
    assert not ask(data, "?c a filmld:Character ; schema:sameAs ?x .")
    assert set(select(data, """
        SELECT ?character ?real WHERE {
          ?c a filmld:Character ; filmld:basedOnPerson ?p ; schema:name ?character .
          ?p a schema:Person ; schema:name ?real . }""")) == {
        ("Rocky Dennis", "Rocky Dennis"), ("Rusty Dennis", "Rusty Dennis")}


# ------------------------------------------------------------------ 3. relations

def test_fact_3_rusty_is_rockys_mother(data):
    assert ask(data, """?rusty schema:name "Rusty Dennis"@en ; a filmld:Character ;
                            filmld:motherOf ?rocky .
                        ?rocky schema:name "Rocky Dennis"@en ; schema:parent ?rusty .""")


def test_fact_3_gar_is_rustys_boyfriend(data):
    assert column(data, """SELECT ?name WHERE { ?b filmld:boyfriendOf character:rusty-dennis ;
                                                   schema:name ?name }""") == {"Gar"}


def test_fact_3_ben_is_rockys_best_friend(data):
    assert column(data, """SELECT ?name WHERE { ?b filmld:bestFriendOf character:rocky-dennis ;
                                                   schema:name ?name }""") == {"Ben"}


def test_fact_3_laura_derns_character_is_rockys_girlfriend(data):
    assert column(data, """SELECT ?actor WHERE {
        ?g filmld:girlfriendOf character:rocky-dennis .
        ?role filmld:character ?g ; schema:actor/schema:name ?actor }""") == {"Laura Dern"}


def test_fact_3_rustys_biker_gang_accepts_rocky_without_question(data):
    rows = select(data, """
        SELECT ?gang ?alt WHERE {
          ?gang a schema:Organization ; schema:member character:rusty-dennis ;
                schema:alternateName ?alt ;
                filmld:acceptsWithoutQuestion character:rocky-dennis .
          character:rusty-dennis schema:memberOf ?gang .
        }""")
    assert rows == [(DEFAULT_BASE + "id/organization/rusty-dennis-biker-gang",
                     "Rocky's extended motorcycle family")]
    assert ask(data, "character:gar filmld:acceptsWithoutQuestion character:rocky-dennis .")


# ------------------------------------------------------------------ 4. Rocky

def test_fact_4_rocky_has_lionitis_craniodiaphyseal_dysplasia(data):
    rows = select(data, """
        SELECT ?name ?same WHERE {
          character:rocky-dennis filmld:hasCondition ?c .
          ?c a schema:MedicalCondition ; schema:alternateName "lionitis"@en ;
             schema:name ?name ; schema:description ?d ; schema:sameAs ?same .
          FILTER(CONTAINS(?d, "facial skull"))
        }""")
    assert rows == [("craniodiaphyseal dysplasia",
                     "http://dbpedia.org/resource/Craniodiaphyseal_dysplasia")]


def test_fact_4_rocky_is_a_teenager_with_his_traits(data):
    traits = column(data, """SELECT ?t WHERE { character:rocky-dennis filmld:hasTrait ?x .
                                               ?x a filmld:Trait ; schema:name ?t }""")
    assert {"teenager", "intelligent", "outgoing", "humorous", "emotionally warm", "sensitive",
            "accomplished student", "role model", "humanity"} == traits


def test_fact_4_rocky_is_a_role_model_to_classmates_and_teachers(data):
    assert ask(data, """character:rocky-dennis filmld:hasTrait ?t .
                        ?t schema:name "role model"@en ; schema:description ?d .
                        FILTER(CONTAINS(?d, "classmates") && CONTAINS(?d, "teachers"))""")


def test_fact_4_rocky_has_outlived_his_life_expectancy(data):
    assert ask(data, "character:rocky-dennis filmld:lifeExpectancyOutlived true .")


def test_fact_4_rocky_suffers_fierce_headaches(data):
    assert ask(data, """character:rocky-dennis filmld:hasCondition ?h .
                        ?h a schema:MedicalSymptom ; schema:name "headache"@en ;
                           schema:description ?d . FILTER(CONTAINS(LCASE(?d), "fierce"))""")


def test_fact_4_rocky_dies_peacefully_in_his_sleep_near_the_end(data):
    rows = select(data, """
        SELECT ?pos (MAX(?other) AS ?last) WHERE {
          character:rocky-dennis filmld:deathEvent ?e .
          film:mask-1985 filmld:plotEvent ?e , ?o .
          ?e filmld:plotPosition ?pos ; schema:description ?d ;
             filmld:involvesCharacter character:rocky-dennis .
          ?o filmld:plotPosition ?other .
          FILTER(CONTAINS(?d, "peacefully in his sleep"))
        } GROUP BY ?pos""")
    assert len(rows) == 1 and rows[0][0] == rows[0][1] == 8


# ------------------------------------------------------------------ 5. Rusty

def test_fact_5_rusty_is_a_no_nonsense_freewheeling_biker_mother(data):
    traits = column(data, """SELECT ?t WHERE { character:rusty-dennis filmld:hasTrait/schema:name ?t }""")
    assert {"no-nonsense", "freewheeling", "biker", "wild lifestyle", "tender", "protective",
            "loving", "determined"} == traits


def test_fact_5_rustys_wild_lifestyle_is_at_odds_with_her_tenderness(data):
    assert column(data, """SELECT ?t WHERE {
        character:rusty-dennis filmld:hasTrait ?wild , ?other .
        ?wild schema:name "wild lifestyle"@en ; filmld:atOddsWith ?other .
        ?other schema:name ?t }""") == {"tender", "protective"}


def test_fact_5_rusty_fights_for_rockys_acceptance_in_public_school(data):
    assert ask(data, """character:rusty-dennis filmld:goal ?g .
                        FILTER(CONTAINS(?g, "acceptance in the public school system"))""")
    assert ask(data, """film:mask-1985 filmld:plotEvent ?e .
                        ?e filmld:involvesCharacter character:rusty-dennis , character:rocky-dennis ;
                           schema:description ?d .
                        FILTER(CONTAINS(?d, "fights for Rocky's acceptance in the public school"))""")


# ------------------------------------------------------------------ 6. setting

def test_fact_6_setting_azusa_los_angeles_california_end_of_summer_1979(data):
    rows = select(data, """
        SELECT ?town ?city ?state ?desc ?time ?year WHERE {
          film:mask-1985 filmld:setting ?p ; filmld:settingTime ?time ; filmld:settingYear ?year .
          ?p a schema:Place ; schema:name ?town ; schema:description ?desc ;
             schema:containedInPlace ?c .
          ?c schema:name ?city ; schema:containedInPlace/schema:name ?state .
        }""")
    assert len(rows) == 1
    town, city, state, desc, time, year = rows[0]
    # Azusa is a city in Los Angeles County (as its sameAs says); the source's "section of Los
    # Angeles" is kept in the description.
    assert (town, city, state) == ("Azusa", "Los Angeles County", "California")
    assert "lower-middle-class" in desc and "section of Los Angeles" in desc
    assert time == "the end of the summer of 1979"
    assert str(year) == "1979"
    assert ask(data, "place:azusa schema:sameAs <http://dbpedia.org/resource/Azusa,_California> .")


# ------------------------------------------------------------------ 7. soundtrack

def test_fact_7_bob_segers_katmandu_plays_as_the_opening_pans_into_rockys_bedroom(data):
    rows = select(data, """
        SELECT ?song ?artist ?pos ?room WHERE {
          film:mask-1985 filmld:soundtrack ?r ; filmld:plotEvent ?e .
          ?r a schema:MusicRecording ; schema:name ?song ; schema:byArtist/schema:name ?artist ;
             filmld:playsDuring ?e .
          ?e filmld:plotPosition ?pos ; schema:location/schema:name ?room ; schema:description ?d .
          FILTER(CONTAINS(?d, "pans into the bedroom of Rocky Dennis"))
        }""")
    assert rows == [("Katmandu", "Bob Seger", 1, "Rocky's bedroom")]


# ------------------------------------------------------------------ 8. plot

def test_fact_8_plot_is_eight_ordered_events(data):
    rows = select(data, """
        SELECT ?pos ?name WHERE {
          film:mask-1985 filmld:plotEvent ?e .
          ?e a schema:Event ; filmld:plotPosition ?pos ; schema:name ?name .
        } ORDER BY ?pos""")
    assert [pos for pos, _ in rows] == list(range(1, 9))
    assert [name for _, name in rows] == [
        "Opening: the shot pans into Rocky's bedroom",
        "School admission and ridicule",
        "First love",
        "Separation from his girlfriend",
        "Collapse of the dream motorcycle trip to Europe",
        "Fierce headaches",
        "Withdrawal to his room",
        "Rocky dies in his sleep",
    ]


def test_fact_8_trip_to_europe_was_with_ben(data):
    assert ask(data, """?e filmld:plotPosition 5 ; filmld:involvesCharacter character:ben ;
                           schema:description ?d . film:mask-1985 filmld:plotEvent ?e .
                        FILTER(CONTAINS(?d, "motorcycle trip to Europe"))""")


# ------------------------------------------------------------------ 9. themes

def test_fact_9_themes(data):
    assert column(data, """SELECT ?name WHERE { film:mask-1985 filmld:theme ?t .
                                                ?t a filmld:Theme ; schema:name ?name }""") == {
        "prejudice", "acceptance", "loneliness", "a mother's love"}


# ------------------------------------------------------------------ 10. summaries

def test_fact_10_summaries_are_the_source_lines_in_order(data):
    lines = [line for line in source_file().read_text(encoding="utf-8").splitlines()
             if line.strip()]
    assert len(lines) == 5
    rows = select(data, """
        SELECT ?pos ?text WHERE {
          ?s a filmld:PlotSummary ; schema:position ?pos ; schema:text ?text ;
             schema:about film:mask-1985 ; schema:isBasedOn source:film-summaries .
        } ORDER BY ?pos""")
    assert [pos for pos, _ in rows] == [1, 2, 3, 4, 5]
    assert [text for _, text in rows] == lines


def test_fact_10_source_document_is_typed_and_labelled(data):
    assert ask(data, """source:film-summaries a schema:DigitalDocument ;
                          schema:encodingFormat "text/plain" ; rdfs:label ?l ;
                          schema:name "Five plot summaries of Mask (1985)"@en ;
                          schema:identifier "film-summaries.txt" ;
                          schema:about film:mask-1985 .""")
    assert column(data, "SELECT ?s WHERE { ?s schema:isBasedOn source:film-summaries }") == {
        DEFAULT_BASE + f"id/summary/mask-1985-{i}" for i in range(1, 6)}


# ------------------------------------------------------------------ other facts of the summaries

def test_other_rocky_treated_with_fear_pity_awkwardness_teasing(data):
    assert column(data, """SELECT ?a WHERE { character:rocky-dennis filmld:treatedWith ?x .
                                             ?x a filmld:Attitude ; schema:name ?a }""") == {
        "fear", "pity", "awkwardness", "teasing", "ridicule"}
    assert ask(data, """character:rocky-dennis filmld:treatedWith ?x .
                        ?x schema:name "fear"@en ; schema:description ?d .
                        FILTER(CONTAINS(?d, "unaware of Rocky's humanity"))""")


def test_other_rusty_determined_to_give_rocky_a_normal_life_and_same_chances(data):
    goals = column(data, "SELECT ?g WHERE { character:rusty-dennis filmld:goal ?g }")
    assert "to give Rocky a normal life" in goals
    assert any("same chances and happiness" in goal for goal in goals)


def test_other_rocky_and_rusty_live_as_normal_a_life_as_possible(data):
    assert ask(data, """character:rocky-dennis filmld:goal ?g . character:rusty-dennis filmld:goal ?g .
                        FILTER(CONTAINS(?g, "as normal a life as possible"))""")


def test_other_rocky_motivated_by_his_mother_and_gar(data):
    assert column(data, """SELECT ?n WHERE { character:rocky-dennis filmld:motivatedBy/schema:name ?n }"""
                  ) == {"Rusty Dennis", "Gar"}


def test_other_rocky_overcomes_pain_loneliness_and_prejudice(data):
    assert column(data, """SELECT ?n WHERE { character:rocky-dennis filmld:overcomes/schema:name ?n }"""
                  ) == {"pain", "loneliness", "prejudice"}


def test_other_rocky_finds_love_and_respect_from_the_biker_gang_family(data):
    assert ask(data, """?g a schema:Organization ;
                          filmld:givesLoveAndRespectTo character:rocky-dennis ;
                          schema:member character:rusty-dennis .""")


def test_other_rocky_dreams_of_a_motorcycle_trip_with_ben(data):
    assert ask(data, """character:rocky-dennis filmld:goal ?g .
                        FILTER(CONTAINS(?g, "motorcycle trip to Europe") && CONTAINS(?g, "Ben"))""")


def test_other_film_is_heartwarming_and_inspirational(data):
    assert column(data, "SELECT ?k WHERE { film:mask-1985 schema:keywords ?k }") == {
        "heartwarming", "inspirational"}


def test_real_rocky_dennis_dates_and_mother(data):
    assert select(data, """SELECT ?b ?d ?m WHERE { person:rocky-dennis schema:birthDate ?b ;
                             schema:deathDate ?d ; schema:parent/schema:name ?m ;
                             dct:source <https://en.wikipedia.org/wiki/Rocky_Dennis> }""") == [
        (datetime.date(1961, 12, 4), datetime.date(1978, 10, 4), "Rusty Dennis")]


# ------------------------------------------------------------------ every resource

def iri_subjects(graph: rdflib.Graph) -> set[URIRef]:
    return {s for s in graph.subjects() if isinstance(s, URIRef)}


def test_every_subject_has_type_english_label_and_name(data):
    problems = []
    for s in sorted(iri_subjects(data)):
        if not list(data.objects(s, RDF.type)):
            problems.append(f"{s}: no rdf:type")
        for p in (RDFS.label, SCHEMA.name):
            if not any(isinstance(o, Literal) and o.language == "en" for o in data.objects(s, p)):
                problems.append(f"{s}: no {p} in English")
    assert not problems, problems
    assert not [s for s in data.subjects() if not isinstance(s, URIRef)], "blank-node subjects"
    assert len(iri_subjects(data)) >= 60


def test_source_misspellings_are_corrected(data):
    texts = [str(o) for s, p, o in data if isinstance(o, Literal) and p != SCHEMA.text]
    for wrong in ("Stolz", "Seeger", "Kathmandu"):
        assert not [t for t in texts if wrong in t], wrong
    for right in ("Eric Stoltz", "Bob Seger", "Katmandu"):
        assert right in texts
    # the summaries quote the source exactly, mistakes included
    assert any("Eric Stolz" in str(o) for o in data.objects(None, SCHEMA.text))


BEYOND_SOURCE = ["id/film/mask-1985", "id/person/peter-bogdanovich", "id/person/rocky-dennis",
                 "id/person/rusty-dennis", "id/character/rusty-dennis", "id/character/diana-adams",
                 "id/role/mask-1985-diana-adams", "id/person/lawrence-monoson",
                 "id/role/mask-1985-ben", "id/condition/craniodiaphyseal-dysplasia",
                 "id/recording/katmandu"]


def test_every_fact_beyond_the_source_has_a_wikipedia_reference(data):
    subjects = {URIRef(DEFAULT_BASE + local) for local in BEYOND_SOURCE + ONLY_BEYOND_SOURCE}
    for p in (SCHEMA.sameAs, SCHEMA.birthDate, SCHEMA.deathDate, SCHEMA.director,
              FILMLD.basedOnPerson):
        subjects |= set(data.subjects(p, None))
    subjects |= set(data.objects(None, SCHEMA.director))
    missing = [s for s in subjects
               if not any(str(o).startswith(WIKIPEDIA) for o in data.objects(s, DCT.source))]
    assert not missing, missing
    for o in data.objects(None, DCT.source):
        assert o == SOURCE_DOCUMENT or (isinstance(o, URIRef) and str(o).startswith(WIKIPEDIA)), o


SOURCE_DOCUMENT = URIRef(DEFAULT_BASE + "id/source/film-summaries")
# Resources without a single fact from the source: they cite Wikipedia only.
ONLY_BEYOND_SOURCE = ["id/person/peter-bogdanovich", "id/person/lawrence-monoson",
                      "id/person/rusty-dennis", "id/place/los-angeles-county",
                      "id/place/california"]


def test_every_resource_mapped_from_the_summaries_cites_the_source_document(data):
    """Provenance: dct:source <id/source/film-summaries> on every resource with facts from the
    source (the summaries and the document itself excepted: schema:isBasedOn links them)."""
    documents = {SOURCE_DOCUMENT} | set(data.subjects(SCHEMA.isBasedOn, SOURCE_DOCUMENT))
    only_beyond = {URIRef(DEFAULT_BASE + local) for local in ONLY_BEYOND_SOURCE}
    mapped = iri_subjects(data) - documents - only_beyond
    assert len(mapped) >= 55
    missing = sorted(s for s in mapped if (s, DCT.source, SOURCE_DOCUMENT) not in data)
    assert not missing, missing
    wrong = sorted(s for s in only_beyond if (s, DCT.source, SOURCE_DOCUMENT) in data)
    assert not wrong, wrong
    assert only_beyond <= iri_subjects(data)


def test_same_as_links_only_to_the_certain_dbpedia_resources(data):
    linked = {str(s)[len(DEFAULT_BASE):]: str(o)[len("http://dbpedia.org/resource/"):]
              for s, o in data.subject_objects(SCHEMA.sameAs)}
    assert linked == {
        "id/film/mask-1985": "Mask_(1985_film)", "id/person/cher": "Cher",
        "id/person/eric-stoltz": "Eric_Stoltz", "id/person/sam-elliott": "Sam_Elliott",
        "id/person/laura-dern": "Laura_Dern", "id/person/peter-bogdanovich": "Peter_Bogdanovich",
        "id/person/bob-seger": "Bob_Seger", "id/place/azusa": "Azusa,_California",
        "id/place/california": "California",
        "id/place/los-angeles-county": "Los_Angeles_County,_California",
        "id/condition/craniodiaphyseal-dysplasia": "Craniodiaphyseal_dysplasia",
        "id/person/rocky-dennis": "Rocky_Dennis"}
    assert not list(data.triples((None, rdflib.OWL.sameAs, None))), "use schema:sameAs only"


def test_data_conforms_to_the_shapes_without_warnings(data):
    conforms, results, text = pyshacl.validate(
        data, shacl_graph=read_shapes(), ont_graph=read_ontology(), inference="none")
    assert conforms, text
    assert not list(results.subjects(RDF.type, rdflib.SH.ValidationResult)), text


def test_data_conforms_to_the_shapes_under_rdfs_inference(data):
    """The ontology and the shapes agree: with the entailments of the ontology (a character is
    a schema:Person, the film is a schema:CreativeWork by the domain of filmld:theme, ...),
    data/ still conforms, without warnings."""
    conforms, results, text = pyshacl.validate(
        data, shacl_graph=read_shapes(), ont_graph=read_ontology(), inference="rdfs")
    assert conforms, text
    assert not list(results.subjects(RDF.type, rdflib.SH.ValidationResult)), text


@pytest.mark.parametrize("path", sorted((ROOT / "data").glob("*.ttl")), ids=lambda p: p.name)
def test_data_files_use_relative_iris_only(path):
    text = path.read_text(encoding="utf-8")
    assert "\n@base" not in text and "\nBASE " not in text
    assert "<http://127.0.0.1" not in text and "<http://localhost" not in text
    assert "<id/" in text


def test_iris_follow_the_public_base(data):
    other = "https://films.example.org/ld/"
    moved = read_data(base=other)
    assert len(moved) == len(data)
    ours = {str(s) for s in iri_subjects(moved)}
    assert all(iri.startswith(other + "id/") for iri in ours), sorted(ours)[:5]
    assert URIRef(other + "ontology/Character") in set(moved.objects(None, RDF.type))
    assert not any("127.0.0.1" in str(term) for triple in moved for term in triple)
