"""The bank list payees are chosen from: a bundled default list, with operators' changes on top.

The bundled list ships with the code (``DEFAULT_BANKS``); the ``bank`` table holds only what operators
changed with ``kaiin bank set|remove``: a new bank, a new name, the 24-hour flag, or ``active=False``.
A row for a bundled code replaces it, so the effective list is always defaults ⊕ rows.

``instant`` means the bank settles transfers 24 hours a day (全銀モアタイム), so the member's money
arrives within seconds at any hour; other banks follow bank hours (``domain.transfers``). Operators keep
the flags current with the list of banks the company's 瞬フリ reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.engine import write_tx
from db.tables import Bank as BankRow
from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class Bank:
    code: str
    name: str
    instant: bool
    active: bool = True


DEFAULT_BANKS: tuple[Bank, ...] = (
    Bank("0001", "みずほ銀行", True),
    Bank("0005", "三菱UFJ銀行", True),
    Bank("0009", "三井住友銀行", True),
    Bank("0010", "りそな銀行", True),
    Bank("0033", "PayPay銀行", True),
    Bank("0035", "ソニー銀行", True),
    Bank("0036", "楽天銀行", True),
    Bank("0038", "住信SBIネット銀行", True),
    Bank("0040", "イオン銀行", True),
    Bank("9900", "ゆうちょ銀行", True),
    Bank("0134", "千葉銀行", False),
    Bank("0177", "福岡銀行", False),
)


class BankError(DomainError):
    """An operator's bank change that cannot be made."""


async def all_banks(*, include_inactive: bool = False) -> list[Bank]:
    """The effective list, by code."""
    banks = {bank.code: bank for bank in DEFAULT_BANKS}
    for row in await BankRow.select(BankRow.code, BankRow.name, BankRow.instant, BankRow.active):
        banks[row["code"]] = Bank(row["code"], row["name"], bool(row["instant"]), bool(row["active"]))
    return sorted((b for b in banks.values() if include_inactive or b.active), key=lambda b: b.code)


async def find(code: str) -> Bank | None:
    """The active bank with ``code``, or None."""
    row = await BankRow.select(BankRow.name, BankRow.instant, BankRow.active).where(BankRow.code == code).first()
    if row is not None:
        return Bank(code, row["name"], bool(row["instant"])) if row["active"] else None
    return next((bank for bank in DEFAULT_BANKS if bank.code == code), None)


async def names(codes: tuple[str, ...] | list[str]) -> str:
    """The names of the banks with ``codes``, joined with ・ for a sentence (unknown codes left out)."""
    found = [await find(code) for code in codes]
    return "・".join(bank.name for bank in found if bank is not None)


async def set_bank(code: str, name: str | None, instant: bool | None, active: bool, now: datetime) -> Bank:
    """Add or change a bank (operators). Unset ``name``/``instant`` keep the current value."""
    if not (len(code) == 4 and code.isascii() and code.isdigit()):
        raise BankError("金融機関コードは4桁の数字です")
    current = next((b for b in await all_banks(include_inactive=True) if b.code == code), None)
    name = (name or "").strip() or (current.name if current else "")
    if not name or len(name) > 60:
        raise BankError("新しい金融機関には1〜60文字の名前 (--name) が必要です")
    instant = current.instant if instant is None and current else bool(instant)
    async with write_tx():
        values = {BankRow.name: name, BankRow.instant: instant, BankRow.active: active, BankRow.changed_at: now}
        if await BankRow.exists().where(BankRow.code == code):
            await BankRow.update(values).where(BankRow.code == code)
        else:
            await BankRow(code=code, name=name, instant=instant, active=active, changed_at=now).save()
    return Bank(code, name, instant, active)
