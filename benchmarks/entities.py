"""Entity requests per second (Turtle, JSON-LD, HTML, 304 revalidations) at 1 and 16
connections, with two ceilings measured in the same run: nginx serving the same bytes as
static files, and a Flask view returning the same fixed bytes under the same granian
settings as `filmld serve`. Prints filmld/nginx and filmld/Flask ratios (issue 4 targets:
Turtle, JSON-LD and 304 at least 0.7 of nginx, HTML at least 0.6).

    PYTHONPATH=src python benchmarks/entities.py [--duration 3] [--runs 3]

Loopback only, bounded duration; needs wrk and nginx (Debian `wrk`, `nginx-light`; installed
with apt-get when missing). All three servers use one worker process.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
FILM = "id/film/mask-1985"
KINDS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}
TARGETS = {"ttl": 0.7, "jsonld": 0.7, "html": 0.6, "304": 0.7}


def ensure_tools() -> None:
    missing = [pkg for tool, pkg in (("wrk", "wrk"), ("nginx", "nginx-light"))
               if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists()]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited: {log.read_text()[-2000:]}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start: {log.read_text()[-2000:]}")


def start(cmd: list[str], log: Path, env: dict | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)


def best_of(runs: int, url: str, connections: int, seconds: int,
            headers: dict[str, str]) -> float:
    """The best of a few runs: on a shared machine, interference only ever slows a run."""
    return max(wrk(url, connections, seconds, headers) for _ in range(runs))


def wrk(url: str, connections: int, seconds: int, headers: dict[str, str]) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 30,
                         check=False)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if not match:
        raise RuntimeError(f"wrk failed on {url}: {out.stdout}{out.stderr}")
    if "Non-2xx or 3xx responses" in out.stdout:
        raise RuntimeError(f"errors from {url}: {out.stdout}")
    return float(match.group(1))


def nginx_config(tmp: Path, port: int) -> Path:
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log {tmp}/nginx-access.log;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  types {{ text/turtle ttl; application/ld+json jsonld; text/html html; }}
  charset utf-8; charset_types text/turtle text/html;
  server {{ listen 127.0.0.1:{port}; root {tmp}/www; etag on; }}
}}
""")
    return conf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (best kept)")
    args = parser.parse_args(argv)
    ensure_tools()
    tmp = Path(tempfile.mkdtemp(prefix="filmld-bench-"))
    os.chmod(tmp, 0o755)
    processes: list[subprocess.Popen] = []
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FILMLD_")},
           "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'benchmarks'}"}
    try:
        # 1. filmld itself, as an operator runs it.
        port = free_port()
        filmld = start([sys.executable, "-m", "filmld", "serve", "--port", str(port),
                        "--store", str(tmp / "store")], tmp / "filmld.log", env)
        processes.append(filmld)
        base = f"http://127.0.0.1:{port}/"
        wait_for(base, filmld, tmp / "filmld.log")
        www = tmp / "www"
        www.mkdir()
        bodies: dict[str, bytes] = {}
        for kind in KINDS:
            response = requests.get(f"{base}{FILM}.{kind}", timeout=10)
            response.raise_for_status()
            bodies[kind] = response.content
            (www / f"film.{kind}").write_bytes(response.content)
        etag = requests.get(f"{base}{FILM}.ttl", timeout=10).headers["ETag"]
        # 2. nginx with the same bytes as static files.
        nginx_port = free_port()
        nginx = start(["nginx", "-c", str(nginx_config(tmp, nginx_port)), "-p", str(tmp)],
                      tmp / "nginx.log")
        processes.append(nginx)
        nginx_url = f"http://127.0.0.1:{nginx_port}/"
        wait_for(nginx_url + "film.ttl", nginx, tmp / "nginx.log")
        nginx_etag = requests.get(nginx_url + "film.ttl", timeout=5).headers["ETag"]
        # 3. A Flask view returning the same fixed bytes under the same granian settings.
        fixed_port = free_port()
        helper = str(ROOT / "benchmarks" / "entities_fixed_app.py")
        fixed = start([sys.executable, helper, "fixed", str(fixed_port)],
                      tmp / "fixed.log", {**env, "FILMLD_BENCH_BODIES": str(www)},
                      cwd=ROOT / "benchmarks")
        processes.append(fixed)
        fixed_url = f"http://127.0.0.1:{fixed_port}/"
        wait_for(fixed_url + "film.ttl", fixed, tmp / "fixed.log")
        # 4. filmld again, same granian settings but no access log (FILMLD_ACCESS_LOG=false).
        quiet_port = free_port()
        quiet = start([sys.executable, helper, "filmld", str(quiet_port)],
                      tmp / "quiet.log", {**env, "FILMLD_STORE": str(tmp / "store-quiet"),
                                          "FILMLD_ACCESS_LOG": "false",
                                          "FILMLD_BASE_URL": base},
                      cwd=ROOT / "benchmarks")
        processes.append(quiet)
        quiet_url = f"http://127.0.0.1:{quiet_port}/"
        wait_for(quiet_url, quiet, tmp / "quiet.log")
        quiet_etag = requests.get(f"{quiet_url}{FILM}.ttl", timeout=10).headers["ETag"]

        cases = {kind: ({"Accept": media}, f"{FILM}.{kind}", f"film.{kind}", f"film.{kind}",
                        {}, {}) for kind, media in KINDS.items()}
        cases["304"] = ({"Accept": "text/turtle", "If-None-Match": etag}, f"{FILM}.ttl",
                        "film.ttl", "not-modified", {"If-None-Match": nginx_etag},
                        {"If-None-Match": quiet_etag})
        assert requests.get(f"{base}{FILM}.ttl", headers={"If-None-Match": etag},
                            timeout=5).status_code == 304
        print(f"film: {FILM}; bodies: " + ", ".join(f"{k} {len(v)} B" for k, v in
                                                    bodies.items()))
        print("servers: one worker each; filmld and the Flask ceiling under granian with "
              "filmld's access log on (as `filmld serve` runs), nginx with its access log on; "
              "'quiet' is filmld without an access log")
        print(f"{'kind':7}{'conns':>6}{'filmld':>9}{'quiet':>9}{'nginx':>9}{'flask':>9}"
              f"{'filmld/nginx':>14}{'quiet/nginx':>13}{'filmld/flask':>14}{'target':>8}")
        failures = 0
        for kind, (headers, ours, static, flask_path, nginx_extra, quiet_extra) in \
                cases.items():
            plain = {k: v for k, v in headers.items() if k != "If-None-Match"}
            for connections in (1, 16):
                def measure(url: str, sent: dict[str, str], conns: int = connections) -> float:
                    return best_of(args.runs, url, conns, args.duration, sent)

                filmld_rps = measure(base + ours, headers)
                quiet_rps = measure(quiet_url + ours, {**plain, **quiet_extra})
                nginx_rps = measure(nginx_url + static, {**plain, **nginx_extra})
                flask_rps = measure(fixed_url + flask_path, headers)
                ratio = filmld_rps / nginx_rps
                ok = ratio >= TARGETS[kind]
                failures += not ok
                print(f"{kind:7}{connections:>6}{filmld_rps:>9.0f}{quiet_rps:>9.0f}"
                      f"{nginx_rps:>9.0f}{flask_rps:>9.0f}{ratio:>14.2f}"
                      f"{quiet_rps / nginx_rps:>13.2f}{filmld_rps / flask_rps:>14.2f}"
                      f"{TARGETS[kind]:>8.1f}{'' if ok else ' below'}")
        return 0 if failures == 0 else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
