"""The operator command line: clear one-line errors for bad arguments, real effects for good ones."""

from __future__ import annotations

import pytest

from db import engine
from web import cli


@pytest.fixture
def env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KAIIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KAIIN_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("KAIIN_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("KAIIN_DEMO_BULK_ROWS", "300")
    return database_url


@pytest.mark.parametrize(
    "args, message",
    [
        (["member", "create", "--card", "12345", "--pin", "1234"], "--card"),
        (["member", "create", "--card", "１２３４５６７８９０", "--pin", "1234"], "--card"),
        (["member", "create", "--card", "1234567890", "--pin", "12a4"], "--pin"),
        (["member", "create", "--card", "1234567890", "--pin", "1234", "--web-id", "taro2024"], "--password"),
        (["member", "create", "--card", "1234567890", "--pin", "1234", "--limit", "-5"], "--limit"),
        (["member", "create", "--card", "1234567890", "--pin", "1234", "--limit", "1000000", "--rate", "17.8"], "利息制限法"),
        (["member", "create", "--card", "1234567890", "--pin", "1234", "--limit", "5000", "--rate", "15.0"], "限度額"),
    ],
)
def test_bad_arguments_get_one_clear_line(env, capsys, args, message):
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kaiin: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["member", "create", "--card", "1234567890", "--pin", "1234", "--birth-date", "1990-13-01"],
                                  ["member", "create", "--card", "1234567890", "--pin", "1234", "--rate", "abc"],
                                  ["member", "create", "--card", "1234567890", "--pin", "1234", "--due-day", "7"]])
def test_argparse_errors_exit_2(env, capsys, args):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2


def test_member_create_prints_the_member_number_and_refuses_a_duplicate(env, capsys):
    assert cli.main(["member", "create", "--card", "1234567890", "--pin", "1234", "--rate", "15.0"]) == 0
    number = capsys.readouterr().out.strip()
    assert number.isdigit() and len(number) == 8
    assert cli.main(["member", "create", "--card", "1234567890", "--pin", "9999"]) == 2
    assert "すでに登録" in capsys.readouterr().err


def test_migrate_and_demo_are_idempotent(env, capsys):
    assert cli.main(["migrate"]) == 0
    capsys.readouterr()
    assert cli.main(["demo"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["demo"]) == 0
    assert capsys.readouterr().out == first
    assert "カード番号" in first
    engine.configure(env)
