"""Pure rules behind /settings: postcode, address, workplace, email, Web-ID, password feedback,
due-day change, reminder schedule and verification codes (product.md §8, §9)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from domain.auth_policy import AuthPolicy
from domain.credentials import CredentialFormatError, CredentialPolicy, parse_new_web_id, web_id_key
from domain.due_day_change import plan_due_day_change
from domain.errors import LoanError
from domain.password_strength import StrengthPolicy, assess, require_acceptable
from domain.policy import MONTH_END
from domain.profile import (
    ProfileError,
    ProfilePolicy,
    format_postcode,
    mask_email,
    parse_address,
    parse_email,
    parse_phone,
    parse_postcode,
    parse_profile,
    parse_workplace,
)
from domain.reminders import (
    ReminderError,
    ReminderPolicy,
    ReminderPreference,
    due_reminder_text,
    next_reminder,
    overdue_notice_text,
    parse_preference,
    send_at,
)
from domain.verification import CodeCheck, CodeState, check_code, check_message, code_digest
from tests.unit.loan_helpers import CALENDAR

PROFILE = ProfilePolicy()
UTC = timezone.utc


# --- postcode ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, digits", [
    ("1000001", "1000001"),
    ("100-0001", "1000001"),
    ("〒100-0001", "1000001"),
    ("１００－０００１", "1000001"),          # full-width digits and hyphen (NFKC)
    ("100\u22120001", "1000001"),            # U+2212 MINUS SIGN
    ("100\u30fc0001", "1000001"),            # U+30FC prolonged sound mark, what an IME gives
    ("100ｰ0001", "1000001"),                 # half-width prolonged sound mark
    (" 100 0001 ", "1000001"),
    ("１００\u30000001", "1000001"),          # ideographic space
])
def test_postcode_accepts_what_people_type(raw, digits):
    assert parse_postcode(raw, PROFILE) == digits
    assert format_postcode(digits) == "100-0001"


@pytest.mark.parametrize("raw", [
    "", "   ", "100-000", "10000011", "100-00O1", "١٠٠٠٠٠١", "100\u200b0001", "100\x000001",
    "-1000001x", "1e30001", "9" * 10_000,
])
def test_postcode_refuses_with_a_message(raw):
    with pytest.raises(ProfileError) as err:
        parse_postcode(raw, PROFILE)
    assert err.value.field == "postcode"
    assert "郵便番号" in err.value.message


# --- address, workplace, phone ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [
    ("東京都千代田区丸の内１－１－１", "東京都千代田区丸の内1-1-1"),
    ("  大阪府大阪市北区梅田２丁目　ｶｲｲﾝﾋﾞﾙ ５Ｆ ", "大阪府大阪市北区梅田2丁目 カイインビル 5F"),
    ("北海道札幌市中央区センター1条", "北海道札幌市中央区センター1条"),   # ー inside words is kept
])
def test_address_is_normalised(raw, stored):
    assert parse_address(raw, PROFILE) == stored


@pytest.mark.parametrize("raw, fragment", [
    ("", "住所を入力"), ("東京都\n千代田区", "使えない文字"), ("東京都\u200b千代田区", "使えない文字"),
    ("あ" * 101, "100文字以内"), ("x" * 10_000, "長すぎ"),
])
def test_address_refusals(raw, fragment):
    with pytest.raises(ProfileError) as err:
        parse_address(raw, PROFILE)
    assert fragment in err.value.message and err.value.field == "address"


@pytest.mark.parametrize("raw, digits", [
    ("03-1234-5678", "0312345678"), ("０３－１２３４－５６７８", "0312345678"), ("(03)1234-5678", "0312345678"),
    ("090\u30fc1234\u30fc5678", "09012345678"), ("0120-000-000", "0120000000"), ("050 1234 5678", "05012345678"),
    ("03\u22121234\u22125678", "0312345678"),
])
def test_phone_numbers(raw, digits):
    assert parse_phone(raw, PROFILE) == digits


@pytest.mark.parametrize("raw", ["3-1234-5678", "031234567", "090123456789", "+81312345678", "٠٣١٢٣٤٥٦٧٨", "03-1234-567a"])
def test_bad_phone_numbers(raw):
    with pytest.raises(ProfileError) as err:
        parse_phone(raw, PROFILE)
    assert "0から始まる10〜11桁" in err.value.message


def test_workplace_both_or_neither():
    assert parse_workplace("", "", PROFILE) == ("", "")
    assert parse_workplace("株式会社カイイン　商事", "０３－１２３４－５６７８", PROFILE) == ("株式会社カイイン 商事", "0312345678")
    with pytest.raises(ProfileError) as err:
        parse_workplace("", "03-1234-5678", PROFILE)
    assert err.value.field == "workplace_name"
    with pytest.raises(ProfileError) as err:
        parse_workplace("株式会社カイイン", "", PROFILE)
    assert err.value.field == "workplace_phone"
    with pytest.raises(ProfileError) as err:
        parse_workplace("社" * 61, "03-1234-5678", PROFILE)
    assert "60文字以内" in err.value.message


def test_whole_profile():
    profile = parse_profile("１００－０００１", "東京都千代田区丸の内１－１", "カイイン商事", "03-1234-5678", PROFILE)
    assert (profile.postcode, profile.address, profile.workplace_phone) == ("1000001", "東京都千代田区丸の内1-1", "0312345678")


# --- email -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, stored", [
    ("taro@example.jp", "taro@example.jp"), ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
    (" Taro.Yamada+loan@Example.CO.JP ", "Taro.Yamada+loan@example.co.jp"),
])
def test_email_accepted(raw, stored):
    assert parse_email(raw, PROFILE) == stored


@pytest.mark.parametrize("raw", [
    "", "taro", "taro@", "@example.jp", "taro@example", "taro@@example.jp", "taro..y@example.jp", ".taro@example.jp",
    "taro@-example.jp", "taro@example.123", "たろう@example.jp", "taro@例え.jp", "taro@exa mple.jp\n",
    "a" * 65 + "@example.jp", "taro@" + "a" * 250 + ".jp",
])
def test_email_refused(raw):
    with pytest.raises(ProfileError) as err:
        parse_email(raw, PROFILE)
    assert err.value.field == "email" and "メールアドレス" in err.value.message


def test_mask_email():
    assert mask_email("taro@example.jp") == "t***@example.jp"


# --- Web-ID (rules in domain.credentials; the decision is documented in web_id_key) -----------------------

CRED = CredentialPolicy()


@pytest.mark.parametrize("raw, ok", [
    ("abcdefg", False), ("abcdefgh", True), ("a" * 32, True), ("a" * 33, False), ("ＡＢＣｄｅｆ１２", True),
    ("tarо2024", False),  # Cyrillic о
    ("taro 2024", False), ("taro_2024", False), ("1234567890", False),  # card-number shape
])
def test_web_id_rules(raw, ok):
    if ok:
        assert parse_new_web_id(raw, CRED)
    else:
        with pytest.raises(CredentialFormatError):
            parse_new_web_id(raw, CRED)


def test_web_id_uniqueness_is_case_insensitive_but_the_id_keeps_its_case():
    assert parse_new_web_id("Taro2024x", CRED) == "Taro2024x"
    assert web_id_key("Taro2024x") == web_id_key("tARO2024X")


# --- password feedback -------------------------------------------------------------------------------

STRENGTH = StrengthPolicy()


@pytest.mark.parametrize("password, acceptable, level", [
    ("short", False, 0), ("1234567", False, 0), ("password", False, 0), ("PASSWORD", False, 0),
    ("12345678", False, 0), ("aaaaaaaaaa", False, 0), ("hgfedcba", False, 0),
    ("kumo-tsuki", True, 1), ("kumo-tsuki-ha", True, 2), ("kumo tsuki hana umi", True, 3),
])
def test_password_strength_is_length_based(password, acceptable, level):
    strength = assess(password, CRED, STRENGTH)
    assert (strength.acceptable, strength.level) == (acceptable, level)
    assert strength.message


def test_password_needs_no_composition_rules():
    assert assess("すいへいりーべぼくのふね", CRED, STRENGTH).acceptable  # kana only, 12 characters
    assert assess("correcthorsebatterystaple", CRED, STRENGTH).level == 3


def test_password_may_not_repeat_the_account():
    context = ("taro2024", "taro.yamada@example.jp", "1234567890", "19900401")
    for bad in ("taro2024!", "xx-taro.yamada", "my19900401", "Taro2024Taro"):
        with pytest.raises(CredentialFormatError) as err:
            require_acceptable(bad, CRED, STRENGTH, context=context)
        assert "ログインID" in err.value.message
    require_acceptable("kumo-tsuki-hana", CRED, STRENGTH, context=context)


def test_too_short_says_how_many_more():
    assert "あと3文字" in assess("abcde", CRED, STRENGTH).message


# --- due-day change ----------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, month, current, first", [
    # current cycle kept; the next one is the following month on the new day, business-day shifted
    (5, 25, (2025, 6), date(2025, 6, 5), date(2025, 7, 25)),
    (5, MONTH_END, (2025, 6), date(2025, 6, 5), date(2025, 7, 31)),
    (25, 15, (2025, 5), date(2025, 5, 26), date(2025, 6, 16)),    # 5/25 Sun → 26; 6/15 Sun → 16
    (MONTH_END, 5, (2025, 4), date(2025, 4, 30), date(2025, 5, 7)),  # 5/5, 5/6 holidays → 7
    (15, 5, (2025, 12), date(2025, 12, 15), date(2026, 1, 5)),    # year end: Jan 5 is a Monday
])
def test_due_day_change_applies_from_the_next_due_date(old, new, month, current, first):
    change = plan_due_day_change(old, new, due_month=month, current_due_date=current, calendar=CALENDAR)
    assert change.current_due_date == current and change.first_new_due_date == first
    assert f"{first.month}月{first.day}日の返済期日から" in change.summary()


def test_due_day_change_without_a_balance_applies_to_the_next_borrowing():
    change = plan_due_day_change(5, 15, due_month=None, current_due_date=None, calendar=CALENDAR)
    assert change.first_new_due_date is None and "次回のお借入れ後" in change.summary()


def test_due_day_change_to_the_same_day_is_refused():
    with pytest.raises(LoanError, match="すでに毎月5日"):
        plan_due_day_change(5, 5, due_month=None, current_due_date=None, calendar=CALENDAR)


# --- reminder preference and schedule ------------------------------------------------------------------

REMIND = ReminderPolicy()


@pytest.mark.parametrize("enabled, days, hour, expected", [
    ("on", "3", "9", ReminderPreference(True, 3, 9)),
    ("off", "7", "0", ReminderPreference(False, 7, 0)),
    ("on", "１", "２３", ReminderPreference(True, 1, 23)),
])
def test_reminder_form(enabled, days, hour, expected):
    assert parse_preference(enabled, days, hour, REMIND) == expected


@pytest.mark.parametrize("enabled, days, hour, field", [
    ("yes", "3", "9", "enabled"), ("on", "0", "9", "days_before"), ("on", "8", "9", "days_before"),
    ("on", "-1", "9", "days_before"), ("on", "3.0", "9", "days_before"), ("on", "٣", "9", "days_before"),
    ("on", "", "9", "days_before"), ("on", "3", "24", "hour"), ("on", "3", "", "hour"), ("on", "3", "1e1", "hour"),
    ("on", "3", "9" * 5000, "hour"),
])
def test_reminder_form_refusals(enabled, days, hour, field):
    with pytest.raises(ReminderError) as err:
        parse_preference(enabled, days, hour, REMIND)
    assert err.value.field == field and err.value.message


@pytest.mark.parametrize("due, days, hour, utc", [
    (date(2026, 12, 7), 3, 9, datetime(2026, 12, 4, 0, 0, tzinfo=UTC)),       # 12/4 09:00 JST
    (date(2026, 12, 7), 1, 8, datetime(2026, 12, 5, 23, 0, tzinfo=UTC)),      # 12/6 08:00 JST = 12/5 23:00 UTC
    (date(2027, 1, 5), 7, 0, datetime(2026, 12, 28, 15, 0, tzinfo=UTC)),      # across the year end
    (date(2026, 3, 1), 1, 20, datetime(2026, 2, 28, 11, 0, tzinfo=UTC)),      # not a leap year
    (date(2028, 3, 1), 1, 20, datetime(2028, 2, 29, 11, 0, tzinfo=UTC)),      # leap year
])
def test_reminder_instant_in_utc(due, days, hour, utc):
    assert send_at(due, ReminderPreference(True, days, hour)) == utc


def test_reminder_instant_ignores_the_server_time_zone():
    code = (
        "from datetime import date; from domain.reminders import send_at, ReminderPreference;"
        "print(send_at(date(2026, 12, 7), ReminderPreference(True, 3, 9)).isoformat())"
    )
    for tz in ("UTC", "America/Los_Angeles", "Asia/Tokyo", "Europe/London"):
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": tz}, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == "2026-12-04T00:00:00+00:00", tz


def test_next_reminder_due_then_deadline():
    pref = ReminderPreference(True, 3, 9)
    r = next_reminder(pref, next_due_date=date(2026, 12, 7), overdue_since=None)
    assert r.kind == "due" and r.key == "due:2026-12-07"
    assert not r.is_due(datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC))
    assert r.is_due(datetime(2026, 12, 4, 0, 0, tzinfo=UTC))
    assert r.is_due(datetime(2026, 12, 7, 14, 59, tzinfo=UTC))        # 23:59 JST on the due date: catch up
    assert not r.is_due(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))     # the due date is over


def test_overdue_member_gets_the_overdue_notice_instead():
    pref = ReminderPreference(True, 3, 9)
    r = next_reminder(pref, next_due_date=date(2026, 12, 7), overdue_since=date(2026, 11, 6))
    assert r.kind == "overdue" and r.key == "overdue:2026-11-06" and r.deadline is None
    assert r.send_at == datetime(2026, 11, 6, 0, 0, tzinfo=UTC)
    assert r.is_due(datetime(2026, 11, 20, tzinfo=UTC))


def test_no_reminder_when_off_or_nothing_due():
    assert next_reminder(ReminderPreference(False, 3, 9), next_due_date=date(2026, 12, 7), overdue_since=None) is None
    assert next_reminder(ReminderPreference(False, 3, 9), next_due_date=None, overdue_since=date(2026, 11, 6)) is None
    assert next_reminder(ReminderPreference(True, 3, 9), next_due_date=None, overdue_since=None) is None


def test_reminder_texts():
    text = due_reminder_text(name="山田 太郎", due=date(2026, 12, 7), amount_due=13_000, paid=0,
                             link="https://kaiin.example.jp/repayments/new", settings_url="https://kaiin.example.jp/settings",
                             app_name="カイイン", lender_name="カイイン・ファイナンス", phone="0120-000-000")
    assert "2026年12月7日(月)" in text.body and "13,000円" in text.body and "/repayments/new" in text.body
    notice = overdue_notice_text(name="山田 太郎", missed=date(2026, 11, 5), arrears=4_000, late_rate="20.00%",
                                 link="l", settings_url="s", app_name="カイイン", lender_name="x", phone="p")
    assert "4,000円" in notice.body and "11月5日" in notice.body and notice.kind == "reminder_overdue"


# --- verification codes -------------------------------------------------------------------------------

AUTH = AuthPolicy()
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
KEY = b"k" * 32


def _state(**changes):
    values = dict(digest=code_digest(KEY, "7", "123456"), expires_at=NOW + timedelta(minutes=10), used_at=None, tries=0)
    values.update(changes)
    return CodeState(**values)


@pytest.mark.parametrize("state, entered, result", [
    (_state(), "123456", CodeCheck.OK),
    (_state(), "654321", CodeCheck.WRONG),
    (_state(expires_at=NOW), "123456", CodeCheck.EXPIRED),
    (_state(used_at=NOW), "123456", CodeCheck.USED),
    (_state(tries=5), "123456", CodeCheck.NO_TRIES),
    (None, "123456", CodeCheck.MISSING),
])
def test_code_checks(state, entered, result):
    assert check_code(state, code_digest(KEY, "7", entered), now=NOW, policy=AUTH) is result


def test_code_digest_is_bound_to_its_row():
    assert code_digest(KEY, "7", "123456") != code_digest(KEY, "8", "123456")


@pytest.mark.parametrize("result, left, fragment", [
    (CodeCheck.WRONG, 2, "あと2回"), (CodeCheck.WRONG, 0, "5回間違えた"), (CodeCheck.EXPIRED, 0, "有効期限（10分）"),
    (CodeCheck.USED, 0, "すでに使われています"), (CodeCheck.NO_TRIES, 0, "使えなくなりました"),
])
def test_code_messages(result, left, fragment):
    assert fragment in check_message(result, left=left, policy=AUTH)
