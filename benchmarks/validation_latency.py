"""Latency of validating a one-film contribution (about 70 triples) against stores of
synthetic films, next to pySHACL validating the same contribution with the whole data graph.

    PYTHONPATH=src python benchmarks/validation_latency.py                 # 1k and 10k films
    PYTHONPATH=src python benchmarks/validation_latency.py --films 1000 10000 100000 \\
        --whole-up-to 10000

Targets (issue 6): latency at the largest store at most 1.5 times that at the smallest
(flat), and at least 100 times faster than pySHACL on the whole graph at 10k films.
Stores come from benchmarks/generate_films.py (deterministic; conforms to the shapes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_films import generate

from filmld.config import Settings
from filmld.formats import TURTLE
from filmld.loading import parse, read_folder
from filmld.store.embedded import EmbeddedStore
from filmld.terms import to_rdflib
from filmld.validation import Validator

BASE = "http://127.0.0.1:8000/"
PREFIXES = """@prefix schema: <https://schema.org/> . @prefix filmld: <ontology/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
"""


def contribution(actors: list[str], roles: int = 5) -> list[ox.Triple]:
    """One new film: 5 roles played by the busiest actors of the store, 5 characters, a
    plot event; 74 triples."""
    slug = "benchmark-probe-2024"
    film = f"<id/film/{slug}>"
    lines = [f'{film} a schema:Movie ; rdfs:label "Probe (2024)"@en ; schema:name "Probe"@en ;',
             '  schema:datePublished "2024-01-01"^^xsd:date ; schema:genre "drama"@en ;',
             f"  filmld:plotEvent <id/event/{slug}-opening> ;",
             f"  schema:sameAs <http://dbpedia.org/resource/{slug}> ;",
             f"  dct:source <https://en.wikipedia.org/wiki/{slug}> ."]
    for i in range(roles):
        role, character = f"<id/role/{slug}-c{i}>", f"<id/character/{slug}-c{i}>"
        lines += [
            f"{film} schema:actor {role} ; schema:character {character} .",
            (f'{role} a schema:PerformanceRole ; rdfs:label "Role {i}"@en ; '
            f'schema:name "Role {i}"@en ; schema:actor <{actors[i % len(actors)]}> ; '
            f'schema:characterName "Character {i}"@en ; filmld:character {character} .'),
            (f'{character} a filmld:Character ; rdfs:label "Character {i}"@en ; '
            f'schema:name "Character {i}"@en ; schema:description "Someone."@en .')]
    lines += [(f'<id/event/{slug}-opening> a schema:Event ; rdfs:label "Opening"@en ; '
              'schema:name "Opening"@en ; filmld:plotPosition 1 ; schema:description "Begins."@en ; '
              f"filmld:involvesCharacter <id/character/{slug}-c0> .")]
    text = PREFIXES + "\n".join(lines)
    return [q.triple for q in parse(text.encode(), TURTLE, base=BASE)]


def load(store: EmbeddedStore, films: int, seed: int) -> int:
    """Generate and load `films` films, streamed in chunks; returns the triple count."""
    settings = Settings()
    store.replace_graph(store.graph_iri("ontology"), read_folder(settings.ontology_dir, BASE))
    count, batch = 0, []
    graph = ox.NamedNode(store.graph_iri("curated"))
    for chunk in generate(films, seed, BASE):
        batch.append(chunk)
        if len(batch) >= 2000:
            count += _load(store, "".join(batch), graph)
            batch = []
    if batch:
        count += _load(store, "".join(batch), graph)
    store.flush()
    return count


def _load(store: EmbeddedStore, text: str, graph: ox.NamedNode) -> int:
    quads = [ox.Quad(q.subject, q.predicate, q.object, graph)
             for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]
    store.store.bulk_extend(quads)
    return len(quads)


def busiest_actors(store: EmbeddedStore, count: int = 5) -> list[str]:
    rows = store.select("SELECT ?p (COUNT(?r) AS ?n) WHERE { ?r <https://schema.org/actor> ?p "
                        f"FILTER(STRSTARTS(STR(?r), '{BASE}id/role/')) }} "
                        f"GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT {count}")
    return [r["p"].value for r in rows]


def time_ours(validator: Validator, store: EmbeddedStore, change: list[ox.Triple],
              runs: int) -> float:
    report = validator.validate_change(store, change)  # warm-up, and a sanity check
    assert report.conforms, report.text()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        validator.validate_change(store, change)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def time_whole(validator: Validator, store: EmbeddedStore, change: list[ox.Triple]) -> float:
    """pySHACL over the whole data graph (an in-memory rdflib graph, as fast as it gets)."""
    import pyshacl

    graph = rdflib.Graph()
    for triple in validator.ontology:
        graph.add(triple)
    for quad in store.store.quads_for_pattern(None, None, None,
                                              ox.NamedNode(store.graph_iri("curated"))):
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    for t in change:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    start = time.perf_counter()
    conforms, _, _ = pyshacl.validate(graph, shacl_graph=validator.shapes, inference="none",
                                      allow_warnings=True, advanced=True, inplace=True)
    took = time.perf_counter() - start
    assert conforms
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--whole-up-to", type=int, default=10000,
                        help="Run whole-graph pySHACL only at sizes up to this many films.")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    validator = Validator.from_settings(Settings())
    rows = []
    with tempfile.TemporaryDirectory(prefix="filmld-bench-") as tmp:
        for films in args.films:
            store = EmbeddedStore(Path(tmp) / str(films), base=BASE)
            start = time.perf_counter()
            triples = load(store, films, args.seed)
            loaded = time.perf_counter() - start
            change = contribution(busiest_actors(store))
            ours = time_ours(validator, store, change, args.runs)
            whole = time_whole(validator, store, change) if films <= args.whole_up_to else None
            rows.append((films, triples, ours, whole))
            print(f"{films:>7} films {triples:>9} triples (loaded in {loaded:5.1f} s): "
                  f"neighbourhood {ours * 1000:7.1f} ms"
                  + (f", whole graph {whole:7.2f} s, ratio {whole / ours:7.0f}x"
                     if whole else ""), flush=True)
            store.close()
    print(f"\ncontribution: {len(change)} triples; median of {args.runs} runs")
    first, last = rows[0], rows[-1]
    print(f"flatness: {last[0]} films / {first[0]} films = {last[2] / first[2]:.2f}x "
          "(target at most 1.5x)")
    for films, _, ours, whole in rows:
        if whole:
            print(f"speed-up at {films} films: {whole / ours:.0f}x (target at least 100x at 10k)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
