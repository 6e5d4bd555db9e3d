"""Passkey sign-in against card + PIN sign-in: the server's own time, side by side on one server.

Run: ``.venv/bin/python -m tests.bench.passkeys`` (also part of ``make bench``). Prints markdown for
docs/benchmarks.md. The server uses the production Argon2 parameters (not the tests' cheap ones), since the
PIN check is where a PIN sign-in spends its time. Each sign-in is a fresh client (new cookies), sequential.
"""

from __future__ import annotations

import re
import statistics
import tempfile
from pathlib import Path

import httpx

from tests.bench.common import bench_server
from tests.passkey_seed import seed_passkey
from tests.soft_authenticator import SoftAuthenticator
from web.settings import Settings

ROUNDS = 100
CARD, PIN = "1234567890", "1234"  # the first demo member


def _ms(response: httpx.Response) -> float:
    return float(re.search(r"dur=([\d.]+)", response.headers["Server-Timing"]).group(1))


def _client(server) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers={"host": f"localhost:{server.port}"},
                          timeout=30)
    client.get("/login")
    return client, client.cookies["csrftoken"]


def passkey_sign_in(server, device: SoftAuthenticator) -> tuple[float, float]:
    """(options ms, finish ms) for one passkey sign-in."""
    client, token = _client(server)
    try:
        headers = {"x-csrftoken": token, "content-type": "application/json"}
        options = client.post("/passkeys/login/options", content="{}", headers=headers)
        assertion = device.get(options.json()["publicKey"])
        finished = client.post("/passkeys/login", json=assertion, headers=headers)
        assert finished.status_code == 200, finished.text
        return _ms(options), _ms(finished)
    finally:
        client.close()


def pin_sign_in(server) -> float:
    client, token = _client(server)
    try:
        answer = client.post("/login/card", data={"card_number": CARD, "pin": PIN, "_csrf_token": token})
        assert answer.status_code == 303, answer.text
        return _ms(answer)
    finally:
        client.close()


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"{statistics.median(ordered):.2f} | {ordered[int(len(ordered) * 0.95) - 1]:.2f}"


def main() -> None:
    defaults = Settings()
    argon2 = {"KAIIN_ARGON2_TIME_COST": str(defaults.argon2_time_cost),
              "KAIIN_ARGON2_MEMORY_KIB": str(defaults.argon2_memory_kib),
              "KAIIN_LOGIN_THROTTLE_MAX": "100000"}
    with tempfile.TemporaryDirectory() as folder, bench_server(Path(folder), argon2) as server:
        device = SoftAuthenticator(origin=server.url, counter_step=0)
        seed_passkey(Path(folder) / "kaiin.sqlite3", device.new_credential("localhost"), card_number=CARD)
        for _ in range(5):  # warm-up
            passkey_sign_in(server, device)
            pin_sign_in(server)
        options, finish, total, pin = [], [], [], []
        for _ in range(ROUNDS):  # interleaved, so that both see the same machine load
            first, second = passkey_sign_in(server, device)
            options.append(first)
            finish.append(second)
            total.append(first + second)
            pin.append(pin_sign_in(server))
    print(f"| sign-in ({ROUNDS} each, interleaved) | p50 ms | p95 ms |\n|---|---|---|")
    print(f"| passkey: `POST /passkeys/login/options` | {summary(options)} |")
    print(f"| passkey: `POST /passkeys/login` (verify + new session) | {summary(finish)} |")
    print(f"| passkey: both requests | {summary(total)} |")
    print(f"| card + PIN: `POST /login/card` (Argon2id t={defaults.argon2_time_cost}, "
          f"{defaults.argon2_memory_kib // 1024} MiB) | {summary(pin)} |")


if __name__ == "__main__":
    main()
