"""Entity requests per second at scale (issue 7), on both backends, against static files.

    PYTHONPATH=src python benchmarks/scale_entities.py --films 1000 --duration 5

Synthetic films are loaded with `filmld load` into an embedded store and into an Oxigraph
server; one `filmld serve` (one worker, as `filmld serve` runs) serves each. wrk
measures Turtle, JSON-LD, HTML and 304 revalidations of one film, then Turtle of many
different films (a Lua script walks through `--pages` film IRIs, so most requests miss the
render cache at first). The ceiling is nginx serving the same bytes as static files; wrk,
nginx_config and the tools come from benchmarks/entities.py (issue 4). Loopback only.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from common_scale import OxigraphServer, clean_up, filmld_env, free_port, generate, machine
from entities import KINDS, ensure_tools, nginx_config, start, wait_for, wrk


def serve(store: str, base: str, port: int, log: Path) -> subprocess.Popen:
    process = start([sys.executable, "-m", "filmld", "serve", "--port", str(port), "--store",
                     store, "--base-url", base], log, filmld_env())
    _wait(port, process, log)
    return process


def _wait(port: int, process: subprocess.Popen, log: Path) -> None:
    import time

    deadline = time.monotonic() + 600  # a remote store's first start writes the curated data
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            requests.head(f"http://127.0.0.1:{port}/id/film/mask-1985.ttl", timeout=30)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"filmld on {port} did not start")


def film_paths(path: Path, count: int) -> list[str]:
    """The first `count` film IRIs' paths in the generated file."""
    found = []
    with gzip.open(path, "rt") as lines:
        for line in lines:
            if "<https://schema.org/Movie>" in line and "#type>" in line:
                found.append(line.split()[0].strip("<>").split("/", 3)[3])
                if len(found) == count:
                    break
    return found


def walker(tmp: Path, paths: list[str]) -> Path:
    """A wrk Lua script that requests the paths in turn."""
    script = tmp / "walk.lua"
    items = ",".join(f'"/{p}.ttl"' for p in paths)
    script.write_text(f"local paths = {{{items}}}\nlocal i = 0\n"
                      "request = function()\n  i = i % #paths + 1\n"
                      "  return wrk.format('GET', paths[i])\nend\n")
    return script


def wrk_script(url: str, script: Path, connections: int, seconds: int) -> float:
    import re

    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s",
                          str(script), url], capture_output=True, text=True,
                         timeout=seconds + 60, check=False)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if not match or "Non-2xx" in out.stdout:
        raise RuntimeError(f"wrk failed on {url}: {out.stdout}{out.stderr}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args(argv)
    ensure_tools()
    tmp = Path(tempfile.mkdtemp(prefix="filmld-entities-"))
    os.chmod(tmp, 0o755)
    processes: list[subprocess.Popen] = []
    server = None
    try:
        print(f"machine: {machine()}")
        port_embedded, port_remote = free_port(), free_port()
        base = f"http://127.0.0.1:{port_embedded}/"
        data, triples = generate(tmp, args.films, base=base)
        print(f"{args.films} films, {triples:,} triples; one filmld worker per backend; "
              f"wrk {args.connections} connections, {args.duration} s each", flush=True)
        load = [sys.executable, "-m", "filmld", "load", str(data), "-q", "--base-url", base]
        subprocess.run([*load, "--store", str(tmp / "store")], check=True, env=filmld_env())
        server = OxigraphServer(tmp / "oxigraph")
        subprocess.run([*load, "--store", server.url], check=True, env=filmld_env())
        processes.append(serve(str(tmp / "store"), base, port_embedded, tmp / "embedded.log"))
        processes.append(serve(server.url, base, port_remote, tmp / "remote.log"))
        urls = {"embedded": base, "remote": f"http://127.0.0.1:{port_remote}/"}

        paths = film_paths(data, args.pages)
        film = paths[0]
        www = tmp / "www"
        www.mkdir()
        for kind in KINDS:
            response = requests.get(f"{base}{film}.{kind}", timeout=30)
            response.raise_for_status()
            (www / f"film.{kind}").write_bytes(response.content)
        nginx_port = free_port()
        processes.append(start(["nginx", "-c", str(nginx_config(tmp, nginx_port)), "-p",
                                str(tmp)], tmp / "nginx.log"))
        nginx = f"http://127.0.0.1:{nginx_port}/"
        wait_for(nginx + "film.ttl", processes[-1], tmp / "nginx.log")
        etags = {name: requests.get(f"{url}{film}.ttl", timeout=30).headers["ETag"]
                 for name, url in urls.items()}
        nginx_etag = requests.get(nginx + "film.ttl", timeout=5).headers["ETag"]

        print(f"\n{'request':22}{'embedded':>10}{'remote':>10}{'nginx':>10}"
              f"{'emb/nginx':>11}{'rem/nginx':>11}")
        c, d = args.connections, args.duration
        for kind, media in KINDS.items():
            rates = {name: wrk(f"{url}{film}.{kind}", c, d, {"Accept": media})
                     for name, url in urls.items()}
            ceiling = wrk(f"{nginx}film.{kind}", c, d, {})
            print(f"{kind + ' (one film)':22}{rates['embedded']:10.0f}{rates['remote']:10.0f}"
                  f"{ceiling:10.0f}{rates['embedded'] / ceiling:11.2f}"
                  f"{rates['remote'] / ceiling:11.2f}")
        rates = {name: wrk(f"{url}{film}.ttl", c, d, {"If-None-Match": etags[name]})
                 for name, url in urls.items()}
        ceiling = wrk(f"{nginx}film.ttl", c, d, {"If-None-Match": nginx_etag})
        print(f"{'304 (one film)':22}{rates['embedded']:10.0f}{rates['remote']:10.0f}"
              f"{ceiling:10.0f}{rates['embedded'] / ceiling:11.2f}"
              f"{rates['remote'] / ceiling:11.2f}")
        script = walker(tmp, paths)
        rates = {name: wrk_script(url, script, c, d) for name, url in urls.items()}
        print(f"{f'ttl ({len(paths)} films)':22}{rates['embedded']:10.0f}"
              f"{rates['remote']:10.0f}{'':>10}")
        return 0
    finally:
        clean_up(list(reversed(processes)), server, tmp)


if __name__ == "__main__":
    sys.exit(main())
