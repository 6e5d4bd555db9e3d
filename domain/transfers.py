"""Borrowing by instant transfer (振込キャッシング / 瞬フリ): amounts, bank hours and the payee account.

Three groups of pure rules (product.md §4), each taking its numbers from a ``TransferPolicy``:

- the amount: typed as text, read strictly (ASCII digits, optional ``,`` grouping; never ``int()`` on
  raw input), then checked against the unit, the minimum and what may be borrowed now;
- the time the money is sent: at once for 24-hour banks (全銀モアタイム), otherwise by bank hours on
  business days, and never inside a maintenance window;
- the payee account fields: bank code, branch, type, number and the holder's name in katakana.

Full-width digits work everywhere (product.md §11): amounts through the shared ``domain.money`` parser,
the bank-account fields through NFKC.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from domain.business_days import BusinessCalendar
from domain.errors import DomainError
from domain.money import parse_yen
from domain.notices import Notice
from domain.notices import jst as notice_time

JST = ZoneInfo("Asia/Tokyo")

#: Account types as stored (全銀 codes) and as shown.
ACCOUNT_TYPES: dict[str, str] = {"1": "普通", "2": "当座"}


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    """The numbers of §4; ``web/settings.py`` builds one from its fields."""

    unit: int = 1_000  #: amounts are multiples of this
    minimum: int = 1_000
    max_digits: int = 10  #: longer input is refused before it is read as a number
    quick_picks: tuple[int, ...] = (10_000, 30_000, 50_000, 100_000)
    bank_open_minute: int = 9 * 60  #: weekdays from 09:00 JST other banks take transfers at once…
    bank_cutoff_minute: int = 14 * 60 + 50  #: …until 14:50 (exclusive)
    morning_send_minute: int = 9 * 60 + 30  #: queued transfers go out at 09:30 of a business day
    holder_name_max: int = 30  #: characters, as the 全銀 format allows
    #: for this many hours after the payee account is replaced by another, borrowings to the new one
    #: together stay within ``changed_payee_cap``: whoever took over a session and changed the account
    #: cannot empty the credit line before the member reads the notice mail (security.md §7 item 41)
    changed_payee_hours: int = 24
    changed_payee_cap: int = 50_000

    def __post_init__(self) -> None:
        if self.unit <= 0 or self.minimum <= 0 or self.minimum % self.unit:
            raise ValueError("unit and minimum must be positive, minimum a multiple of unit")
        if not 0 <= self.bank_open_minute < self.bank_cutoff_minute <= 24 * 60:
            raise ValueError("bank hours must satisfy 0 <= open < cutoff <= 24h")
        if not 0 <= self.morning_send_minute < 24 * 60:
            raise ValueError("morning_send_minute must be a time of day")
        if any(pick <= 0 or pick % self.unit for pick in self.quick_picks):
            raise ValueError("quick picks must be positive multiples of unit")
        if self.changed_payee_hours < 0 or self.changed_payee_cap < 0 or self.changed_payee_cap % self.unit:
            raise ValueError("changed_payee_hours >= 0, changed_payee_cap a non-negative multiple of unit")

    def largest(self, available: int) -> int:
        """The most that may be borrowed out of ``available``: rounded down to the unit."""
        return max(0, available) // self.unit * self.unit

    def picks(self, available: int) -> tuple[int, ...]:
        """The quick-pick amounts that fit ``available`` (plus the largest amount, when it is not one)."""
        top = self.largest(available)
        if top < self.minimum:
            return ()
        chosen = [pick for pick in self.quick_picks if self.minimum <= pick <= top]
        return tuple(chosen + ([top] if top not in chosen else []))


class TransferError(DomainError):
    """A transfer rule said no. ``field`` names the form field the message belongs to ('' = the form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- the amount ---------------------------------------------------------------------------------------

_PLAIN = re.compile("[0-9]+")


def parse_amount(raw: str, policy: TransferPolicy) -> int:
    """Read the amount field with the shared money parser (``domain.money.parse_yen``): digits with optional
    ``,`` grouping, full-width included; a sign, a decimal point, an exponent or anything else is refused.

    Raises:
        TransferError: with a message that says what to type instead.
    """
    return parse_yen(raw, label="お借入れ金額", field="amount", max_digits=policy.max_digits, error=TransferError)


def check_amount(amount: int, available: int, policy: TransferPolicy) -> int:
    """``amount`` if it may be borrowed now out of ``available`` (limit − balance − amounts pending).

    Raises:
        TransferError: below the minimum, not a multiple of the unit, or above what is available.
    """
    top = policy.largest(available)
    if top < policy.minimum:
        raise TransferError("現在お借入れいただける金額（ご利用可能額）がありません。", "amount")
    if amount < policy.minimum:
        raise TransferError(f"お借入れは{policy.minimum:,}円から、{policy.unit:,}円単位でお申し込みいただけます。", "amount")
    if amount % policy.unit:
        raise TransferError(f"お借入れ金額は{policy.unit:,}円単位で入力してください。", "amount")
    if amount > top:
        raise TransferError(
            f"ご利用可能額を超えています。{top:,}円までの金額を入力してください。", "amount")
    return amount


def read_amount(raw: str, available: int, policy: TransferPolicy) -> int:
    """``parse_amount`` then ``check_amount``: what the form, the live check and the confirm step use."""
    return check_amount(parse_amount(raw, policy), available, policy)


@dataclass(frozen=True, slots=True)
class PayeeCap:
    """The cap on borrowings to a payee account that has just replaced another."""

    left: int  #: what may still go to the account before ``until``
    until: datetime  #: aware UTC: when the cap ends


def changed_payee_until(replaced_at: datetime, now: datetime, policy: TransferPolicy) -> datetime | None:
    """When the cap on an account that replaced another at ``replaced_at`` ends (None: it already has)."""
    until = replaced_at + timedelta(hours=policy.changed_payee_hours)
    return until if now < until else None


def changed_payee_cap(until: datetime, borrowed_since: int, policy: TransferPolicy) -> PayeeCap:
    """The cap in force until ``until``, net of ``borrowed_since``: what was asked to be sent to the account
    since it replaced the other (queued, sending or sent)."""
    return PayeeCap(left=max(0, policy.changed_payee_cap - borrowed_since), until=until)


def changed_payee_text(cap: PayeeCap, policy: TransferPolicy) -> str:
    """What the member is told while the cap is in force."""
    until = cap.until.astimezone(JST)
    return (f"振込先口座の変更から{policy.changed_payee_hours}時間（{until.month}月{until.day}日 {until:%H:%M}まで）は、"
            f"安全のため新しい口座へのお借入れは合計{policy.changed_payee_cap:,}円までです。")


def check_may_borrow(status: str, reason: str) -> None:
    """Refuse a member who may not borrow now (borrowing_stopped, suspended, closed, overdue).

    ``status``/``reason`` are ``Position.status``/``Position.status_reason`` of the loan engine.
    """
    if status != "active":
        raise TransferError(reason or "現在お借入れはできません。")


# --- when the money is sent ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    """When a transfer is sent: ``immediate`` means now (the request sends it); else queued to ``send_at``."""

    send_at: datetime  #: aware UTC
    immediate: bool

    @property
    def borrowed_on(self) -> date:
        """The borrowing date: the JST day the money is sent."""
        return self.send_at.astimezone(JST).date()


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), JST).astimezone(ZoneInfo("UTC"))


