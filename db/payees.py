"""A member's payee account (振込先口座): read it, register or change it (one transaction, with a mail).

A change never edits a row: it retires the current account and adds the new one, so a confirm form
made for the old account names a retired id and is refused, and the history of accounts is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import banks, mail
from db.engine import is_postgres, write_tx
from db.tables import Member, PayeeAccount
from domain import transfers as rules
from domain.transfers import ACCOUNT_TYPES, TransferPolicy


@dataclass(frozen=True, slots=True)
class Payee:
    id: int
    bank_code: str
    bank_name: str
    instant: bool  #: the bank settles 24 hours a day
    branch_code: str
    account_type: str
    account_number: str
    holder_name: str
    created_at: datetime
    replaced_another: bool = False  #: it took the place of an earlier account (a change, not the first one)

    @property
    def type_label(self) -> str:
        return ACCOUNT_TYPES.get(self.account_type, "")

    @property
    def masked_number(self) -> str:
        return rules.mask_account_number(self.account_number)


@dataclass(frozen=True, slots=True)
class PayeeForm:
    bank_code: str = ""
    branch_code: str = ""
    account_type: str = ""
    account_number: str = ""
    holder_name: str = ""


async def current(member_id: int) -> Payee | None:
    """The member's payee account, or None when none is registered (or its bank was withdrawn)."""
    rows = await PayeeAccount.select().where(PayeeAccount.member == member_id).order_by(
        PayeeAccount.id, ascending=False).limit(2)  # the newest, and whether it replaced another
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    bank = await banks.find(row["bank_code"])
    return Payee(
        id=row["id"], bank_code=row["bank_code"], bank_name=bank.name if bank else "", instant=bool(bank and bank.instant),
        branch_code=row["branch_code"], account_type=row["account_type"], account_number=row["account_number"],
        holder_name=row["holder_name"], created_at=row["created_at"], replaced_another=len(rows) > 1,
    ) if bank else None


async def register(member_id: int, form: PayeeForm, *, now: datetime, policy: TransferPolicy,
                   app_name: str, phone: str) -> Payee:
    """Register the member's payee account, or replace it; the member is told by mail.

    The caller has made sure the session is stepped up. Raises ``PayeeFieldErrors`` (nothing changes).
    """
    known = {bank.code for bank in await banks.all_banks()}
    account = rules.parse_payee(form.bank_code, form.branch_code, form.account_type, form.account_number,
                                form.holder_name, known_bank=known.__contains__, policy=policy)
    bank = await banks.find(account.bank_code)
    assert bank is not None
    async with write_tx():
        query = Member.select(Member.name, Member.email).where(Member.id == member_id)
        member = await (query.lock_rows("UPDATE") if is_postgres() else query).first()
        before = await current(member_id)
        earlier = await PayeeAccount.exists().where(PayeeAccount.member == member_id)
        await PayeeAccount.update({PayeeAccount.active: False, PayeeAccount.retired_at: now}).where(
            (PayeeAccount.member == member_id) & (PayeeAccount.active == True)  # noqa: E712
        )
        row = PayeeAccount(
            member=member_id, bank_code=account.bank_code, branch_code=account.branch_code,
            account_type=account.account_type, account_number=account.account_number,
            holder_name=account.holder_name, active=True, created_at=now,
        )
        await row.save()
        if member["email"]:
            notice = rules.payee_notice(
                name=member["name"], bank_name=bank.name, branch_code=account.branch_code,
                type_label=account.type_label, masked_number=account.masked_number, changed=before is not None,
                at=now, app_name=app_name, phone=phone,
            )
            await mail.enqueue(to_addr=member["email"], notice=notice, now=now, member=member_id)
    return Payee(row.id, bank.code, bank.name, bank.instant, account.branch_code, account.account_type,
                 account.account_number, account.holder_name, now, replaced_another=earlier)
