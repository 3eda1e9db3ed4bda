"""Serving worker memory over many films (issue 7 target: under 1 GB resident per worker).

    PYTHONPATH=src python benchmarks/scale_workers.py --films 100000 --pages 3000

Loads `--films` synthetic films with `filmld load` into an embedded store and into an
Oxigraph server, serves each (`filmld serve`, one worker on the embedded store, `--workers 2`
on the remote one), requests `--pages` different film pages and as many of their actors'
pages (Turtle and HTML), then prints each worker's resident memory (VmRSS) and peak (VmHWM)
from /proc, and the Oxigraph server's. Loopback only.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common_scale import (
    OxigraphServer,
    children,
    clean_up,
    filmld_env,
    free_port,
    generate,
    machine,
    measure,
    peak_rss_mb,
    rss_mb,
)


def serve(store: str, base: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "filmld", "serve", "--port", str(port), "--store", store,
             "--base-url", base, "--workers", str(workers)],
            env=filmld_env(), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            requests.head(f"http://127.0.0.1:{port}/id/film/mask-1985.ttl", timeout=30)
            return process
        except requests.RequestException:
            time.sleep(0.5)
    raise RuntimeError("filmld did not start")


def pages(path: Path, count: int) -> list[str]:
    """Paths of `count` films and of an actor of each, in file order."""
    films, people = [], []
    with gzip.open(path, "rt") as lines:
        for line in lines:
            parts = line.split(" ", 2)
            if parts[1] == "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>":
                if parts[2].startswith("<https://schema.org/Movie>"):
                    films.append(parts[0].strip("<>").split("/", 3)[3])
                elif parts[2].startswith("<https://schema.org/Person>"):
                    people.append(parts[0].strip("<>").split("/", 3)[3])
            if len(films) >= count and len(people) >= count:
                break
    return films[:count] + people[:count]


def worker_memory(process: subprocess.Popen) -> list[tuple[int, float, float]]:
    """(pid, RSS MB, peak RSS MB) of each granian worker process."""
    pids = children(process.pid) or [process.pid]
    return [(pid, rss_mb(pid), peak_rss_mb(pid)) for pid in pids]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=10000)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="Stop requesting pages after this long on each backend.")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="filmld-workers-"))
    processes: list[subprocess.Popen] = []
    server = None
    try:
        print(f"machine: {machine()}")
        port_embedded, port_remote = free_port(), free_port()
        base = f"http://127.0.0.1:{port_embedded}/"
        data, triples = generate(work, args.films, base=base)
        print(f"{args.films} films, {triples:,} triples", flush=True)
        load = [sys.executable, "-m", "filmld", "load", str(data), "-q", "--base-url", base]
        embedded = measure([*load, "--store", str(work / "store")], env=filmld_env())
        print(f"filmld load (embedded): {embedded.seconds:.0f} s, peak {embedded.peak_rss_mb:.0f}"
              " MB", flush=True)
        server = OxigraphServer(work / "oxigraph")
        remote = measure([*load, "--store", server.url], env=filmld_env())
        print(f"filmld load (remote): {remote.seconds:.0f} s, peak {remote.peak_rss_mb:.0f} MB",
              flush=True)
        targets = {"embedded": serve(str(work / "store"), base, port_embedded, 1,
                                     work / "embedded.log"),
                   "remote": serve(server.url, base, port_remote, 2, work / "remote.log")}
        processes.extend(targets.values())
        urls = {"embedded": base, "remote": f"http://127.0.0.1:{port_remote}/"}
        paths = pages(data, args.pages)
        print(f"requesting up to {len(paths)} different pages x (ttl, html) on each backend, "
              f"for at most {args.seconds:g} s each\n", flush=True)
        for name, url in urls.items():
            before = worker_memory(targets[name])
            session = requests.Session()
            started = time.monotonic()
            done = 0
            errors: list[str] = []
            for path in paths:
                if time.monotonic() - started > args.seconds:
                    break
                for suffix in ("ttl", "html"):
                    response = session.get(f"{url}{path}.{suffix}", timeout=600)
                    if response.status_code != 200:
                        errors.append(f"{path}.{suffix}: {response.status_code} "
                                      f"{response.text[:200]}")
                    done += 1
            seconds = time.monotonic() - started
            after = worker_memory(targets[name])
            print(f"{name}: {done} distinct pages in {seconds:.0f} s "
                  f"({done / seconds:.1f} requests/s, one client, every one a cache miss)")
            for error in errors[:5]:
                print(f"  not 200: {error}")
            for (pid, rss0, _), (_, rss1, peak) in zip(before, after, strict=True):
                print(f"  worker {pid}: RSS {rss0:.0f} MB at start, {rss1:.0f} MB after, "
                      f"peak {peak:.0f} MB (target < 1024)")
        print(f"oxigraph server: RSS {rss_mb(server.process.pid):.0f} MB, peak "
              f"{peak_rss_mb(server.process.pid):.0f} MB")
        return 0
    finally:
        clean_up(processes, server, work)


if __name__ == "__main__":
    sys.exit(main())
