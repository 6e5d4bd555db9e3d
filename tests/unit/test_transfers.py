"""Transfer rules (product.md §4): amounts, bank hours with maintenance, payee account fields."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.business_days import BusinessCalendar
from domain.maintenance import MaintenancePolicy, active_window, operator_window
from domain.policy import LoanPolicy
from domain.transfers import (
    JST,
    PayeeFieldErrors,
    TransferError,
    TransferPolicy,
    arrival,
    arrival_text,
    bank_send_time,
    check_amount,
    check_may_borrow,
    parse_amount,
    parse_payee,
    read_amount,
)

POLICY = TransferPolicy()
# 2026-11-23 (Mon) is 勤労感謝の日; 2026-11-20 is a Friday.
HOLIDAYS = {date(2026, 11, 3), date(2026, 11, 23), date(2027, 1, 11)}
CALENDAR = BusinessCalendar.for_policy(LoanPolicy(), HOLIDAYS.__contains__)


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


# --- amounts ------------------------------------------------------------------------------------------

# (typed text, available credit, expected amount or the start of the message)
AMOUNT_CASES = [
    ("1000", 500_000, 1_000),
    ("10000", 500_000, 10_000),
    ("10,000", 500_000, 10_000),
    (" 30000 ", 500_000, 30_000),
    ("01000", 500_000, 1_000),
    ("500000", 500_000, 500_000),
    ("123000", 123_456, 123_000),  # the available credit rounded down to the unit
    ("", 500_000, "お借入れ金額を入力してください"),
    ("0", 500_000, "お借入れは1,000円から"),
    ("999", 500_000, "お借入れは1,000円から"),
    ("1500", 500_000, "お借入れ金額は1,000円単位"),
    ("1,500", 500_000, "お借入れ金額は1,000円単位"),
    ("-1000", 500_000, "お借入れ金額にマイナスは使えません"),
    ("\u22121000", 500_000, "お借入れ金額にマイナスは使えません"),  # U+2212 MINUS SIGN
    ("－1000", 500_000, "お借入れ金額にマイナスは使えません"),
    ("１０００", 500_000, 1_000),  # full-width just works (product.md §11, NFKC)
    ("１０，０００円", 500_000, 10_000),
    ("￥３０，０００", 500_000, 30_000),
    ("١٠٠٠", 500_000, "お借入れ金額は数字（0〜9）"),  # Arabic-Indic: int() would accept this
    ("۱۰۰۰", 500_000, "お借入れ金額は数字（0〜9）"),
    ("1e4", 500_000, "お借入れ金額は数字だけ"),
    ("1e309", 500_000, "お借入れ金額は数字だけ"),
    ("1000.0", 500_000, "お借入れ金額は整数で入力してください（小数は使えません）"),
    ("+1000", 500_000, "お借入れ金額は数字だけ"),
    ("NaN", 500_000, "お借入れ金額は数字だけ"),
    ("10 000", 500_000, "お借入れ金額は数字だけ"),
    ("1000\u200b", 500_000, "お借入れ金額に使えない文字"),
    ("1000\x00", 500_000, "お借入れ金額に使えない文字"),
    ("1" * 10_000, 500_000, "お借入れ金額の桁数が多すぎます"),
    ("99999999999", 500_000, "お借入れ金額の桁数が多すぎます"),
    ("501000", 500_000, "ご利用可能額を超えています。500,000円まで"),
    ("124000", 123_456, "ご利用可能額を超えています。123,000円まで"),
    ("1000", 999, "現在お借入れいただける金額"),
    ("1000", 0, "現在お借入れいただける金額"),
    ("1000", -5_000, "現在お借入れいただける金額"),
]


@pytest.mark.parametrize(("text", "available", "expected"), AMOUNT_CASES)
def test_amounts(text, available, expected):
    if isinstance(expected, int):
        assert read_amount(text, available, POLICY) == expected
    else:
        with pytest.raises(TransferError) as caught:
            read_amount(text, available, POLICY)
        assert caught.value.message.startswith(expected), caught.value.message
        assert caught.value.field == "amount"


def test_check_amount_takes_the_policy_numbers():
    policy = TransferPolicy(unit=10_000, minimum=20_000, quick_picks=(20_000,))
    assert check_amount(30_000, 100_000, policy) == 30_000
    with pytest.raises(TransferError, match="20,000円から、10,000円単位"):
        check_amount(10_000, 100_000, policy)
    with pytest.raises(TransferError, match="10,000円単位"):
        check_amount(25_000, 100_000, policy)
    assert parse_amount("1,000,000", policy) == 1_000_000


@pytest.mark.parametrize(("available", "picks"), [
    (500_000, (10_000, 30_000, 50_000, 100_000, 500_000)),
    (100_000, (10_000, 30_000, 50_000, 100_000)),
    (45_500, (10_000, 30_000, 45_000)),
    (5_000, (5_000,)),
    (999, ()),
    (0, ()),
])
def test_quick_picks_fit_the_available_credit(available, picks):
    assert POLICY.picks(available) == picks


@pytest.mark.parametrize(("status", "reason", "message"), [
    ("borrowing_stopped", "現在お借入れを停止しています。", "現在お借入れを停止しています。"),
    ("suspended", "", "現在お借入れはできません。"),
    ("closed", "ご契約は終了しています。", "ご契約は終了しています。"),
])
def test_only_active_members_may_borrow(status, reason, message):
    check_may_borrow("active", "")
    with pytest.raises(TransferError) as caught:
        check_may_borrow(status, reason)
    assert caught.value.message == message


@pytest.mark.parametrize("bad", [
    dict(unit=0), dict(minimum=1_500), dict(bank_open_minute=900, bank_cutoff_minute=800),
    dict(quick_picks=(1_500,)), dict(morning_send_minute=24 * 60),
])
def test_policy_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        TransferPolicy(**bad)


# --- bank hours -----------------------------------------------------------------------------------------

# (requested at, JST; 24-hour bank?; expected send time, JST or "now")
TIMING_CASES = [
    ("2026-11-20 00:00:00", False, "2026-11-20 09:30"),  # Friday before opening: 09:30 that day
    ("2026-11-20 08:59:59", False, "2026-11-20 09:30"),
    ("2026-11-20 09:00:00", False, "now"),  # bank hours: at once
    ("2026-11-20 12:00:00", False, "now"),
    ("2026-11-20 14:49:59", False, "now"),
    ("2026-11-20 14:50:00", False, "2026-11-24 09:30"),  # after 14:50: next business day (Mon 23 is a holiday)
    ("2026-11-20 23:59:59", False, "2026-11-24 09:30"),
    ("2026-11-21 10:00:00", False, "2026-11-24 09:30"),  # Saturday
    ("2026-11-22 08:00:00", False, "2026-11-24 09:30"),  # Sunday before opening: still the next business day
    ("2026-11-23 08:00:00", False, "2026-11-24 09:30"),  # a national holiday
    ("2026-11-24 09:15:00", False, "now"),
    ("2026-12-30 15:00:00", False, "2027-01-04 09:30"),  # 年末年始: Dec 31 – Jan 3 closed
    ("2026-12-31 08:00:00", False, "2027-01-04 09:30"),
    ("2027-01-08 16:00:00", False, "2027-01-12 09:30"),  # Fri → Mon 11 成人の日 → Tue
    ("2026-11-21 03:00:00", True, "now"),  # 24-hour bank: always at once
    ("2026-11-23 23:59:00", True, "now"),
    ("2027-01-01 12:00:00", True, "now"),
]


@pytest.mark.parametrize(("requested", "instant", "expected"), TIMING_CASES)
def test_bank_hours(requested, instant, expected):
    now = jst(requested)
    result = arrival(now, instant, CALENDAR, POLICY)
    if expected == "now":
        assert result.immediate and result.send_at == now
    else:
        assert not result.immediate
        assert result.send_at == jst(expected)
    assert result.borrowed_on == result.send_at.astimezone(JST).date()
    assert bank_send_time(now, instant, CALENDAR, POLICY) == result.send_at


def test_bank_hours_follow_the_policy():
    policy = TransferPolicy(bank_open_minute=8 * 60, bank_cutoff_minute=15 * 60, morning_send_minute=8 * 60 + 15)
    assert arrival(jst("2026-11-20 07:00"), False, CALENDAR, policy).send_at == jst("2026-11-20 08:15")
    assert arrival(jst("2026-11-20 14:55"), False, CALENDAR, policy).immediate


def test_bank_hours_need_an_aware_time():
    with pytest.raises(ValueError):
        arrival(datetime(2026, 11, 20, 12), False, CALENDAR, POLICY)


MAINTENANCE = MaintenancePolicy()


def _windows(*operator):
    windows = [operator_window(jst(a), jst(b)) for a, b in operator]

    def end(moment: datetime):
        window = active_window(moment, MAINTENANCE, windows)
        return window.end if window else None

    return end


# (requested at, 24-hour bank?, operator windows, expected send time)
MAINTENANCE_CASES = [
    # queued to Tue 09:30, an operator window 09:00–10:00 that morning: sent when it ends
    ("2026-11-20 15:00", False, [("2026-11-24 09:00", "2026-11-24 10:00")], "2026-11-24 10:00"),
    # a window past the cutoff: bank hours are applied again from its end → the next business day
    ("2026-11-20 15:00", False, [("2026-11-24 09:00", "2026-11-24 15:00")], "2026-11-25 09:30"),
    # a 24-hour bank during the weekly Monday 00:00–07:00 window (Nov 30 is an ordinary Monday)
    ("2026-11-30 03:00", True, [], "2026-11-30 07:00"),
    # an other bank's 09:30 send on that Monday is after the weekly window: unchanged
    ("2026-11-30 03:00", False, [], "2026-11-30 09:30"),
    # windows that chain: one ends when the next begins
    ("2026-11-30 03:00", True, [("2026-11-30 07:00", "2026-11-30 08:00")], "2026-11-30 08:00"),
]


@pytest.mark.parametrize(("requested", "instant", "windows", "expected"), MAINTENANCE_CASES)
def test_a_transfer_queued_into_maintenance_is_sent_after_it(requested, instant, windows, expected):
    result = arrival(jst(requested), instant, CALENDAR, POLICY, _windows(*windows))
    assert result.send_at == jst(expected)
    assert not result.immediate


def test_a_window_that_never_ends_is_an_error():
    with pytest.raises(ValueError):
        arrival(jst("2026-11-20 12:00"), True, CALENDAR, POLICY, lambda t: t + timedelta(hours=1))


@pytest.mark.parametrize(("requested", "instant", "text"), [
    ("2026-11-20 12:00", True, "すぐにお振込みします（通常10秒程度で着金）"),
    ("2026-11-20 08:00", False, "本日 9:30ごろお振込みします"),
    ("2026-11-20 15:00", False, "11月24日(火) 9:30ごろお振込みします"),
])
def test_arrival_text(requested, instant, text):
    now = jst(requested)
    assert arrival_text(arrival(now, instant, CALENDAR, POLICY), now) == text


def test_arrival_is_in_utc_whatever_the_input_zone():
    now = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 15:00 JST
    assert arrival(now, False, CALENDAR, POLICY).send_at == jst("2026-11-24 09:30")


# --- payee account fields ---------------------------------------------------------------------------------

KNOWN = {"0009", "0033", "0005"}.__contains__
GOOD = dict(bank_code="0009", branch_code="123", account_type="1", account_number="1234567", holder_name="ヤマダ タロウ")


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, ("0009", "123", "1", "1234567", "ヤマダ\u3000タロウ")),
    (dict(bank_code="００３３", branch_code="１２３", account_number="１２３４５６７"), ("0033", "123", "1", "1234567", None)),
    (dict(account_type="当座"), (None, None, "2", None, None)),
    (dict(account_type="普通"), (None, None, "1", None, None)),
    (dict(holder_name="ﾔﾏﾀﾞ ﾀﾛｳ"), (None, None, None, None, "ヤマダ\u3000タロウ")),  # half-width kana
    (dict(holder_name="やまだ\u3000たろう"), (None, None, None, None, "ヤマダ\u3000タロウ")),  # hiragana
    (dict(holder_name="  ヤマダ   タロウ "), (None, None, None, None, "ヤマダ\u3000タロウ")),
    (dict(holder_name="サトー ヴィクトル"), (None, None, None, None, "サトー\u3000ヴィクトル")),
])
def test_payee_accepted(changes, expected):
    payee = parse_payee(**{**GOOD, **changes}, known_bank=KNOWN, policy=POLICY)
    got = (payee.bank_code, payee.branch_code, payee.account_type, payee.account_number, payee.holder_name)
    for value, want in zip(got, expected):
        if want is not None:
            assert value == want


@pytest.mark.parametrize(("changes", "field", "message"), [
    (dict(bank_code=""), "bank_code", "金融機関コードを入力してください"),
    (dict(bank_code="009"), "bank_code", "金融機関コードは4桁の数字"),
    (dict(bank_code="00091"), "bank_code", "金融機関コードは4桁の数字"),
    (dict(bank_code="٠٠٠٩"), "bank_code", "金融機関コードは4桁の数字"),
    (dict(bank_code="9999"), "bank_code", "この金融機関コードのお振込先は登録できません"),
    (dict(branch_code="12"), "branch_code", "支店コードは3桁の数字"),
    (dict(branch_code="12a"), "branch_code", "支店コードは3桁の数字"),
    (dict(account_type="3"), "account_type", "口座種別は「普通」か「当座」"),
    (dict(account_type=""), "account_type", "口座種別は「普通」か「当座」"),
    (dict(account_number="123456"), "account_number", "口座番号は7桁の数字で入力してください（7桁に満たない番号は先頭に0"),
    (dict(account_number="12345678"), "account_number", "口座番号は7桁の数字"),
    (dict(account_number="123-4567"), "account_number", "口座番号は7桁の数字"),
    (dict(holder_name=""), "holder_name", "口座名義（カナ）を入力してください"),
    (dict(holder_name="山田 太郎"), "holder_name", "口座名義は通帳に記載のとおりカタカナ"),
    (dict(holder_name="YAMADA TARO"), "holder_name", "口座名義は通帳に記載のとおりカタカナ"),
    (dict(holder_name="ヤマダ\u200bタロウ"), "holder_name", "口座名義に使えない文字"),
    (dict(holder_name="ヤマダ\nタロウ"), "holder_name", "口座名義に使えない文字"),
    (dict(holder_name="ア" * 31), "holder_name", "口座名義は30文字以内"),
])
def test_payee_refused(changes, field, message):
    with pytest.raises(PayeeFieldErrors) as caught:
        parse_payee(**{**GOOD, **changes}, known_bank=KNOWN, policy=POLICY)
    assert set(caught.value.errors) == {field}
    assert caught.value.errors[field].startswith(message), caught.value.errors[field]


def test_payee_reports_every_wrong_field_at_once():
    with pytest.raises(PayeeFieldErrors) as caught:
        parse_payee("", "", "", "", "", known_bank=KNOWN, policy=POLICY)
    assert set(caught.value.errors) == {"bank_code", "branch_code", "account_type", "account_number", "holder_name"}


def test_masked_account_number():
    payee = parse_payee(**GOOD, known_bank=KNOWN, policy=POLICY)
    assert payee.masked_number == "****567"
    assert payee.type_label == "普通"


def test_the_changed_payee_cap_lasts_its_hours_and_counts_what_was_asked():
    from domain.transfers import changed_payee_cap, changed_payee_text, changed_payee_until

    policy = TransferPolicy(changed_payee_hours=24, changed_payee_cap=50_000)
    changed = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 11:00 JST
    until = changed_payee_until(changed, changed + timedelta(hours=23, minutes=59), policy)
    assert until == changed + timedelta(hours=24)
    assert changed_payee_until(changed, changed + timedelta(hours=24), policy) is None
    assert changed_payee_cap(until, 30_000, policy).left == 20_000
    assert changed_payee_cap(until, 60_000, policy).left == 0
    assert "11月21日 11:00まで" in changed_payee_text(changed_payee_cap(until, 0, policy), policy)
    with pytest.raises(ValueError):
        TransferPolicy(changed_payee_cap=50_500)  # not a multiple of the ¥1,000 unit
