"""A real ``kaiin worker`` process killed (SIGKILL) in the middle of a send loses nothing and sends
nothing twice: the next worker takes the lapsed claim over and the bank pays the transfer number once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from db import transfers
from db.tables import LedgerEntry, SimulatedBankPayment, Transfer
from tests.auth_helpers import run
from tests.conftest import ROOT
from tests.db.test_transfers import FRIDAY_LATE, TUESDAY_0930, borrower, form_for, ledger
from web.deps import transfer_context


def _worker(settings, clock, **env) -> subprocess.Popen:
    environ = {
        **os.environ, "DATABASE_URL": settings.database_url, "KAIIN_ENV": "test", "KAIIN_CLOCK": clock.isoformat(),
        "KAIIN_DATA_DIR": settings.data_dir, "KAIIN_SECRET_KEY": settings.secret_key, "KAIIN_DB_POOL_MAX": "0",
        **env,
    }
    return subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--once"], cwd=ROOT, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(settings):
    ctx = transfer_context(settings)
    member = borrower(settings, bank="0134")
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 70_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    assert receipt.status == "queued"

    # the worker records the payment at the bank, then hangs waiting for the answer: kill it there
    process = _worker(settings, TUESDAY_0930, KAIIN_BANK_SIMULATOR_LATENCY_MS="60000")
    try:
        assert _wait_for(lambda: run(SimulatedBankPayment.count()) == 1), process.stdout.read1().decode()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    row = run(Transfer.select(Transfer.status, Transfer.claimed_until).first())
    assert row["status"] == "sending"  # the bank has it, we never heard back
    assert [r["kind"] for r in run(ledger(member))] == ["borrowing"]  # posted when claimed: nothing lost

    # a worker right after the kill leaves it alone (the claim still holds)…
    assert run(transfers.send_due(TUESDAY_0930 + timedelta(seconds=5), ctx))["claimed"] == 0
    assert run(Transfer.select(Transfer.status).first())["status"] == "sending"
    # …and once the claim lapses the next one finishes it, without paying again
    later = _worker(settings, TUESDAY_0930 + timedelta(seconds=settings.transfer_claim_seconds + 1))
    output = later.stdout.read().decode()
    assert later.wait(timeout=60) == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    assert report["transfers"]["sent"] == 1
    assert run(Transfer.select(Transfer.status, Transfer.attempts).first()) == {"status": "sent", "attempts": 2}
    assert run(SimulatedBankPayment.count()) == 1
    assert run(LedgerEntry.count().where(LedgerEntry.kind == "borrowing")) == 1
    account = run(transfers.loans.account_for_member(member, TUESDAY_0930, ctx.loan_policy))
    assert account.position.balance == 70_000
