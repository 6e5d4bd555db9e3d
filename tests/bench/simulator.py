"""A simulator keystroke against the framework floor, side by side on one server, and its server time.

Run: ``.venv/bin/python -m tests.bench.simulator`` (``make bench`` runs it too). Prints markdown for
docs/benchmarks.md. With ``--cookie`` every request (the floor's too) carries the ``csrftoken`` cookie a
browser holds, so no response sets a new one.

A keystroke is what htmx sends once typing pauses: ``GET /simulator?<the whole form>`` with
``HX-Request`` and ``HX-Target: section#sim-result`` (app.js keeps the CSRF token out of the query). Two mixes:

- typing: a visitor changing the payment 4000 → 15000 and the amount 100000 → 500000 a key at a time, then
  switching to "from the number of months" and trying 36, 24, 6, 60: worked results and explained
  refusals (422), the same sequence again and again, as many visitors type the same round numbers;
- never seen: every request a payment nobody asked for before (no outcome can be remembered), the cost
  of a full schedule through the loan engine.

Also the size of a keystroke's piece and of the month-by-month table it fetches when opened (budget: a partial
≤ 5 KB gzip), for the page's example and the longest schedule the amount due allows (80 payments).
"""

from __future__ import annotations

import gzip
import html
import http.client
import re
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

from tests.bench.common import bench_server, row, server_timing, wrk
from web.settings import Settings

BASE = {"mode": "payment", "amount": "100000", "rate": "17.8", "payment": "4000", "months": "36", "due_day": "25"}
TYPING = [
    {"payment": "1"}, {"payment": "15"}, {"payment": "150"}, {"payment": "1500"}, {"payment": "15000"},
    {"amount": "5", "payment": "15000"}, {"amount": "50", "payment": "15000"}, {"amount": "500000", "payment": "15000"},
    {"mode": "months", "amount": "500000", "months": "36"}, {"mode": "months", "amount": "500000", "months": "24"},
    {"mode": "months", "amount": "500000", "months": "6"}, {"mode": "months", "amount": "500000", "months": "60"},
]
NEVER_SEEN_PER_ROUND = 5_000  #: more than the server remembers (``simulator_cache_entries``): sent in turn, each
#: payment comes back only after 4,999 others, when it is forgotten, so every request is computed and rendered
assert NEVER_SEEN_PER_ROUND > Settings.simulator_cache_entries


def never_seen(round_no: int) -> list[dict]:
    """Payments nobody asked for before: each round (and the timing after them) has a range of its own."""
    start = 4_000 + round_no * NEVER_SEEN_PER_ROUND
    return [{"payment": str(start + i)} for i in range(NEVER_SEEN_PER_ROUND)]
LIVE = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "section#sim-result"}


def paths(forms: list[dict]) -> list[str]:
    return ["/simulator?" + urllib.parse.urlencode({**BASE, **form}) for form in forms]


def lua(folder: Path, name: str, forms: list[dict]) -> Path:
    """A wrk script that sends the keystrokes ``forms`` in turn, with the live request's headers."""
    items = ",\n".join(f'"{path}"' for path in paths(forms))
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in LIVE.items())
    path = folder / f"{name}.lua"
    path.write_text(f"""local paths = {{
{items}
}}
local i = 0
{headers}
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
""")
    return path


