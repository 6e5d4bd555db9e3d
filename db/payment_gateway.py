"""The payment gateway for money coming in: internet repayment (Pay-easy style) and automatic debit
(口座振替). Money going out (transfers) is ``db.bank_gateway``.

A gateway takes a ``Collection`` and answers with a ``Collected`` (paid, with the bank's reference) or
raises ``PaymentDeclined`` with a message for the member. The idempotency key travels with every request,
so a retried request is the same payment at the bank too: a gateway must answer a key it has seen with the
first answer. Use cases call it inside their write transaction, after every rule has said yes, so a
decline rolls back everything and a payment is never posted without the bank's yes.

``SimulatedGateway`` is the default (``KAIIN_PAYMENT_GATEWAY=simulator``): it plays the Pay-easy steps
(the payment is created at the bank, the member confirms it there, the bank reports it paid) in-process and
derives its reference from the key, so the same key always gets the same reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from domain.errors import DomainError

PAYEASY = "payeasy"  #: internet repayment: the member confirms at their bank
DEBIT = "debit"  #: 口座振替 from the registered account


class PaymentDeclined(DomainError):
    """The bank did not pay; the message says what the member can do."""


@dataclass(frozen=True, slots=True)
class Collection:
    key: str  #: idempotency key: the same key is the same payment
    method: str  #: PAYEASY or DEBIT
    amount: int  #: yen, > 0
    payer: str  #: the member number
    account: str = ""  #: for DEBIT: 'bank-branch-type-number' of the registered account


@dataclass(frozen=True, slots=True)
class Collected:
    reference: str  #: the bank's payment number (収納機関の受付番号)
    steps: tuple[str, ...]  #: the states the payment went through, e.g. ('confirming', 'paid')


class PaymentGateway(Protocol):
    name: str

    async def collect(self, request: Collection) -> Collected:
        """Take ``request.amount`` from the member's bank; raise ``PaymentDeclined`` when the bank says no."""
        ...


class SimulatedGateway:
    """Pay-easy style, in-process: created → confirming (the member approves at the bank) → paid."""

    name = "simulator"

    async def collect(self, request: Collection) -> Collected:
        if request.amount <= 0:
            raise PaymentDeclined("お支払い金額が正しくありません。")
        if request.method == DEBIT and not request.account:
            raise PaymentDeclined("口座振替の口座が登録されていません。")
        digest = hashlib.sha256(f"{request.method}:{request.key}".encode()).hexdigest()
        prefix = "PE" if request.method == PAYEASY else "AD"
        return Collected(reference=f"{prefix}{int(digest[:15], 16) % 10**12:012d}", steps=("confirming", "paid"))


def gateway_for(name: str) -> PaymentGateway:
    """The gateway named by ``KAIIN_PAYMENT_GATEWAY``."""
    if name == SimulatedGateway.name:
        return SimulatedGateway()
    raise ValueError(f"unknown payment gateway: {name!r}")
