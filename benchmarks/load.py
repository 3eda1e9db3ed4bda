"""Bulk load: `filmld load` (embedded and remote) against `oxigraph load` of the same file.

    PYTHONPATH=src python benchmarks/load.py --films 10000

One synthetic file (benchmarks/generate_films.py, N-Triples, gzip) is loaded by:
- `oxigraph load --location DIR --file F --graph G` (the engine's own bulk loader, Rust);
- `filmld load F --store DIR` (embedded: pyoxigraph's bulk loader on 16 MB pieces, then
  optimize());
- `filmld load F --store http://.../query` into a fresh `oxigraph serve` (Graph Store POST).
Each in its own process; peak resident memory is that process's own (wait4 rusage), and for
the remote load the server's peak too. Ratios are from the same run (issue 7 targets: at
least half the triples per second of `oxigraph load`, peak memory under 1 GB).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from common_scale import (
    OxigraphServer,
    filmld_env,
    generate,
    machine,
    measure,
    oxigraph_cli,
    peak_rss_mb,
)

GRAPH = "http://127.0.0.1:8000/graph/loaded"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-remote", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="filmld-load-"))
    try:
        print(f"machine: {machine()}")
        path, triples = generate(work, args.films, args.seed)
        print(f"input: {args.films} films, {triples:,} triples, {path.stat().st_size / 2**20:.1f}"
              f" MB N-Triples gzip\n")
        runs = {}
        runs["oxigraph load"] = measure([oxigraph_cli(), "load", "--location",
                                         str(work / "ox"), "--file", str(path),
                                         "--graph", GRAPH])
        runs["filmld load (embedded)"] = measure(
            [sys.executable, "-m", "filmld", "load", str(path), "--store", str(work / "emb"),
             "-q"], env=filmld_env())
        server_peak = None
        if not args.no_remote:
            server = OxigraphServer(work / "server")
            try:
                runs["filmld load (remote)"] = measure(
                    [sys.executable, "-m", "filmld", "load", str(path), "--store", server.url,
                     "-q"], env=filmld_env())
                server_peak = peak_rss_mb(server.process.pid)
            finally:
                server.stop()
        base = runs["oxigraph load"]
        print(f"{'loader':26}{'seconds':>9}{'triples/s':>12}{'peak RSS MB':>13}"
              f"{'speed vs oxigraph':>19}  status")
        failed = 0
        for name, run in runs.items():
            rate = triples / run.seconds
            ratio = base.seconds / run.seconds
            status = "ok" if run.returncode == 0 else f"exit {run.returncode}"
            failed += run.returncode != 0
            print(f"{name:26}{run.seconds:9.1f}{rate:12,.0f}{run.peak_rss_mb:13.0f}"
                  f"{ratio:19.2f}  {status}")
            if run.returncode:
                print(run.stderr[-2000:])
        if server_peak is not None:
            print(f"(remote: the oxigraph server's own peak RSS during the load: "
                  f"{server_peak:.0f} MB)")
        print("\nfilmld's embedded time includes optimize(); oxigraph load's does not "
              "(its store is compacted as it is built).")
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
