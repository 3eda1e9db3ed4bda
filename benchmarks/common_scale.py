"""Helpers the scale benchmarks share (issue 7): synthetic data, servers, peak memory.

Everything listens on 127.0.0.1 only and every process is stopped at the end.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_cli() -> str:
    candidate = Path(sys.executable).with_name("oxigraph")
    return str(candidate) if candidate.exists() else (shutil.which("oxigraph") or "oxigraph")


def filmld_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FILMLD_")}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + str(ROOT)
    env.update({f"FILMLD_{k.upper()}": v for k, v in settings.items()})
    return env


def generate(work: Path, films: int, seed: int = 1, base: str = "http://127.0.0.1:8000/",
             suffix: str = ".nt.gz") -> tuple[Path, int]:
    """benchmarks/generate_films.py output; returns the file and its triple count."""
    out = work / f"films-{films}-{seed}{suffix}"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/generate_films.py"),
                           "--films", str(films), "--seed", str(seed), "--base", base,
                           "--out", str(out)], check=True, capture_output=True, text=True)
    return out, int(done.stderr.split(",")[1].split()[0])


@dataclass
class Run:
    """One child process measured: wall time, peak resident memory, exit code, output."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def measure(cmd: list[str], env: dict | None = None, timeout: float = 3600) -> Run:
    """Run a command; its own peak RSS comes from wait4's rusage (that child only)."""
    started = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        process = subprocess.Popen(cmd, env=env, stdout=devnull, stderr=subprocess.PIPE)
    deadline = started + timeout
    stderr = b""
    os.set_blocking(process.stderr.fileno(), False)
    while True:
        chunk = process.stderr.read()
        if chunk:
            stderr += chunk
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{cmd[:3]} did not finish in {timeout} s")
        time.sleep(0.05)
    seconds = time.monotonic() - started
    rest = process.stderr.read()
    stderr += rest or b""
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux.
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode,
               stderr.decode(errors="replace"))


def rss_mb(pid: int) -> float:
    """Current resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class OxigraphServer:
    """`oxigraph serve` on a free loopback port, stopped by stop()."""

    def __init__(self, location: Path, *, union: bool = False) -> None:
        self.port = free_port()
        self.location = location
        cmd = [oxigraph_cli(), "serve", "--location", str(location), "--bind",
               f"127.0.0.1:{self.port}"]
        if union:
            cmd.append("--union-default-graph")
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until_up(f"{self.url}?query=ASK%7B%7D", self.process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def stop(self) -> None:
        stop(self.process)


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def machine() -> str:
    """CPU model, cores and memory: the context every figure needs."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (f"{model}, {os.cpu_count()} cores, {pages / 2**30:.0f} GiB RAM, "
            f"Python {sys.version.split()[0]}, load average "
            f"{os.getloadavg()[0]:.1f} at start")


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clean_up(processes: list[subprocess.Popen], server, work: Path) -> None:
    """Stop what a scale script started (its filmld processes, its Oxigraph server) and
    remove its scratch folder: every script ends the same way, even on failure."""
    for process in processes:
        stop(process)
    if server is not None:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)
