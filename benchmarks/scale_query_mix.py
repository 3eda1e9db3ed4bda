"""The query mix (benchmarks/query_mix.py, issue 5) on both backends (issue 7): filmld's
/sparql on the embedded store and on a remote Oxigraph server, next to that same Oxigraph
server queried directly (the engine's ceiling) and, optionally, rdflib-endpoint.

    PYTHONPATH=src python benchmarks/scale_query_mix.py --films 1000 --repeat 20

The mix, the answer comparison and the timing loops are query_mix.py's (imported, not
copied); this script adds the remote backend. One Oxigraph server holds the same quads as
the embedded store; filmld-remote queries it through RemoteStore (dataset named in every
request), Oxigraph itself is asked with its union-default-graph option ("oxigraph") and
with the dataset filmld names ("ox-dataset": Oxigraph evaluates a dataset of several
graphs more slowly than its union, so rem/ox-ds is what filmld itself adds). Ratios are
from the same run (issue 5/7 target: at most 1.3 times Oxigraph server on both backends).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import requests
from common_scale import (
    OxigraphServer,
    clean_up,
    filmld_env,
    free_port,
    machine,
    oxigraph_cli,
    wait_until_up,
)
from query_mix import (
    JSON_RESULTS,
    RDFLIB_SERVER,
    SCHEMA,
    canonical,
    latencies,
    prepare,
    the_mix,
    throughput,
)


def start_filmld(store: str, port: int, base: str, log: Path,
                 query_timeout: float = 5.0) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "filmld", "serve", "--port", str(port), "--store", store,
             "--base-url", base],
            env=filmld_env(result_limit="100000", query_timeout=str(query_timeout),
                           store_timeout=str(query_timeout + 10)),
            stdout=out, stderr=subprocess.STDOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--query-timeout", type=float, default=5.0,
                        help="filmld's FILMLD_QUERY_TIMEOUT (the mix at 100k films needs "
                        "more than the default 5 s: co-stars takes about 30 s)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rdflib", action="store_true", help="Also rdflib-endpoint (slow "
                        "to load beyond a few thousand films).")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="filmld-mix-"))
    processes: list[subprocess.Popen] = []
    server = None
    try:
        print(f"machine: {machine()}")
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        print(f"preparing {args.films} films (seed {args.seed}) ...", flush=True)
        store_dir, quads = prepare(work, args.films, args.seed, port)
        subprocess.run([oxigraph_cli(), "load", "--location", str(work / "ox"), "--file",
                        str(quads)], check=True, capture_output=True)
        server = OxigraphServer(work / "ox")
        from filmld.store.remote import RemoteStore

        graphs = sorted({q.graph_name.value for q in ox.parse(path=str(quads),
                                                               format=ox.RdfFormat.N_QUADS)})
        RemoteStore(server.url, base=base).register_graphs(graphs)

        remote_port = free_port()
        processes.append(start_filmld(str(store_dir), port, base, work / "embedded.log",
                                      args.query_timeout))
        processes.append(start_filmld(server.url, remote_port, base, work / "remote.log",
                                      args.query_timeout))
        # "ox-dataset": the same server asked with the dataset filmld names in every request
        # (its registered graphs as default-graph-uri and named-graph-uri): what the remote
        # backend costs beyond the engine, separated from what that dataset form costs it.
        dataset = urlencode([("default-graph-uri", g) for g in graphs] +
                            [("named-graph-uri", g) for g in graphs])
        urls = {"embedded": f"{base}sparql", "remote": f"http://127.0.0.1:{remote_port}/sparql",
                "oxigraph": f"{server.url}?union-default-graph",
                "ox-dataset": f"{server.url}?{dataset}"}
        if args.rdflib:
            rdflib_port = free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "-c", RDFLIB_SERVER, str(quads), str(rdflib_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls["rdflib"] = f"http://127.0.0.1:{rdflib_port}/"
        for name, process in zip([n for n in urls if not n.startswith("ox")], processes,
                                 strict=True):
            wait_until_up(urls[name], process, 900)

        top = requests.get(urls["oxigraph"], headers={"Accept": JSON_RESULTS}, params={
            "query": SCHEMA + "SELECT ?actor (COUNT(?role) AS ?n) { ?role a "
            "schema:PerformanceRole ; schema:actor ?actor } GROUP BY ?actor "
            "ORDER BY DESC(?n) ?actor LIMIT 1"}, timeout=300).json()
        actor = top["results"]["bindings"][0]["actor"]["value"]
        film = requests.get(urls["oxigraph"], headers={"Accept": JSON_RESULTS}, params={
            "query": SCHEMA + "SELECT ?film { ?film a schema:Movie } ORDER BY ?film LIMIT 1 "
            "OFFSET 7"}, timeout=300).json()["results"]["bindings"][0]["film"]["value"]
        mix = the_mix(film, actor)
        triples = sum(1 for _ in quads.open("rb"))
        print(f"films: {args.films}; quads: {triples:,}; actor: {actor.removeprefix(base)}; "
              f"film: {film.removeprefix(base)}; {args.repeat} requests per query\n")

        servers = list(urls)
        sessions = {name: requests.Session() for name in servers}
        results: dict[str, dict[str, dict]] = {}
        for label, (query, accept) in mix.items():
            results[label] = {}
            for name in servers:
                repeat = max(2, args.repeat // 8) if name == "rdflib" else args.repeat
                latencies(sessions[name], urls[name], query, accept, 2)  # warm up
                times, body, content_type = latencies(sessions[name], urls[name], query,
                                                      accept, repeat)
                results[label][name] = {"median": statistics.median(times),
                                        "answer": canonical(body, accept, content_type)}
        header = f"{'query (median ms)':22}" + "".join(f"{n:>11}" for n in servers)
        header += f"{'emb/ox':>8}{'rem/ox':>8}{'rem/ox-ds':>10}  same answer as Oxigraph"
        print(header)
        ratios = {"embedded": [], "remote": []}
        ratios_dataset: list[float] = []
        mismatches = 0
        for label, by in results.items():
            ox_median = by["oxigraph"]["median"]
            line = f"{label:22}" + "".join(f"{by[n]['median'] * 1000:11.2f}" for n in servers)
            for name, values in ratios.items():
                values.append(by[name]["median"] / ox_median)
            line += f"{ratios['embedded'][-1]:8.2f}{ratios['remote'][-1]:8.2f}"
            by_dataset = by["remote"]["median"] / by["ox-dataset"]["median"]
            ratios_dataset.append(by_dataset)
            line += f"{by_dataset:10.2f}  "
            same = [f"{n} {'yes' if by[n]['answer'] == by['oxigraph']['answer'] else 'NO'}"
                    for n in servers if n != "oxigraph"]
            mismatches += sum(by[n]["answer"] != by["oxigraph"]["answer"]
                              for n in ("embedded", "remote"))
            print(line + ", ".join(same))
        for name, values in ratios.items():
            print(f"{name}: latency ratio to Oxigraph server: worst {max(values):.2f}, "
                  f"median {statistics.median(values):.2f} (target <= 1.3)")
        print(f"remote: latency ratio to Oxigraph server asked with filmld's dataset: worst "
              f"{max(ratios_dataset):.2f}, median {statistics.median(ratios_dataset):.2f}")
        print(f"\nthroughput, whole mix, {args.clients} clients for {args.seconds:g} s:")
        rates = {name: throughput(urls[name], mix, args.clients,
                                  min(args.seconds, 5.0) if name == "rdflib" else args.seconds)
                 for name in servers}
        for name, rate in rates.items():
            print(f"  {name:9} {rate:8.1f} requests/s  ({rate / rates['oxigraph']:.2f} x "
                  "oxigraph)")
        return 1 if mismatches else 0
    finally:
        clean_up(processes, server, work)


if __name__ == "__main__":
    sys.exit(main())
