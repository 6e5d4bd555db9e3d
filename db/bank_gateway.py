"""The connection to the bank that pays out transfers, and the simulator that stands in for it.

A gateway takes an ``Order`` and answers whether the bank accepted it. Sending is idempotent by
transfer number: a second ``send`` of the same number (a retry after a crash, another worker taking over
an expired claim) returns the first answer and moves no money. This is what lets a process die at any
point of a send without the member being paid twice.

``SimulatedBank`` is the default: it keeps its own book in ``simulated_bank_payment`` (one row per
transfer number, so the guarantee holds across processes), settles 24-hour banks at once, holds other
banks' payments until their bank hours (``settles_at``), and rejects the accounts it was told to fail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from db.tables import SimulatedBankPayment
from domain.business_days import BusinessCalendar
from domain.transfers import TransferPolicy, bank_send_time


@dataclass(frozen=True, slots=True)
class Order:
    transfer_no: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str
    holder_name: str
    amount: int
    instant: bool

    @property
    def account(self) -> str:
        return f"{self.bank_code}-{self.branch_code}-{self.account_number}"


@dataclass(frozen=True, slots=True)
class BankAnswer:
    accepted: bool
    reference: str
    settles_at: datetime  #: when the money is in the payee's account
    reason: str = ""  #: why it was rejected, in words the member can act on


class BankUnavailable(Exception):
    """No answer from the bank: the outcome is unknown, so the transfer stays claimed and is retried."""


class BankGateway(Protocol):
    async def send(self, order: Order, now: datetime) -> BankAnswer:
        """Pay ``order`` out. Idempotent by ``order.transfer_no``. Raises ``BankUnavailable``."""
        ...


REJECTED_REASON = "お振込先の口座にお振込みできませんでした（口座番号・口座名義をご確認ください）。"


class SimulatedBank:
    """The default gateway: a bank that never pays one transfer number twice."""

    def __init__(self, calendar: BusinessCalendar, policy: TransferPolicy, *,
                 fail_accounts: tuple[str, ...] = (), latency_ms: int = 0) -> None:
        self.calendar = calendar
        self.policy = policy
        self.fail_accounts = frozenset(fail_accounts)
        self.latency = latency_ms / 1000

    async def send(self, order: Order, now: datetime) -> BankAnswer:
        settles_at = bank_send_time(now, order.instant, self.calendar, self.policy)
        if order.account in self.fail_accounts:
            outcome, reason = "rejected", REJECTED_REASON
        else:
            outcome, reason = ("settled" if settles_at <= now else "accepted"), ""
        await SimulatedBankPayment.insert(SimulatedBankPayment(
            transfer_no=order.transfer_no, bank_code=order.bank_code, account=order.account,
            amount=order.amount, outcome=outcome, reason=reason, received_at=now, settles_at=settles_at,
        )).on_conflict(target=SimulatedBankPayment.transfer_no, action="DO NOTHING")
        row = await SimulatedBankPayment.select().where(SimulatedBankPayment.transfer_no == order.transfer_no).first()
        if self.latency:
            await asyncio.sleep(self.latency)  # the answer is on its way back: a crash here loses only the answer
        return BankAnswer(
            accepted=row["outcome"] != "rejected", reference=f"SIM{row['id']:08d}",
            settles_at=row["settles_at"], reason=row["reason"],
        )
