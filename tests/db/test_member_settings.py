"""Settings use cases on both engines: every setting round-trips; refusals change nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from db import mail
from db import member_settings as ms
from db.auth import AuthContext
from db.tables import Member
from domain.credentials import CredentialPolicy, parse_new_web_id
from domain.profile import ProfilePolicy, parse_profile
from domain.reminders import ReminderPolicy, ReminderPreference
from tests.conftest import make_member, run
from web.app import hasher

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
REMIND = ReminderPolicy()


def ctx(settings) -> AuthContext:
    return AuthContext(now=NOW, policy=settings.auth_policy(), hasher=hasher(settings), code_key=b"k" * 32,
                       app_name=settings.app_name, support_phone=settings.lender_phone)


def test_profile_round_trips(settings):
    member = make_member(settings)
    assert run(ms.profile_of(member)) is None
    first = parse_profile("１００－０００１", "東京都千代田区丸の内１－１", "", "", ProfilePolicy())
    run(ms.save_profile(member, first, now=NOW))
    assert run(ms.profile_of(member)) == first
    second = parse_profile("530-0001", "大阪府大阪市北区梅田2-2", "カイイン商事", "06-1234-5678", ProfilePolicy())
    run(ms.save_profile(member, second, now=NOW))
    assert run(ms.profile_of(member)) == second
    view = run(ms.settings_view(member, REMIND))
    assert view.profile == second and view.due_day == "5" and view.web_id == "taro2024"


def test_reminder_round_trips(settings):
    member = make_member(settings)
    view = run(ms.settings_view(member, REMIND))
    assert view.reminder_is_default and view.reminder == ReminderPreference(True, 3, 9)
    run(ms.save_reminder(member, ReminderPreference(False, 7, 21), now=NOW))
    assert run(ms.reminder_of(member, REMIND)) == ReminderPreference(False, 7, 21)
    run(ms.save_reminder(member, ReminderPreference(True, 1, 6), now=NOW))
    view = run(ms.settings_view(member, REMIND))
    assert view.reminder == ReminderPreference(True, 1, 6) and not view.reminder_is_default


def _web_id(settings, member):
    return run(Member.select(Member.web_id).where(Member.id == member).first().run())["web_id"]


def test_web_id_set_change_and_refusals(settings):
    taro = make_member(settings)
    hana = make_member(settings, card_number="2234567890", web_id=None, password=None, email="hana@example.jp")
    changed = run(ms.set_web_id(hana, parse_new_web_id("Hana2026x", CredentialPolicy()), ctx(settings)))
    assert (changed.old, changed.new) == (None, "Hana2026x") and _web_id(settings, hana) == "Hana2026x"
    [notice] = run(mail.newest(limit=5, to_addr="hana@example.jp"))
    assert notice.kind == "web_id_changed" and "設定されました" in notice.body and "Hana2026x" not in notice.body
    # a taken Web-ID in another case is refused, and nothing changes
    with pytest.raises(ms.SettingRefused, match="すでに使われています"):
        run(ms.set_web_id(hana, "TARO2024", ctx(settings)))
    assert _web_id(settings, hana) == "Hana2026x"
    with pytest.raises(ms.SettingRefused, match="同じです"):
        run(ms.set_web_id(taro, "taro2024", ctx(settings)))
    # changing only the case of one's own Web-ID is allowed (it stays case-sensitive at sign-in)
    run(ms.set_web_id(taro, "Taro2024", ctx(settings)))
    assert _web_id(settings, taro) == "Taro2024"


def test_web_id_needs_a_verified_email(settings):
    member = make_member(settings, web_id=None, password=None, email=None)
    with pytest.raises(ms.SettingRefused, match="メールアドレスを登録"):
        run(ms.set_web_id(member, "Newcomer01", ctx(settings)))
    assert _web_id(settings, member) is None


def test_case_variants_racing_cannot_both_win(settings):
    a = make_member(settings, web_id=None, password=None)
    b = make_member(settings, card_number="2234567890", web_id=None, password=None)

    async def race():
        return await asyncio.gather(
            ms.set_web_id(a, "RaceWinner1", ctx(settings)), ms.set_web_id(b, "racewinner1", ctx(settings)),
            return_exceptions=True,
        )

    results = run(race())
    assert sum(isinstance(r, ms.SettingRefused) for r in results) == 1, results


def test_the_database_itself_refuses_a_case_variant(settings):
    make_member(settings)
    with pytest.raises(Exception) as err:
        run(Member.insert(Member(member_no="99999999", name="x", web_id="TARO2024", created_at=NOW)).run())
    assert ms._is_unique_violation(err.value)
