"""Operator commands: kaiin member reissue-pin | unlock | suspend | activate, and kaiin audit."""

from __future__ import annotations

import re

import pytest

from db import auth, mail
from tests.auth_helpers import run
from tests.conftest import make_member
from web.cli import main


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KAIIN_ENV", "test")
    monkeypatch.setenv("KAIIN_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("KAIIN_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("KAIIN_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("KAIIN_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("KAIIN_DB_POOL_MAX", "0")
    return settings


def _member_no() -> str:
    return run(auth.member_by_card("1234567890")).member_no


def _lock_pin(settings) -> None:
    from tests.db.test_auth import CountingHasher, context
    from web.app import hasher

    ctx = context(settings, CountingHasher(hasher(settings)))
    for pin in ("0000", "1111", "2222"):
        with pytest.raises(auth.SignInFailed):
            run(auth.sign_in_with_card("1234567890", pin, device="ua", ctx=ctx))


def test_unlock_and_reissue_pin(cli_env, capsys):
    make_member(cli_env)
    member_no = _member_no()
    _lock_pin(cli_env)
    assert main(["member", "unlock", member_no, "--operator", "sato"]) == 0
    assert "暗証番号のロックを解除しました" in capsys.readouterr().out
    assert run(auth.factor_state(run(auth.member_by_card("1234567890")).id))["pin"] is False

    assert main(["member", "reissue-pin", member_no, "--operator", "sato"]) == 0
    out = capsys.readouterr().out
    new_pin = re.search(r"新しい暗証番号: ([0-9]{4})", out).group(1)
    assert main(["member", "reissue-pin", member_no, "--pin", "１３５７"]) == 0
    assert "新しい暗証番号" not in capsys.readouterr().out, "a PIN given is not printed back"
    kinds = [m.kind for m in run(mail.newest())]
    assert "unlocked" in kinds and "pin_changed" in kinds
    assert all(m.sent_at is not None for m in run(mail.newest())), "notices delivered to the outbox"
    assert new_pin


def test_suspend_activate_and_audit(cli_env, capsys):
    make_member(cli_env)
    member_no = _member_no()
    assert main(["member", "suspend", member_no, "--reason", "本人確認中", "--operator", "sato"]) == 0
    assert run(auth.member_by_card("1234567890")).status == "suspended"
    assert main(["member", "activate", member_no, "--operator", "sato"]) == 0
    assert run(auth.member_by_card("1234567890")).status == "active"
    capsys.readouterr()
    assert main(["audit", "--member", member_no]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "member_activate" in lines[0] and "operator:sato" in lines[0]
    assert "member_suspend" in lines[1] and "本人確認中" in lines[1]
    assert all(f"member={member_no}" in line for line in lines)


@pytest.mark.parametrize(
    "argv",
    [
        ["member", "unlock", "00000000"],
        ["member", "reissue-pin", "00000000", "--pin", "1234"],
        ["member", "suspend", "00000000"],
    ],
)
def test_unknown_member_is_one_clear_line(cli_env, capsys, argv):
    assert main(argv) == 2
    assert "見つかりません" in capsys.readouterr().err


def test_bad_pin_is_refused(cli_env, capsys):
    make_member(cli_env)
    assert main(["member", "reissue-pin", _member_no(), "--pin", "١٢٣٤"]) == 2
    assert "暗証番号は4桁の数字" in capsys.readouterr().err
