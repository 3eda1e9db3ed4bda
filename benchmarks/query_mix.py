"""The SPARQL query mix (issue 5): filmld's /sparql against Oxigraph server and rdflib-endpoint.

    PYTHONPATH=src python benchmarks/query_mix.py --films 1000 --seed 1 --repeat 40

One run: synthetic films (benchmarks/generate_films.py) plus the curated data, loaded into
the same quads for three servers on 127.0.0.1: `filmld serve` (every safety feature on: the
policy, the worker pool with its time and memory limits, no network in workers, the result
cap, streaming), `oxigraph serve --union-default-graph` (the engine's own HTTP server), and
rdflib-endpoint on an rdflib Dataset with a union default graph. Each query of the fixed mix
is sent `--repeat` times to each server, one at a time (latency: median and p90), then the
whole mix by `--clients` concurrent clients for `--seconds` (throughput). Answers are
compared with Oxigraph's (rows as multisets; graphs as sets of triples without blank nodes).
Ratios are from the same run, on the same machine, so they compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "PREFIX schema: <https://schema.org/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
JSON_RESULTS = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            requests.get(url, params={"query": "ASK {}"}, timeout=2,
                         headers={"Accept": JSON_RESULTS})
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


# -- the mix -------------------------------------------------------------------------------------
def the_mix(film: str, actor: str) -> dict[str, tuple[str, str]]:
    """name -> (query, Accept): the fixed mix of issue 5."""
    return {
        "describe film": (f"DESCRIBE <{film}>", "application/n-triples"),
        "filmography by year": (SCHEMA + f"""SELECT ?film ?title ?date WHERE {{
  ?film schema:actor ?role . ?role schema:actor <{actor}> .
  ?film schema:name ?title ; schema:datePublished ?date .
}} ORDER BY ?date ?film""", JSON_RESULTS),
        "co-stars": (SCHEMA + f"""SELECT ?costar (COUNT(DISTINCT ?film) AS ?films) WHERE {{
  ?film schema:actor ?r1 . ?r1 schema:actor <{actor}> .
  ?film schema:actor ?r2 . ?r2 schema:actor ?costar .
  FILTER(?costar != <{actor}>)
}} GROUP BY ?costar ORDER BY DESC(?films) ?costar LIMIT 20""", JSON_RESULTS),
        "counts per genre": (SCHEMA + """SELECT ?genre (COUNT(?film) AS ?films) WHERE {
  ?film a schema:Movie ; schema:genre ?genre .
} GROUP BY ?genre ORDER BY DESC(?films) ?genre""", JSON_RESULTS),
        "text filter": (SCHEMA + """SELECT ?film ?title WHERE {
  ?film a schema:Movie ; schema:name ?title .
  FILTER(CONTAINS(LCASE(STR(?title)), "silent"))
} ORDER BY ?film LIMIT 50""", JSON_RESULTS),
        "label lookup": (SCHEMA + f"""SELECT ?label WHERE {{ <{actor}> rdfs:label ?label }}""",
                         JSON_RESULTS),
    }


def canonical(body: bytes, accept: str, content_type: str = ""):
    """A comparable form of an answer: a multiset of rows, or the triples without bnodes."""
    if accept == JSON_RESULTS:
        data = json.loads(body)
        if "boolean" in data:
            return data["boolean"]
        rows = []
        for binding in data["results"]["bindings"]:
            row = []
            for name in sorted(binding):
                term = binding[name]
                datatype = term.get("datatype")
                if datatype == "http://www.w3.org/2001/XMLSchema#string":
                    datatype = None
                row.append((name, term["type"].replace("typed-literal", "literal"),
                            term["value"], term.get("xml:lang"), datatype))
            rows.append(tuple(row))
        return Counter(rows)
    triples = set()
    media_type = content_type.split(";")[0].strip() or "application/n-triples"
    fmt = ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES
    if b"<rdf:RDF" in body[:2000]:  # rdflib-endpoint labels RDF/XML as SPARQL results XML
        fmt = ox.RdfFormat.RDF_XML
    for quad in ox.parse(body, format=fmt):
        triple = quad.triple if isinstance(quad, ox.Quad) else quad
        if not any(isinstance(t, ox.BlankNode) for t in (triple.subject, triple.object)):
            triples.add(str(triple))
    return triples


# -- servers ----------------------------------------------------------------------------------
def start_filmld(store: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FILMLD_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["FILMLD_RESULT_LIMIT"] = "100000"
    return subprocess.Popen([sys.executable, "-m", "filmld", "serve", "--port", str(port),
                             "--store", str(store)], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)


RDFLIB_SERVER = """
import sys, uvicorn, rdflib
from rdflib_endpoint import SparqlEndpoint
dataset = rdflib.Dataset(default_union=True)
dataset.parse(sys.argv[1], format="nquads")
app = SparqlEndpoint(graph=dataset, cors_enabled=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def prepare(work: Path, films: int, seed: int, port: int) -> tuple[Path, Path]:
    """A filmld store (curated + synthetic) and the same quads as N-Quads."""
    base = f"http://127.0.0.1:{port}/"
    synthetic = work / "films.nt"
    subprocess.run([sys.executable, str(ROOT / "benchmarks/generate_films.py"), "--films",
                    str(films), "--seed", str(seed), "--out", str(synthetic), "--base", base],
                   check=True)
    sys.path.insert(0, str(ROOT / "src"))
    from filmld.config import Settings
    from filmld.dataset import open_dataset

    store_dir = work / "filmld-store"
    open_dataset(Settings(store=str(store_dir), base_url=base)).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FILMLD_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    subprocess.run([sys.executable, "-m", "filmld", "load", str(synthetic), "--store",
                    str(store_dir), "--base-url", base, "--graph", base + "graph/synthetic",
                    "-q"], check=True, env=env)  # filmld's own bulk load, as an operator would
    from filmld.store.embedded import EmbeddedStore

    store = EmbeddedStore(store_dir, base=base)
    quads = work / "all.nq"
    with quads.open("wb") as out:
        for graph in store.graph_names():
            out.write(ox.serialize(store.store.quads_for_pattern(None, None, None,
                                                                   ox.NamedNode(graph)),
                                   format=ox.RdfFormat.N_QUADS))
    store.close()
    return store_dir, quads


# -- measuring -----------------------------------------------------------------------------------
_SERIAL = [0]


def latencies(session: requests.Session, url: str, query: str, accept: str, repeat: int,
              cold: bool = False) -> tuple[list[float], bytes, str]:
    """`cold`: a unique comment per request, so no cache can answer (filmld's render cache
    keeps deterministic GET answers until the data changes; Oxigraph has no cache)."""
    times, body, content_type = [], b"", ""
    for _ in range(repeat):
        _SERIAL[0] += 1
        text = f"{query}\n# request {_SERIAL[0]}" if cold else query
        started = time.perf_counter()
        response = session.get(url, params={"query": text}, headers={"Accept": accept},
                               timeout=120)
        body, content_type = response.content, response.headers.get("Content-Type", "")
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return times, body, content_type


def throughput(url: str, mix: dict, clients: int, seconds: float, cold: bool = False) -> float:
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        queries = list(mix.values())
        index = 0
        while time.monotonic() < stop:
            query, accept = queries[index % len(queries)]
            if cold:
                with lock:
                    _SERIAL[0] += 1
                    query = f"{query}\n# request {_SERIAL[0]}"
            session.get(url, params={"query": query}, headers={"Accept": accept}, timeout=120)
            index += 1
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=40, help="Requests per query and server.")
    parser.add_argument("--rdflib-repeat", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-rdflib", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="filmld-bench-"))
    processes: list[subprocess.Popen] = []
    try:
        ports = {"filmld": free_port(), "oxigraph": free_port(), "rdflib": free_port()}
        print(f"preparing {args.films} films (seed {args.seed}) in {work} ...", flush=True)
        store_dir, quads = prepare(work, args.films, args.seed, ports["filmld"])
        ox_dir = work / "oxigraph"
        subprocess.run([shutil.which("oxigraph") or str(Path(sys.executable).with_name(
            "oxigraph")), "load", "--location", str(ox_dir), "--file", str(quads)], check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        urls = {"filmld": f"http://127.0.0.1:{ports['filmld']}/sparql",
                "oxigraph": f"http://127.0.0.1:{ports['oxigraph']}/query",
                "rdflib": f"http://127.0.0.1:{ports['rdflib']}/"}
        processes.append(start_filmld(store_dir, ports["filmld"], work / "filmld.log"))
        oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        processes.append(subprocess.Popen(
            [oxigraph, "serve", "--location", str(ox_dir), "--bind",
             f"127.0.0.1:{ports['oxigraph']}", "--union-default-graph"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers = ["filmld", "oxigraph"]
        if not args.no_rdflib:
            processes.append(subprocess.Popen(
                [sys.executable, "-c", RDFLIB_SERVER, str(quads), str(ports["rdflib"])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            servers.append("rdflib")
        for name, process in zip(servers, processes):
            wait_for(urls[name], process, 600)

        base = f"http://127.0.0.1:{ports['filmld']}/"
        top = requests.get(urls["oxigraph"], headers={"Accept": JSON_RESULTS}, params={
            "query": SCHEMA + "SELECT ?actor (COUNT(?role) AS ?n) { ?role a schema:PerformanceRole ; "
            "schema:actor ?actor } GROUP BY ?actor ORDER BY DESC(?n) ?actor LIMIT 1"}).json()
        actor = top["results"]["bindings"][0]["actor"]["value"]
        film_row = requests.get(urls["oxigraph"], headers={"Accept": JSON_RESULTS}, params={
            "query": SCHEMA + "SELECT ?film { ?film a schema:Movie } ORDER BY ?film LIMIT 1 "
            "OFFSET 7"}).json()
        film = film_row["results"]["bindings"][0]["film"]["value"]
        mix = the_mix(film, actor)
        print(f"films: {args.films}; triples: {sum(1 for _ in quads.open('rb'))}; "
              f"actor: {actor.removeprefix(base)}; film: {film.removeprefix(base)}\n")

        sessions = {name: requests.Session() for name in servers}
        results: dict[str, dict[str, dict]] = {}
        for label, (query, accept) in mix.items():
            results[label] = {}
            samples: dict[str, list[float]] = {name: [] for name in servers}
            samples["filmld cold"], samples["oxigraph cold"] = [], []
            answers: dict[str, tuple[bytes, str]] = {}
            for name in servers:  # warm up
                latencies(sessions[name], urls[name], query, accept, 3 if name != "rdflib"
                          else 1)
            fast = [n for n in servers if n != "rdflib"]
            for _ in range(args.repeat):  # interleaved, so drift in load hits both alike
                for name in fast:
                    times, body, content_type = latencies(sessions[name], urls[name], query,
                                                          accept, 1)
                    samples[name] += times
                    answers[name] = (body, content_type)
                    times, body, content_type = latencies(sessions[name], urls[name], query,
                                                          accept, 1, cold=True)
                    samples[name + " cold"] += times
                    answers[name + " cold"] = (body, content_type)
            if "rdflib" in servers:
                times, body, content_type = latencies(sessions["rdflib"], urls["rdflib"],
                                                      query, accept, args.rdflib_repeat)
                samples["rdflib"], answers["rdflib"] = times, (body, content_type)
            for name in [*servers, "filmld cold", "oxigraph cold"]:
                times = sorted(samples[name])
                results[label][name] = {
                    "median": statistics.median(times),
                    "p90": times[int(len(times) * 0.9) - 1] if len(times) >= 10 else times[-1],
                    "answer": canonical(answers[name][0], accept, answers[name][1])}
        print("median latency in ms; 'cold' requests carry a unique comment so no cache helps;"
              " 'warm' repeat the same request (filmld's render cache answers those)")
        print(f"{'query':20} {'filmld':>8} {'oxigraph':>9} {'ratio':>6} {'filmld':>8} "
              f"{'oxigraph':>9} {'ratio':>6} {'rdflib':>8} {'rdflib/':>8}  same answer")
        print(f"{'':20} {'cold':>8} {'cold':>9} {'cold':>6} {'warm':>8} {'warm':>9} "
              f"{'warm':>6} {'':>8} {'filmld':>8}  as Oxigraph")
        cold_ratios, warm_ratios = [], []
        for label, by_server in results.items():
            fc, oc = by_server["filmld cold"], by_server["oxigraph cold"]
            f, o = by_server["filmld"], by_server["oxigraph"]
            r = by_server.get("rdflib")
            cold_ratios.append(fc["median"] / oc["median"])
            warm_ratios.append(f["median"] / o["median"])
            same = "filmld " + ("yes" if f["answer"] == o["answer"] == fc["answer"] else "NO")
            if r is not None:
                same += ", rdflib " + ("yes" if r["answer"] == o["answer"] else "no")
            print(f"{label:20} {fc['median'] * 1000:8.2f} {oc['median'] * 1000:9.2f} "
                  f"{cold_ratios[-1]:6.2f} {f['median'] * 1000:8.2f} {o['median'] * 1000:9.2f} "
                  f"{warm_ratios[-1]:6.2f} "
                  f"{(r['median'] * 1000 if r else float('nan')):8.2f} "
                  f"{(r['median'] / fc['median'] if r else float('nan')):8.1f}  {same}")
        print(f"\nfilmld/oxigraph median latency, cold: worst {max(cold_ratios):.2f}, median "
              f"{statistics.median(cold_ratios):.2f}; warm: worst {max(warm_ratios):.2f}, "
              f"median {statistics.median(warm_ratios):.2f} (target <= 1.3)")
        print(f"\nthroughput, whole mix, {args.clients} clients for {args.seconds:g} s "
              "(requests/s):")
        rates = {}
        for mode in ("cold", "warm"):
            for name in ("filmld", "oxigraph"):
                rates[f"{name} {mode}"] = throughput(urls[name], mix, args.clients,
                                                     args.seconds, cold=mode == "cold")
        if "rdflib" in servers:
            rates["rdflib"] = throughput(urls["rdflib"], mix, args.clients,
                                         min(args.seconds, 5.0))
        for name, rate in rates.items():
            reference = rates["oxigraph cold" if "cold" in name or name == "rdflib"
                              else "oxigraph warm"]
            print(f"  {name:14} {rate:8.1f}  ({rate / reference:.2f} x oxigraph)")
        mismatches = [label for label, by in results.items()
                      if not by["filmld"]["answer"] == by["oxigraph"]["answer"]
                      == by["filmld cold"]["answer"]]
        return 1 if mismatches else 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
