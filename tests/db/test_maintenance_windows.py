"""Operators' maintenance windows on each engine, and the `kaiin maintenance` command line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from db import maintenance
from db.tables import MaintenanceWindow
from domain.maintenance import JST, MaintenanceError
from tests.conftest import run
from web import cli

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=JST)


def jst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)


def test_add_list_remove(database_url):
    first = run(maintenance.add_window(jst(2026, 11, 25, 14), jst(2026, 11, 25, 15, 30), " 回線工事 ", now=NOW))
    second = run(maintenance.add_window(jst(2026, 11, 21, 1), jst(2026, 11, 21, 2), "DB更新", now=NOW))
    assert first.reason == "回線工事"
    listed = run(maintenance.list_windows(now=NOW))
    assert [w.id for w in listed] == [second.id, first.id], "ordered by start"
    assert listed[1].starts_at == jst(2026, 11, 25, 14) and listed[1].ends_at.utcoffset() is not None
    windows = run(maintenance.operator_windows(NOW))
    assert {(w.start, w.end, w.reasons) for w in windows} == {
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15, 30), ("回線工事",)),
        (jst(2026, 11, 21, 1), jst(2026, 11, 21, 2), ("DB更新",)),
    }
    removed = run(maintenance.remove_window(first.id))
    assert removed.reason == "回線工事"
    assert [w.id for w in run(maintenance.list_windows(now=NOW))] == [second.id]
    with pytest.raises(MaintenanceError, match="登録されていません"):
        run(maintenance.remove_window(first.id))


def test_ended_windows_are_not_read_by_the_gate_but_can_be_listed(database_url):
    run(maintenance.add_window(jst(2026, 11, 20, 10), jst(2026, 11, 20, 13), "終わるもの", now=NOW))
    later = NOW + timedelta(hours=2)
    assert run(maintenance.operator_windows(later)) == []
    assert run(maintenance.list_windows(now=later)) == []
    assert [w.reason for w in run(maintenance.list_windows(now=later, include_past=True))] == ["終わるもの"]


@pytest.mark.parametrize(
    ("start", "end", "reason", "message"),
    [
        (jst(2026, 11, 25, 15), jst(2026, 11, 25, 14), "x", "終了日時は開始日時より後"),
        (jst(2026, 11, 25, 15), jst(2026, 11, 25, 15), "x", "終了日時は開始日時より後"),
        (jst(2026, 11, 19, 1), jst(2026, 11, 19, 2), "x", "すでに過ぎています"),
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15), "", "理由を入力"),
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15), "　 ", "理由を入力"),
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15), "a\x00b", "制御文字"),
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15), "a\u200bb", "制御文字"),
        (jst(2026, 11, 25, 14), jst(2026, 11, 25, 15), "長" * 201, "200文字以内"),
        (datetime(2026, 11, 25, 14), jst(2026, 11, 25, 15), "x", "タイムゾーン"),
    ],
)
def test_bad_windows_are_refused_and_nothing_is_stored(database_url, start, end, reason, message):
    with pytest.raises(MaintenanceError, match=message):
        run(maintenance.add_window(start, end, reason, now=NOW))
    assert run(MaintenanceWindow.count().run()) == 0


# --- the command line -------------------------------------------------------------------------------------
@pytest.fixture
def kaiin(database_url, monkeypatch, tmp_path, capsys):
    """Run `kaiin …` in this process against the test database; returns (status, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KAIIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KAIIN_CLOCK", NOW.isoformat())

    def call(*argv: str) -> tuple[int, str, str]:
        try:
            status = cli.main(list(argv))
        except SystemExit as exit_:  # argparse refusing an argument
            status = exit_.code
        out = capsys.readouterr()
        return status, out.out, out.err

    return call


def test_cli_add_list_remove(kaiin):
    status, out, _ = kaiin("maintenance", "add", "--start", "2026-11-25T14:00", "--end", "2026-11-25T06:30Z",
                           "--reason", "回線工事")
    assert status == 0 and "ID 1" in out and "2026年11月25日(水) 14:00〜15:30" in out
    status, out, _ = kaiin("maintenance", "add", "--start", "2026-11-23 07:00+09:00", "--end", "2026-11-23T09:00",
                           "--reason", "システム更新")
    assert status == 0
    status, out, _ = kaiin("maintenance", "list")
    assert status == 0
    assert "ID 2  2026年11月23日(月) 7:00〜9:00  システム更新" in out
    assert "2026年11月23日(月) 0:00〜9:00" in out, "the calendar shows the merged window"
    assert "2026年11月30日(月) 0:00〜7:00" in out
    status, out, _ = kaiin("maintenance", "remove", "1")
    assert status == 0 and "回線工事" in out
    stored = run(maintenance.list_windows(now=NOW))
    assert [(w.id, w.starts_at.astimezone(timezone.utc)) for w in stored] == [(2, datetime(2026, 11, 22, 22, 0, tzinfo=timezone.utc))]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "--start", "2026-11-25", "--end", "2026-11-26T00:00", "--reason", "x"], "時刻も指定"),
        (["add", "--start", "25/11/2026 14:00", "--end", "2026-11-26T00:00", "--reason", "x"], "の形で指定"),
        (["add", "--start", "2026-11-25T14:00", "--end", "2026-11-25T13:00", "--reason", "x"], "開始日時より後"),
        (["add", "--start", "2026-11-19T14:00", "--end", "2026-11-19T15:00", "--reason", "x"], "すでに過ぎています"),
        (["add", "--start", "2026-11-25T14:00", "--end", "2026-11-25T15:00", "--reason", " "], "理由を入力"),
        (["remove", "9"], "登録されていません"),
        (["remove", "abc"], "番号です"),
        (["remove", "-1"], ""),
        (["list", "--days", "0"], "1〜366"),
    ],
)
def test_cli_refuses_bad_arguments_clearly(kaiin, argv, message):
    status, out, err = kaiin("maintenance", *argv)
    assert status == 2
    assert message in err and "Traceback" not in err
    assert run(MaintenanceWindow.count().run()) == 0


