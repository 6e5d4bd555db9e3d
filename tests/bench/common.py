"""Benchmark helpers: a bench server, wrk runs, Server-Timing samples. Loopback only, bounded runs.

The server is pinned to CPU 0 and wrk to CPU 1 (``taskset``) so that ratios taken side by side in one run
compare like with like on this 2-core machine.
"""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.conftest import Server

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def bench_server(folder: Path, env: dict[str, str] | None = None, *, demo: bool = True,
                 command: tuple[str, ...] = ("web.cli", "serve")):
    """A real server with the floor route (``/_bench/floor``), pinned to CPU 0 when taskset exists."""
    server = Server(folder, {"KAIIN_BENCH_ROUTES": "1", **(env or {})}, demo=demo, command=command).start()
    if shutil.which("taskset") and server.process:
        subprocess.run(["taskset", "-pc", "0", str(server.process.pid)], capture_output=True)
    try:
        yield server
    finally:
        server.stop()


def wrk(url: str, *, seconds: int = 8, connections: int = 8, headers: dict[str, str] | None = None,
        script: Path | None = None) -> dict:
    """Requests per second and latency percentiles from one bounded wrk run against ``url``
    (``script``: a wrk Lua file, e.g. one that POSTs a sequence of form bodies)."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: apt-get install -y wrk (make bench does this)")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = {p: _ms(m.group(1)) for p in ("50", "90", "99") if (m := re.search(rf"\s{p}%\s+([\d.]+\w+)", out))}
    return {"rps": rps, "latency_ms": latency, "errors": int(non_2xx.group(1)) if non_2xx else 0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def server_timing(url: str, *, count: int = 200, headers: dict[str, str] | None = None) -> dict:
    """p50/p95 of the server's own time (``Server-Timing: app;dur=``) over ``count`` sequential requests."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    durations = []
    try:
        for _ in range(count):
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            durations.append(float(re.search(r"dur=([\d.]+)", response.headers["Server-Timing"]).group(1)))
    finally:
        conn.close()
    durations.sort()
    return {"p50": statistics.median(durations), "p95": durations[int(len(durations) * 0.95) - 1]}


def row(name: str, result: dict, floor: dict) -> str:
    """A markdown table row: rps, share of the floor, wrk p50/p99."""
    share = result["rps"] / floor["rps"] * 100
    lat = result["latency_ms"]
    return f"| {name} | {result['rps']:,.0f} | {share:.0f}% | {lat.get('50', 0):.1f} | {lat.get('99', 0):.1f} |"
