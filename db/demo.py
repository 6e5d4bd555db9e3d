"""Demo members for `kaiin demo` and `make run`: idempotent (existing cards are left as they are).

Each member's loan history is written by the real engine (``db.demo_loans``), relative to ``now``:
one paying on time, a new borrower inside the interest-free days, one overdue (late charge running,
borrowing stopped), one paid off, and one with ``bulk_rows`` ledger rows for the history benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from db import accounts, demo_loans, loans
from db.engine import write_tx
from db.hashing import SecretHasher
from db.holidays import business_calendar
from db.tables import Card, Contract, LedgerEntry, Member, PayeeAccount
from domain.loan import jst_date
from domain.policy import LoanPolicy


#: payee accounts (振込先口座) of demo members, so borrowing by transfer works at once: a 24-hour bank and a
#: bank-hours one (bank, branch, type, number, holder)
DEMO_PAYEES = {
    "1234567890": ("0009", "123", "1", "1234567", "ヤマダ\u3000タロウ"),
    "2345678901": ("0134", "456", "1", "7654321", "サトウ\u3000ハナコ"),
}


@dataclass(frozen=True)
class Demo:
    member: accounts.NewMember
    history: Callable | None  #: demo_loans scenario, or None for the member's own opening balance
    note: str


def demo_members(today: date) -> list[Demo]:
    def member(**fields) -> accounts.NewMember:
        base = dict(birth_date=date(1990, 4, 1), credit_limit=500_000, rate=1780, opened_on=today - timedelta(days=400))
        return accounts.NewMember(**{**base, **fields})

    return [
        Demo(member(name="山田 太郎", card_number="1234567890", pin="1234", web_id="taro2024",
                    password="kaiin-demo-pass", email="taro@example.jp", due_day="5"),
             demo_loans.on_time, "毎月期日どおりに返済"),
        Demo(member(name="佐藤 花子", card_number="2345678901", pin="2345", email="hanako@example.jp",
                    due_day="25", opened_on=today - timedelta(days=6)),
             demo_loans.new_borrower, "はじめての借入・無利息期間中"),
        Demo(member(name="鈴木 一郎", card_number="3456789012", pin="3456", due_day="15", credit_limit=300_000),
             demo_loans.overdue, "返済が遅れている（遅延損害金・借入停止）"),
        Demo(member(name="高橋 美咲", card_number="4567890123", pin="4567", due_day="end"),
             demo_loans.paid_off, "完済済み"),
        Demo(member(name="田中 健太", card_number="5678901234", pin="5678", due_day="15", credit_limit=1_000_000,
                    rate=1500), demo_loans.heavy, "取引件数の多い会員"),
    ]


async def load(*, hasher: SecretHasher, now: datetime, policy: LoanPolicy | None = None,
               bulk_rows: int = 100_000) -> list[str]:
    """Create the demo members that do not exist yet; return one sign-in line per member."""
    policy = policy or LoanPolicy()
    lines = []
    for demo in demo_members(jst_date(now)):
        new = demo.member
        if not await Card.exists().where(Card.card_number == new.card_number):
            await accounts.create_member(new, hasher=hasher, now=now)
        await _write_history(demo, now, policy, bulk_rows)
        await _give_payee(new.card_number, now)
        line = f"{new.name}（{demo.note}）: カード番号 {new.card_number} / 暗証番号 {new.pin}"
        if new.web_id:
            line += f"  または ログインID {new.web_id} / パスワード {new.password}"
        lines.append(line)
    return lines


async def _give_payee(card_number: str, now: datetime) -> None:
    if card_number not in DEMO_PAYEES:
        return
    card = await Card.select(Card.member).where(Card.card_number == card_number).first()
    if await PayeeAccount.exists().where(PayeeAccount.member == card["member"]):
        return
    bank, branch, kind, number, holder = DEMO_PAYEES[card_number]
    await PayeeAccount(member=card["member"], bank_code=bank, branch_code=branch, account_type=kind,
                       account_number=number, holder_name=holder, active=True, created_at=now).save()


async def _write_history(demo: Demo, now: datetime, policy: LoanPolicy, bulk_rows: int) -> None:
    """Write the member's loan history once (a contract that already has entries is left alone)."""
    if demo.history is None:
        return
    card = await Card.select(Card.member).where(Card.card_number == demo.member.card_number).first()
    async with write_tx():
        contract = await Contract.select().where(Contract.member == card["member"]).first()
        if await LedgerEntry.exists().where(LedgerEntry.contract == contract["id"]):
            return
        member = await Member.select().where(Member.id == card["member"]).first()
        terms = loans.terms(contract, member, policy)
        calendar = business_calendar(policy)
        today = jst_date(now)
        extra = {"rows": bulk_rows} if demo.history is demo_loans.heavy else {}
        await demo_loans.write(contract["id"], demo.history(terms, today, policy, calendar, **extra), now)