def test_the_gates_memo_gives_status_at_answers_as_the_clock_moves(database_url, settings):
    """``web.maintenance.GateMemo`` (windows kept until they change, calendar laid out per stretch) decides as
    ``status_at`` (everything read and laid out afresh) at every moment: closed or not, until when, and the
    window the banner announces; across the weekly window, an operator window touching it, one added while the
    clock runs, steps shorter and longer than the stretch. (Where windows chain, the memo still knows the
    operator window that has ended and so names the whole chain's start and reasons; ``status_at`` does not read
    ended windows and starts the chain later. The end, and so ``Retry-After``, is the same.)"""
    from web.maintenance import GateMemo, status_at

    def decision(status):
        upcoming = status.upcoming and (status.upcoming.start, status.upcoming.end, status.upcoming.reasons)
        return status.active is not None, status.active and status.active.end, status.retry_after, upcoming

    run(maintenance.add_window(jst(2026, 11, 23, 7), jst(2026, 11, 23, 9), "システム更新", now=NOW))
    memo = GateMemo(settings.maintenance_policy())

    async def walk() -> int:
        moment, checked = jst(2026, 11, 22, 20), 0
        for step in [7] * 120 + [47] * 30 + [1] * 40 + [180] * 10:
            if checked == 100:  # a window added while the clock runs, starting within the banner lead
                await maintenance.add_window(moment + timedelta(minutes=30), moment + timedelta(hours=2), "緊急", now=moment)
            kept, fresh = await memo.status(moment), await status_at(moment, settings)
            assert decision(kept) == decision(fresh), moment
            moment += timedelta(minutes=step)
            checked += 1
        return checked

    assert run(walk()) == 200