def keystroke_timing(host: str, port: int, forms: list[dict], count: int, headers: dict | None = None) -> dict:
    """p50/p95 of ``Server-Timing`` over ``count`` sequential keystrokes."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    durations = []
    for path in (paths(forms) * (count // len(forms) + 1))[:count]:
        conn.request("GET", path, headers={**LIVE, **(headers or {})})
        response = conn.getresponse()
        response.read()
        durations.append(float(re.search(r"dur=([\d.]+)", response.headers["Server-Timing"]).group(1)))
    conn.close()
    q = statistics.quantiles(durations, n=20)
    return {"p50": statistics.median(durations), "p95": q[18]}


def piece_sizes(host: str, port: int, form: dict) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """(payments, (bytes, gzip bytes) of the keystroke's piece, the same for the table it fetches when opened)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", paths([form])[0], headers=LIVE)
    piece = conn.getresponse().read()
    table_path = html.unescape(re.search(rb'hx-get="([^"]+)"', piece).group(1).decode())
    conn.request("GET", table_path, headers={**LIVE, "HX-Target": "div#sim-schedule"})
    table = conn.getresponse().read()
    conn.close()
    months = int(re.search(rb'data-testid="months" data-value="(\d+)"', piece).group(1))
    return months, (len(piece), len(gzip.compress(piece))), (len(table), len(gzip.compress(table)))


def csrf_cookie(host: str, port: int) -> dict[str, str]:
    """The ``csrftoken`` cookie a browser holds from the page it types in (``--cookie``)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/simulator")
    response = conn.getresponse()
    response.read()
    conn.close()
    return {"Cookie": re.search(r"csrftoken=[^;]+", response.getheader("set-cookie")).group(0)}


def main(rounds: int = 3, cookie: bool = False) -> None:
    """Floor and keystrokes alternate in short runs (``rounds`` times), so that a load that comes and goes
    on the machine hits both alike; the table shows the median round. ``cookie``: every request (floor too)
    carries the csrftoken cookie, as a browser's would, so none is answered with a new one."""
    # KAIIN_ENV=test: templates are not re-read from disk on every render (dev's auto-reload), as in production
    with tempfile.TemporaryDirectory() as folder, bench_server(Path(folder), {"KAIIN_ENV": "test"}, demo=False) as server:
        host, port = "127.0.0.1", server.port
        base = f"http://{host}:{port}"
        typing = lua(Path(folder), "typing", TYPING)
        headers = csrf_cookie(host, port) if cookie else None
        wrk(f"{base}/_bench/floor", seconds=2)  # warm-up
        runs = []
        for round_no in range(rounds):
            fresh = lua(Path(folder), f"fresh{round_no}", never_seen(round_no))
            floor = wrk(f"{base}/_bench/floor", seconds=4, headers=headers)
            runs.append((floor, wrk(base, seconds=4, script=typing, headers=headers),
                         wrk(base, seconds=4, script=fresh, headers=headers)))
        floor_timing = server_timing(f"{base}/_bench/floor", count=240, headers=headers)
        timing_typed = keystroke_timing(host, port, TYPING, 240, headers)
        timing_unseen = keystroke_timing(host, port, never_seen(rounds)[:240], 240, headers)
        sizes = [piece_sizes(host, port, form) for form in ({}, {"amount": "1050000", "rate": "15", "payment": "21000"})]
    floor, typed, unseen = sorted(runs, key=lambda run: run[1]["rps"] / run[0]["rps"])[len(runs) // 2]
    shares = ", ".join(f"{t['rps'] / f['rps']:.0%}" for f, t, _ in runs)
    unseen_shares = ", ".join(f"{u['rps'] / f['rps']:.0%}" for f, _, u in runs)
    print("| route | req/s | of floor | p50 ms | p99 ms |\n|---|---|---|---|---|")
    print(row("`/_bench/floor` (trivial route)", floor, floor))
    print(row(f"simulator keystroke, typing ({typed['errors']} explained 422s)", typed, floor))
    print(row("simulator keystroke, never-seen payment", unseen, floor))
    print(f"\ntyping share of the floor in each of the {rounds} rounds: {shares}; never-seen: {unseen_shares}")
    print(f"\nServer-Timing p50/p95: floor {floor_timing['p50']:.2f}/{floor_timing['p95']:.2f} ms; "
          f"keystroke, typing {timing_typed['p50']:.2f}/{timing_typed['p95']:.2f} ms; "
          f"never-seen payment {timing_unseen['p50']:.2f}/{timing_unseen['p95']:.2f} ms")
    for (months, piece, table) in sizes:
        print(f"\n{months} payments: keystroke piece {piece[0]:,} B ({piece[1]:,} B gzip), "
              f"its table {table[0]:,} B ({table[1]:,} B gzip)")


if __name__ == "__main__":
    main(cookie="--cookie" in sys.argv[1:])