def bank_send_time(now: datetime, instant_bank: bool, calendar: BusinessCalendar, policy: TransferPolicy) -> datetime:
    """The earliest moment from ``now`` at which the bank takes a transfer (no maintenance considered).

    24-hour bank: ``now``. Other banks, in JST: on a business day before opening → 09:30 that day;
    from opening until the cutoff → ``now``; from the cutoff on, or on a non-business day → 09:30 of the
    next business day.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if instant_bank:
        return now
    local = now.astimezone(JST)
    minute = local.hour * 60 + local.minute
    day = local.date()
    if calendar.is_business_day(day):
        if minute < policy.bank_open_minute:
            return _at(day, policy.morning_send_minute)
        if minute < policy.bank_cutoff_minute:
            return now
    return _at(calendar.after(day), policy.morning_send_minute)


def arrival(
    now: datetime,
    instant_bank: bool,
    calendar: BusinessCalendar,
    policy: TransferPolicy,
    maintenance_end: Callable[[datetime], datetime | None] = lambda _: None,
) -> Arrival:
    """When a transfer requested at ``now`` is sent, maintenance included.

    ``maintenance_end(t)`` is the end of the maintenance window ``t`` stands in, or None. A send time
    inside a window moves to its end, and the bank hours are applied again from there, until neither
    moves it.
    """
    send_at = now
    for _ in range(64):
        moved = bank_send_time(send_at, instant_bank, calendar, policy)
        end = maintenance_end(moved)
        if end is not None and end > moved:
            send_at = end
            continue
        return Arrival(moved, immediate=moved == now)
    raise ValueError("no send time found: maintenance windows never end")


def arrival_text(arr: Arrival, now: datetime) -> str:
    """How the confirm page and the receipt say when the money arrives."""
    if arr.immediate:
        return "すぐにお振込みします（通常10秒程度で着金）"
    local = arr.send_at.astimezone(JST)
    weekday = "月火水木金土日"[local.weekday()]
    today = now.astimezone(JST).date()
    day = "本日" if local.date() == today else f"{local.month}月{local.day}日({weekday})"
    return f"{day} {local.hour}:{local.minute:02d}ごろお振込みします"


# --- the payee account --------------------------------------------------------------------------------

_SPACES = re.compile("[ \u3000\t]+")
_KATAKANA = re.compile("[\u30a1-\u30f6\u30fc]+(?:\u3000[\u30a1-\u30f6\u30fc]+)*")


@dataclass(frozen=True, slots=True)
class PayeeAccount:
    """A payee account in canonical form: ASCII digit codes, katakana name with full-width spaces."""

    bank_code: str  #: 4 digits
    branch_code: str  #: 3 digits
    account_type: str  #: key of ACCOUNT_TYPES
    account_number: str  #: 7 digits
    holder_name: str  #: full-width katakana, words separated by one U+3000

    @property
    def type_label(self) -> str:
        return ACCOUNT_TYPES[self.account_type]

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.account_number)


def mask_account_number(number: str) -> str:
    """An account number as screens and mail show it: the last 3 digits only (``****567``)."""
    return "*" * (len(number) - 3) + number[-3:]


class PayeeFieldErrors(DomainError):
    """Every wrong field of a payee form at once: ``errors`` maps field → Japanese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("入力内容をご確認ください。" + " ".join(errors.values()))
        self.errors = errors


