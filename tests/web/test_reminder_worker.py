"""`kaiin worker --once` as operators run it: real processes with the server time zone set to UTC, two
at once and then a restart, delivering through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from email import message_from_bytes, policy

import pytest

from tests.conftest import ROOT, make_member
from tests.web.test_mail import smtp_server  # noqa: F401 (the real aiosmtpd server fixture)


def workers(settings, smtp_url: str, clock: str, count: int) -> list[subprocess.CompletedProcess]:
    env = {
        **os.environ, "TZ": "UTC", "DATABASE_URL": settings.database_url, "KAIIN_DATA_DIR": settings.data_dir,
        "KAIIN_ENV": "test", "KAIIN_CLOCK": clock, "SMTP_URL": smtp_url, "KAIIN_DB_POOL_MAX": "0",
        "KAIIN_PUBLIC_ORIGIN": "https://kaiin.example.jp", "KAIIN_SECRET_KEY": settings.secret_key,
    }
    env.pop("REDIS_URL", None)
    procs = [subprocess.Popen([sys.executable, "-m", "web.cli", "worker", "--once"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.slow
def test_two_workers_and_a_restart_send_each_reminder_once_at_the_jst_hour(settings, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    smtp_url = f"smtp://127.0.0.1:{port}"
    # due 2026-12-07 (12-05 is a Saturday); 3 days before at 09:00 JST = 2026-12-04 00:00 UTC
    make_member(settings, balance=100_000, borrowed_on=date(2026, 11, 2), opened_on=date(2026, 11, 2))
    workers(settings, smtp_url, "2026-12-04T08:59:00+09:00", 2)
    assert inbox.messages == [], "not before the member's hour"
    workers(settings, smtp_url, "2026-12-04T09:00:00+09:00", 2)
    assert len(inbox.messages) == 1, "two workers at the same moment send it once"
    workers(settings, smtp_url, "2026-12-04T09:05:00+09:00", 1)
    assert len(inbox.messages) == 1, "a restarted worker does not send it again"
    mail_from, rcpts, raw = inbox.messages[0]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "taro@example.jp" and "12月7日" in message["Subject"]
    body = message.get_content()
    assert "2026年12月7日(月)" in body and "4,000円" in body and "https://kaiin.example.jp/repayments/new" in body
