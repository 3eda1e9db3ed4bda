"""Deterministic synthetic films in filmld's own model (data/mask-1985.ttl), as N-Triples.

    python benchmarks/generate_films.py --films 1000 --seed 1 --out films-1k.nt.gz

Same arguments, same bytes (gzip output too: its header carries no time stamp). Output is
streamed film by film, so memory stays flat whatever --films is; the only state that grows is
one byte per person of the pool (has this person been described yet?).

What one film looks like (IRIs under --base, default http://127.0.0.1:8000/):
- `id/film/<title>-<year>` a schema:Movie with rdfs:label "Title (year)"@en, schema:name,
  schema:description, 1-3 schema:genre literals, schema:datePublished (xsd:date),
  1-2 schema:director, schema:actor -> roles, schema:character -> characters, filmld:plotEvent.
- 8-15 `id/role/<film>-<character>` schema:PerformanceRole: schema:actor (a person),
  schema:characterName, filmld:character (a filmld:Character of its own, `id/character/...`).
- 2-4 plot events (schema:Event, filmld:plotPosition, filmld:involvesCharacter) and 1-3 plot
  summaries (filmld:PlotSummary, schema:text, schema:about the film, schema:isBasedOn one
  source document).
- People (`id/person/...`, schema:Person) are drawn from a pool with a Zipf-like law
  (P(k) ~ 1/k): a few actors appear in hundreds of films, most in one or two, so filmographies
  and co-star queries are meaningful. A person is described once, where first used.
Everything conforms to shapes/*.ttl (tests/test_generator.py checks a sample with pySHACL).
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import sys
from collections.abc import Iterator
from typing import IO

DEFAULT_BASE = "http://127.0.0.1:8000/"


def _words(text: str) -> list[str]:
    return text.split()


SCHEMA = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"

FIRST = _words("""ada alan alba alma amir ana anton aria arlo ava basil bea ben bianca boris bruno carl
cora dario dana dev dina eden edgar elena eli elsa emil enzo esme ezra fay felix flora frank
gia gil greta hana hugo ida ines ira ivan jade jana joel juno kai kara karl kiko lara leo lena
liam lila lior luca lulu mara marco mila milo mina nadia nate nell nico nina noor olga omar
otto paz petra pia quinn rafa remy rhea rita rosa ruth sami sara selma simon sofia tariq tess
theo uma vera vic wade wren yara yuri zane zara zoe""")
LAST = _words("""abbott adler alvarez amato andersen baker banerjee barros becker bell bianchi blake
bondarenko brandt brooks burke byrne calder campos carter chen cho clarke costa cruz dahl
dalton dias dubois duarte eklund ellis engel evans faber farrell fischer flores ford fox
garcia gill gomez grant gray haas hale hansen hart hayes herrera holm hughes ibrahim ito
jensen jones kane kato keller khan kim klein koch kowalski lang larsen lee lima lopez lund
maas mann marsh meyer moreau morris nagy nash nielsen novak obi ortiz park patel perez quinn
reyes rossi ruiz saito santos schmidt shaw silva singh stone suzuki tanaka torres vance vogel
walsh weber wolf wong young zhang""")
TITLE_A = _words("""silent broken golden last hidden distant burning frozen crimson quiet endless
lonely bitter wild hollow shining forgotten restless pale secret savage gentle electric
midnight paper iron glass velvet northern southern little""")
TITLE_B = _words("""harbour river summer winter garden city road house mirror storm country promise
station kingdom ocean valley season letter island border shadow bridge horizon machine
orchard lantern frontier carnival compass whisper""")
GENRES = _words("""drama comedy thriller horror romance western documentary animation crime adventure
musical war fantasy mystery""") + ["science fiction", "film noir"]
VERBS = _words("""confronts escapes loves betrays rescues pursues forgives deceives follows defends
abandons outwits""")
PLACES = ["a small fishing town", "a crowded city", "a remote farm", "a border town",
          "an island village", "a mountain pass", "a river port", "a desert motel",
          "a boarding school", "a grand hotel"]
EVENT_KINDS = ["opening", "meeting", "conflict", "turning point", "escape", "reunion",
               "confession", "finale"]
SUMMARY_SOURCE = "id/source/synthetic-summaries"


def escape(text: str) -> str:
    """An N-Triples string literal body (RDF 1.1 N-Triples, section 2.4: ECHAR)."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))


def slug(text: str) -> str:
    return "-".join("".join(c for c in word if c.isalnum()) for word in text.lower().split())


