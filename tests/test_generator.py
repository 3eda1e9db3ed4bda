"""benchmarks/generate_films.py: deterministic, in our model, conforming to the shapes."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.generate_films import generate
from filmld.config import Settings
from filmld.loading import read_ontology, read_shapes
from filmld.terms import to_rdflib_graph
from filmld.validation import validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "https://schema.org/"
BASE = "http://127.0.0.1:8000/"


def triples(films: int, seed: int = 1, base: str = BASE) -> list[ox.Triple]:
    text = "".join(generate(films, seed, base)).encode()
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]


def test_same_seed_same_bytes_and_other_seed_other_bytes():
    assert "".join(generate(30, 7)) == "".join(generate(30, 7))
    assert "".join(generate(30, 7)) != "".join(generate(30, 8))


def test_a_sample_of_twenty_films_conforms_to_the_shapes():
    settings = Settings()
    shapes = read_shapes(BASE, settings)
    assert len(shapes) > 50, "shapes/ is empty: nothing would be checked"
    report = validate(to_rdflib_graph(triples(20)), shapes, read_ontology(BASE, settings))
    assert report.conforms, report.text()
    # Synthetic films have no DBpedia counterpart: the recommended schema:sameAs is left out.
    others = [w for w in report.warnings if not w.source_shape.endswith("/Movie-sameAs")]
    assert not others, report.text()[:3000]


def test_every_film_has_8_to_15_roles_each_with_actor_character_and_name():
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples(200))
    rows = list(store.query(f"""
        PREFIX schema: <{SCHEMA}>
        SELECT ?film (COUNT(?role) AS ?roles) (COUNT(?actor) AS ?actors)
               (COUNT(?name) AS ?names) (COUNT(?character) AS ?characters) WHERE {{
          ?film a schema:Movie ; schema:actor ?role .
          ?role schema:actor ?actor ; schema:characterName ?name ;
                <{BASE}ontology/character> ?character .
        }} GROUP BY ?film"""))
    assert len(rows) == 200
    for row in rows:
        roles = int(row["roles"].value)
        assert 8 <= roles <= 15
        assert int(row["actors"].value) == int(row["names"].value) == roles
        assert int(row["characters"].value) == roles


def test_people_are_reused_across_films_like_zipf():
    films_per_actor = Counter(t.object.value for t in triples(1000)
                              if t.predicate.value == SCHEMA + "actor"
                              and "/id/person/" in t.object.value)
    counts = sorted(films_per_actor.values(), reverse=True)
    assert counts[0] >= 100, "the most frequent actor should be in very many films"
    assert sum(1 for c in counts if c == 1) > len(counts) / 3, "a long tail of one-film actors"
    assert sum(1 for c in counts if c >= 5) >= 50, "enough actors with real filmographies"


def test_iris_follow_the_base():
    base = "https://films.example.org/"
    subjects = {t.subject.value for t in triples(5, base=base)}
    assert subjects and all(s.startswith(base) for s in subjects)


def test_command_line_writes_gzip_deterministically(tmp_path: Path):
    script = ROOT / "benchmarks" / "generate_films.py"
    outs = []
    for name in ("a.nt.gz", "b.nt.gz"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(script), "--films", "15", "--seed", "3",
                        "--out", str(out)], check=True, capture_output=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert gzip.decompress(outs[0]).decode() == "".join(generate(15, 3))


@pytest.mark.parametrize("films", [0, 1])
def test_tiny_sizes_parse(films: int):
    assert len(triples(films)) >= 4