def _digits_field(raw: str, length: int, label: str, hint: str = "") -> tuple[str | None, str | None]:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None, f"{label}を入力してください。"
    if not (_PLAIN.fullmatch(text) and len(text) == length):
        return None, f"{label}は{length}桁の数字で入力してください{hint}。"
    return text, None


def _holder_name(raw: str, policy: TransferPolicy) -> tuple[str | None, str | None]:
    text = unicodedata.normalize("NFKC", raw)  # half-width ｶﾅ → カナ, full-width space → ' '
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        return None, "口座名義に使えない文字（改行・制御文字・見えない文字）が含まれています。"
    text = _SPACES.sub("\u3000", text.strip(" \u3000\t"))
    # ひらがな → カタカナ (the same sound, one block up), so an IME's default reading is accepted
    text = "".join(chr(ord(ch) + 0x60) if "\u3041" <= ch <= "\u3096" else ch for ch in text)
    if not text:
        return None, "口座名義（カナ）を入力してください。"
    if len(text) > policy.holder_name_max:
        return None, f"口座名義は{policy.holder_name_max}文字以内で入力してください。"
    if not _KATAKANA.fullmatch(text):
        return None, "口座名義は通帳に記載のとおりカタカナで入力してください（例: ヤマダ タロウ）。"
    return text, None


def parse_payee(
    bank_code: str, branch_code: str, account_type: str, account_number: str, holder_name: str,
    known_bank: Callable[[str], bool], policy: TransferPolicy,
) -> PayeeAccount:
    """Validate a payee form; ``known_bank(code)`` says whether the bank table has the bank.

    Raises:
        PayeeFieldErrors: with a message for every wrong field.
    """
    errors: dict[str, str] = {}
    bank, message = _digits_field(bank_code, 4, "金融機関コード")
    if message:
        errors["bank_code"] = message
    elif not known_bank(bank):  # type: ignore[arg-type]
        errors["bank_code"] = "この金融機関コードのお振込先は登録できません。コードをご確認ください。"
    branch, message = _digits_field(branch_code, 3, "支店コード")
    if message:
        errors["branch_code"] = message
    kind = unicodedata.normalize("NFKC", account_type).strip()
    kind = {label: code for code, label in ACCOUNT_TYPES.items()}.get(kind, kind)
    if kind not in ACCOUNT_TYPES:
        errors["account_type"] = "口座種別は「普通」か「当座」を選んでください。"
    number, message = _digits_field(account_number, 7, "口座番号", "（7桁に満たない番号は先頭に0を付けます）")
    if message:
        errors["account_number"] = message
    name, message = _holder_name(holder_name, policy)
    if message:
        errors["holder_name"] = message
    if errors:
        raise PayeeFieldErrors(errors)
    return PayeeAccount(bank, branch, kind, number, name)  # type: ignore[arg-type]