class Generator:
    """One deterministic stream of films: `films` films from random seed `seed`."""

    def __init__(self, films: int, seed: int, base: str = DEFAULT_BASE) -> None:
        self.films = films
        self.rng = random.Random(seed)
        self.base = base if base.endswith("/") else base + "/"
        self.filmld = self.base + "ontology/"
        # Enough people that most appear in few films and a head appears in very many.
        self.pool = max(60, films * 4)
        self.described = bytearray(self.pool)

    # -- terms ------------------------------------------------------------------------
    def iri(self, path: str) -> str:
        return f"<{self.base}{path}>"

    @staticmethod
    def en(text: str) -> str:
        return f'"{escape(text)}"@en'

    @staticmethod
    def typed(value: str, datatype: str) -> str:
        return f'"{escape(value)}"^^<{XSD}{datatype}>'

    # -- people -----------------------------------------------------------------------
    def person_name(self, k: int) -> str:
        """A unique human name for person number k (middle initials past the plain names)."""
        first = FIRST[k % len(FIRST)]
        rest, last = divmod(k // len(FIRST), len(LAST))
        middle = ""
        while rest:  # bijective base 26: A..Z, AA..ZZ, ...
            rest, letter = divmod(rest - 1, 26)
            middle = chr(ord("A") + letter) + middle
        middle = f" {middle}." if middle else ""
        return f"{first.title()}{middle} {LAST[last].title()}"

    def person_path(self, k: int) -> str:
        return "id/person/" + slug(self.person_name(k).replace(".", ""))

    def zipf_person(self) -> int:
        """Person index k in [0, pool) with P(k) ~ 1/(k+1): log-uniform over the pool."""
        return min(self.pool - 1, int(self.pool ** self.rng.random()) - 1)

    def describe_person(self, k: int, out: list[str]) -> None:
        if self.described[k]:
            return
        self.described[k] = 1
        name = self.person_name(k)
        s = self.iri(self.person_path(k))
        out.append(f"{s} <{RDF_TYPE}> <{SCHEMA}Person> .")
        out.append(f"{s} <{RDFS_LABEL}> {self.en(name)} .")
        out.append(f"{s} <{SCHEMA}name> {self.en(name)} .")

    # -- films ------------------------------------------------------------------------
    def title(self, i: int) -> str:
        """A unique title for film number i (a spread of word pairs, then 'Part N')."""
        pairs = len(TITLE_A) * len(TITLE_B)
        mixed = (i * 7919) % pairs
        a, b = divmod(mixed, len(TITLE_B))
        part = i // pairs
        return f"The {TITLE_A[a].title()} {TITLE_B[b].title()}" + (
            f" Part {part + 1}" if part else "")

    def header(self) -> list[str]:
        s = self.iri(SUMMARY_SOURCE)
        label = "Synthetic plot summaries (generated by benchmarks/generate_films.py)"
        return [f"{s} <{RDF_TYPE}> <{SCHEMA}DigitalDocument> .",
                f"{s} <{RDFS_LABEL}> {self.en(label)} .",
                f"{s} <{SCHEMA}name> {self.en('synthetic-summaries.txt')} .",
                f'{s} <{SCHEMA}encodingFormat> "text/plain" .']

    def film(self, i: int) -> list[str]:
        rng = self.rng
        out: list[str] = []
        title = self.title(i)
        year = rng.randint(1920, 2025)
        film_slug = f"{slug(title)}-{year}"
        f = self.iri(f"id/film/{film_slug}")
        P = SCHEMA
        genres = rng.sample(GENRES, rng.randint(1, 3))
        out += [f"{f} <{RDF_TYPE}> <{P}Movie> .",
                f"{f} <{RDFS_LABEL}> {self.en(f'{title} ({year})')} .",
                f"{f} <{P}name> {self.en(title)} .",
                (f"{f} <{P}datePublished> "
                 f"{self.typed(f'{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}', 'date')} .")]
        out += [f"{f} <{P}genre> {self.en(g)} ." for g in genres]

        directors = {self.zipf_person() for _ in range(1 if rng.random() < 0.9 else 2)}
        for d in sorted(directors):
            self.describe_person(d, out)
            out.append(f"{f} <{P}director> {self.iri(self.person_path(d))} .")

        cast: list[int] = []
        seen: set[int] = set()
        for _ in range(rng.randint(8, 15)):
            k = self.zipf_person()
            while k in seen:
                k = self.zipf_person()
            seen.add(k)
            cast.append(k)
        names: list[str] = []
        used: set[str] = set()
        for _ in cast:
            name = f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"
            while name in used:
                name = f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"
            used.add(name)
            names.append(name)

        characters = []
        for k, character in zip(cast, names, strict=True):
            actor = self.person_name(k)
            c = self.iri(f"id/character/{film_slug}-{slug(character)}")
            r = self.iri(f"id/role/{film_slug}-{slug(character)}")
            characters.append(c)
            self.describe_person(k, out)
            out += [f"{f} <{P}actor> {r} .",
                    f"{f} <{P}character> {c} .",
                    f"{r} <{RDF_TYPE}> <{P}PerformanceRole> .",
                    f"{r} <{RDFS_LABEL}> {self.en(f'{actor} as {character} in {title} ({year})')} .",
                    f"{r} <{P}name> {self.en(f'{actor} as {character}')} .",
                    f"{r} <{P}actor> {self.iri(self.person_path(k))} .",
                    f"{r} <{P}characterName> {self.en(character)} .",
                    f"{r} <{self.filmld}character> {c} .",
                    f"{c} <{RDF_TYPE}> <{self.filmld}Character> .",
                    f"{c} <{RDFS_LABEL}> {self.en(f'{character} (character in {title})')} .",
                    f"{c} <{P}name> {self.en(character)} .",
                    f"{c} <{P}description> {self.en(f'A character in {title}, played by {actor}.')} ."]

        place = rng.choice(PLACES)
        lead, other = names[0], names[1]
        description = (f"A {genres[0]} set in {place}, in which {lead} {rng.choice(VERBS)} "
                       f"{other}.")
        out.append(f"{f} <{P}description> {self.en(description)} .")

        kinds = sorted(rng.sample(range(len(EVENT_KINDS)), rng.randint(2, 4)))
        for position, kind in enumerate(kinds, start=1):
            e = self.iri(f"id/event/{film_slug}-{slug(EVENT_KINDS[kind])}")
            who = rng.sample(range(len(characters)), 2)
            text = (f"{names[who[0]]} {rng.choice(VERBS)} {names[who[1]]} "
                    f"({EVENT_KINDS[kind]}).")
            out += [f"{f} <{self.filmld}plotEvent> {e} .",
                    f"{e} <{RDF_TYPE}> <{P}Event> .",
                    (f"{e} <{RDFS_LABEL}> "
                     f"{self.en(f'{title} ({year}), plot {position}: {EVENT_KINDS[kind]}')} ."),
                    f"{e} <{P}name> {self.en(EVENT_KINDS[kind].capitalize())} .",
                    f"{e} <{P}description> {self.en(text)} .",
                    f'{e} <{self.filmld}plotPosition> "{position}"^^<{XSD}integer> .']
            out += [f"{e} <{self.filmld}involvesCharacter> {characters[w]} ." for w in who]

        for n in range(1, rng.randint(1, 3) + 1):
            s = self.iri(f"id/summary/{film_slug}-{n}")
            star = self.person_name(cast[rng.randrange(len(cast))])
            text = (f"In {place}, {lead} {rng.choice(VERBS)} {other} while {names[-1]} "
                    f"watches; {star} stars in this {genres[-1]} from {year}.")
            out += [f"{s} <{RDF_TYPE}> <{self.filmld}PlotSummary> .",
                    f"{s} <{RDFS_LABEL}> {self.en(f'Summary {n} of {title} ({year})')} .",
                    f"{s} <{P}name> {self.en(f'Plot summary {n} of {title}')} .",
                    f'{s} <{P}position> "{n}"^^<{XSD}integer> .',
                    f"{s} <{P}about> {f} .",
                    f"{s} <{P}isBasedOn> {self.iri(SUMMARY_SOURCE)} .",
                    f'{s} <{P}inLanguage> "en" .',
                    f"{s} <{P}text> {self.en(text)} ."]
        return out

    def chunks(self) -> Iterator[str]:
        """The N-Triples document, one chunk (a few kB) per film."""
        yield "\n".join(self.header()) + "\n"
        for i in range(self.films):
            yield "\n".join(self.film(i)) + "\n"


def generate(films: int, seed: int, base: str = DEFAULT_BASE) -> Iterator[str]:
    """The N-Triples text of `films` synthetic films, in chunks; deterministic in (films, seed)."""
    return Generator(films, seed, base).chunks()


def write(films: int, seed: int, out: IO[bytes], base: str = DEFAULT_BASE) -> int:
    """Write the document to a binary stream; returns the number of triples written."""
    count = 0
    buffer: list[str] = []
    size = 0
    for chunk in generate(films, seed, base):
        count += chunk.count("\n")
        buffer.append(chunk)
        size += len(chunk)
        if size > 1 << 20:
            out.write("".join(buffer).encode())
            buffer, size = [], 0
    out.write("".join(buffer).encode())
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--films", type=int, required=True, help="How many films.")
    parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
    parser.add_argument("--out", help="Output file (.nt, or .nt.gz to compress); default stdout.")
    parser.add_argument("--base", default=DEFAULT_BASE, help="Base IRI of every minted IRI.")
    args = parser.parse_args(argv)
    if args.films < 0:
        parser.error("--films must be 0 or more")
    if args.out is None:
        count = write(args.films, args.seed, sys.stdout.buffer, args.base)
    elif args.out.endswith(".gz"):
        with open(args.out, "wb") as raw, gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5) as out:
            count = write(args.films, args.seed, out, args.base)
    else:
        with open(args.out, "wb") as raw, io.BufferedWriter(raw, 1 << 20) as out:
            count = write(args.films, args.seed, out, args.base)
    print(f"{args.films} films, {count} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
