"""Sign-in page: throughput against the framework floor, server time, and Lighthouse on first load.

Run: ``make bench`` (or ``.venv/bin/python -m tests.bench.shell``). Prints markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.bench.common import ROOT, bench_server, row, server_timing, wrk

CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --disable-quic"


def lighthouse(url: str, out: Path) -> dict:
    """Lighthouse (npm ``lighthouse``) with Debian Chromium, mobile form factor, simulated throttling."""
    npx = shutil.which("npx")
    command = [npx, "--yes", "lighthouse@13.5.0", url, "--output=json", f"--output-path={out}",
               f"--chrome-flags={CHROME_FLAGS}", "--only-categories=performance,accessibility,best-practices", "--quiet"]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}, timeout=300,
                   capture_output=True)
    report = json.loads(out.read_text())
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    return {
        "scores": {key: category["score"] for key, category in report["categories"].items()},
        "bytes": sum(item.get("transferSize", 0) for item in requests),
        "requests": len(requests),
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "console_errors": len(audits["errors-in-console"]["details"]["items"]),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, bench_server(Path(folder)) as server:
        base = f"http://127.0.0.1:{server.port}"
        wrk(f"{base}/_bench/floor", seconds=2)  # warm-up
        floor = wrk(f"{base}/_bench/floor")
        login = wrk(f"{base}/login")
        timing = server_timing(f"{base}/login")
        report = lighthouse(f"{server.url}/login", Path(folder) / "lighthouse.json")
    print("| route | req/s | of floor | p50 ms | p99 ms |\n|---|---|---|---|---|")
    print(row("`/_bench/floor` (trivial route)", floor, floor))
    print(row("`/login` (full page)", login, floor))
    print(f"\n/login server time: p50 {timing['p50']:.2f} ms, p95 {timing['p95']:.2f} ms")
    scores = report["scores"]
    print(f"\nLighthouse /login: performance {scores['performance']}, accessibility {scores['accessibility']}, "
          f"best practices {scores['best-practices']}; {report['bytes']:,} bytes in {report['requests']} requests; "
          f"LCP {report['lcp_ms']:.0f} ms, TBT {report['tbt_ms']:.0f} ms, CLS {report['cls']:.3f}, "
          f"console errors {report['console_errors']}")


if __name__ == "__main__":
    main()