# --- the confirm step ---------------------------------------------------------------------------------

_KEY = re.compile("[A-Za-z0-9_-]{16,64}")
_ID = re.compile("[0-9]{1,18}")
RESTART = "お手続きの内容を確認できませんでした。お手数ですが、金額の入力からやり直してください。"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a confirm form asks for, once its seal is checked: nothing in it can have been changed."""

    amount: int
    payee_id: int
    key: str  #: the idempotency key of this confirm form


def _mac(secret: bytes, member_id: int, amount: int, payee_id: int, key: str, issued: int) -> str:
    message = f"transfer|{member_id}|{amount}|{payee_id}|{key}|{issued}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def seal(secret: bytes, member_id: int, amount: int, payee_id: int, key: str, now: datetime) -> str:
    """The token a confirm form carries: when it was issued, and an HMAC over what it shows."""
    issued = int(now.timestamp())
    return f"{issued}.{_mac(secret, member_id, amount, payee_id, key, issued)}"


def open_confirmation(
    secret: bytes, member_id: int, *, amount: str, payee_id: str, key: str, token: str,
    now: datetime, max_age_seconds: int,
) -> Confirmation:
    """Read a posted confirm form. The amount, the account and the key must be those the confirm page
    showed (a skipped step, a changed amount or another member's form fail the seal), and the page must
    be younger than ``max_age_seconds``.

    Raises:
        TransferError: with a message that says to start again.
    """
    issued_text, _, mac = token.partition(".")
    if not (_PLAIN.fullmatch(amount) and len(amount) <= 18 and _ID.fullmatch(payee_id) and _KEY.fullmatch(key)
            and _PLAIN.fullmatch(issued_text) and len(issued_text) <= 12 and len(mac) == 64):
        raise TransferError(RESTART)
    issued = int(issued_text)
    expected = _mac(secret, member_id, int(amount), int(payee_id), key, issued)
    if not hmac.compare_digest(expected, mac):
        raise TransferError(RESTART)
    age = now.timestamp() - issued
    if age > max_age_seconds or age < -60:
        minutes = max(1, max_age_seconds // 60)
        raise TransferError(f"確認画面の有効期限（{minutes}分）が切れました。お手数ですが、金額の入力からやり直してください。")
    return Confirmation(int(amount), int(payee_id), key)


# --- mail to the member ---------------------------------------------------------------------------------


def _footer(app_name: str, phone: str) -> str:
    return (f"\n\nお心当たりのない場合は、至急お客様サービスセンター（{phone}）までご連絡ください。\n"
            f"このメールは送信専用です。\n{app_name}")


def payee_notice(*, name: str, bank_name: str, branch_code: str, type_label: str, masked_number: str,
                 changed: bool, at: datetime, app_name: str, phone: str) -> Notice:
    """The mail sent when the payee account is registered or changed (the number masked)."""
    what = "変更" if changed else "登録"
    body = (f"{name} 様\n\nお借入れの振込先口座を{what}しました。\n\n日時：{notice_time(at)}\n"
            f"振込先：{bank_name} 支店コード{branch_code} {type_label} {masked_number}\n\n"
            "以後のお振込みによるお借入れは、この口座にお振込みします。" + _footer(app_name, phone))
    return Notice(f"payee_{'changed' if changed else 'registered'}", f"【重要】振込先口座を{what}しました", body)


def transfer_failed_notice(*, name: str, transfer_no: str, amount: int, reason: str, cancelled: bool,
                           at: datetime, app_name: str, phone: str) -> Notice:
    """The mail sent when a transfer could not be paid out: nothing is owed for it."""
    if cancelled:
        outcome = "お振込みを取り消しました。このお借入れはなかったものとなり、ご利用可能額は元に戻っています。"
    else:
        outcome = ("お借入れを取り消しました（ご利用明細に「取消」として記録しています）。"
                   "このお借入れの利息はかからず、ご利用可能額は元に戻っています。")
    body = (f"{name} 様\n\nお申し込みのお借入れ（お振込み）を完了できませんでした。\n\n"
            f"受付番号：{transfer_no}\n金額：{amount:,}円\n日時：{notice_time(at)}\n理由：{reason}\n\n{outcome}\n"
            "振込先口座をご確認のうえ、あらためてお申し込みください。" + _footer(app_name, phone))
    return Notice("transfer_failed", "【重要】お振込みによるお借入れを完了できませんでした", body)
