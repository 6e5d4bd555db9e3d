"""Members, cards and their contracts: creation and look-ups. Each use case is one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from db.engine import fetch, fetch_remembered, write_tx
from db.hashing import SecretHasher
from db.tables import Card, Contract, Credential, LedgerEntry, Member
from domain.errors import DomainError

STATUSES = ("active", "borrowing_stopped", "suspended")
DUE_DAYS = ("5", "15", "25", "end")


class MemberExists(DomainError):
    """The card number or Web-ID already belongs to a member."""


@dataclass(frozen=True)
class NewMember:
    name: str
    card_number: str
    pin: str
    credit_limit: int
    rate: int
    due_day: str
    opened_on: date
    web_id: str | None = None
    password: str | None = None
    email: str | None = None
    birth_date: date | None = None
    status: str = "active"
    status_reason: str = ""
    balance: int = 0
    borrowed_on: date | None = None


async def create_member(new: NewMember, *, hasher: SecretHasher, now: datetime) -> str:
    """Create a member with a card, a PIN, optionally a Web-ID and password, and a contract.

    Returns the new member number. Raises ``MemberExists`` when the card or Web-ID is taken.
    """
    pin_hash = hasher.hash(new.pin)
    password_hash = hasher.hash(new.password) if new.password else None
    async with write_tx():
        if await Card.exists().where(Card.card_number == new.card_number):
            raise MemberExists("このカード番号はすでに登録されています。")
        if new.web_id and await Member.exists().where(Member.web_id == new.web_id):
            raise MemberExists("このログインIDはすでに使われています。")
        member_no = await _free_member_no()
        member = Member(
            member_no=member_no, name=new.name, birth_date=new.birth_date, email=new.email,
            email_verified=bool(new.email), web_id=new.web_id, status=new.status,
            status_reason=new.status_reason, created_at=now,
        )
        await member.save()
        await Card(member=member.id, card_number=new.card_number, issued_at=now).save()
        await Credential(member=member.id, kind="pin", secret_hash=pin_hash, changed_at=now).save()
        if password_hash:
            await Credential(member=member.id, kind="password", secret_hash=password_hash, changed_at=now).save()
        contract = Contract(
            member=member.id, contract_no=f"C{member_no}", opened_on=new.opened_on,
            credit_limit=new.credit_limit, rate=new.rate, due_day=new.due_day, principal=new.balance,
        )
        await contract.save()
        if new.balance:
            value_date = new.borrowed_on or new.opened_on
            await LedgerEntry(
                contract=contract.id, kind="borrowing", occurred_at=now, value_date=value_date,
                amount=new.balance, principal=new.balance, principal_after=new.balance, reference="opening",
            ).save()
    return member_no


async def _free_member_no() -> str:
    while True:
        candidate = f"{secrets.randbelow(10**8):08d}"
        if not await Member.exists().where(Member.member_no == candidate):
            return candidate


MEMBER_BY_ID_SQL = f"SELECT * FROM {Member._meta.tablename} WHERE id = {{}}"


async def member_by_id(member_id: int) -> dict | None:
    """The member row as a dict, or None. Asked for on every signed-in request, so written as plain SQL
    (Piccolo's query builder costs more than the query itself: same row, same types), and on SQLite read again
    only once something was committed since (``fetch_remembered``): a suspension or "sign out everywhere"
    counts from its commit on, exactly as with a read."""
    rows = await fetch_remembered(MEMBER_BY_ID_SQL, member_id)
    return rows[0] if rows else None


async def member_id_by_card(card_number: str) -> int | None:
    row = await Card.select(Card.member).where(Card.card_number == card_number).first()
    return row["member"] if row else None
