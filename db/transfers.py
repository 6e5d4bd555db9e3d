"""Instant-transfer borrowing (瞬フリ): quote, confirm, send, and what happens when the bank says no.

The life of a transfer (``db.tables.Transfer``)::

    confirm ─ one write transaction: lock the contract, re-read the position, check the amount against
    │         limit − balance − amounts still queued, then either
    ├─ bank open now ──► status "sending", the borrowing posted (dated today), claimed by this process
    └─ later ──────────► status "queued" until ``send_at``; its amount stays reserved
    worker (or the confirming process) ─ claim: one conditional UPDATE (queued and due, or sending with a
    │         lapsed claim); a queued one gets its borrowing posted now, dated the day it is sent
    ├─ bank accepts ──► "sent"
    ├─ bank rejects ──► "failed": the borrowing is reversed in the ledger, the member is mailed
    └─ no answer / crash ─► stays "sending"; when the claim lapses another process sends it again with
                            the same transfer number, which the bank answers without paying twice

Every step that changes money is one transaction that first locks the contract row (PostgreSQL) or
runs IMMEDIATE (SQLite), so two confirms, a confirm and a claim, or two workers never interleave.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable

from piccolo.query.functions.aggregate import Sum

from db import loans, mail, maintenance, payees
from db.bank_gateway import BankGateway, BankUnavailable, Order
from db.engine import write_tx
from db.holidays import business_calendar
from db.tables import Member, Transfer
from domain import transfers as rules
from domain.errors import LoanError
from domain.ledger import Entry, Kind
from domain.loan import Position, jst_date
from domain.maintenance import MaintenancePolicy, active_window
from domain.policy import LoanPolicy
from domain.transfers import Arrival, TransferError, TransferPolicy

QUEUED, SENDING, SENT, FAILED, CANCELLED = "queued", "sending", "sent", "failed", "cancelled"


@dataclass(frozen=True)
class TransferContext:
    """What the use cases need from the settings; ``web`` builds one per app, ``kaiin worker`` one per run."""

    loan_policy: LoanPolicy
    policy: TransferPolicy
    maintenance: MaintenancePolicy
    gateway: BankGateway
    secret: bytes  #: seals confirm forms
    confirm_seconds: int
    claim_seconds: int
    app_name: str
    phone: str
    calendar: object = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "calendar", business_calendar(self.loan_policy))


@dataclass(frozen=True, slots=True)
class Quote:
    """What the form and the confirm page show. ``amount`` and the rest are set once an amount is valid."""

    available: int  #: may be borrowed now: limit − balance − queued transfers (0 when borrowing is refused)
    largest: int  #: ``available`` rounded down to the unit
    picks: tuple[int, ...]
    payee: payees.Payee | None
    refusal: str = ""  #: why nothing may be borrowed now ('' when borrowing is possible)
    payee_note: str = ""  #: the cap on a just-changed payee account, while it is in force
    amount: int = 0
    arrival: Arrival | None = None
    arrival_text: str = ""
    borrowed_on: date | None = None
    amount_due: int = 0  #: the amount due this borrowing sets
    next_due_date: date | None = None
    balance_after: int = 0


@dataclass(frozen=True, slots=True)
class Receipt:
    transfer_no: str
    amount: int
    status: str
    bank_name: str
    branch_code: str
    type_label: str
    masked_number: str
    holder_name: str
    requested_at: datetime
    send_at: datetime
    sent_at: datetime | None
    arrival_text: str
    borrowed_on: date | None
    amount_due: int
    next_due_date: date | None
    failure: str

    @property
    def done(self) -> bool:
        return self.status == SENT

    @property
    def failed(self) -> bool:
        return self.status in (FAILED, CANCELLED)


# --- reading ----------------------------------------------------------------------------------------------


async def quote(member_id: int, raw_amount: str | None, now: datetime, ctx: TransferContext) -> Quote:
    """The transfer form's figures, and with ``raw_amount`` the confirm page's (or ``TransferError``)."""
    account = await loans.account_for_member(member_id, now, ctx.loan_policy)
    if account is None:
        raise TransferError("ご契約が見つかりません。お客様サービスセンターへお問い合わせください。")
    payee = await payees.current(member_id)
    windows = await _maintenance(now, ctx)
    available, refusal, note = await _available(account, payee, now, ctx, windows)
    base = Quote(available=available, largest=ctx.policy.largest(available), picks=ctx.policy.picks(available),
                 payee=payee, refusal=refusal, payee_note=note)
    if raw_amount is None:
        return base
    if refusal:
        raise TransferError(refusal)
    amount = rules.read_amount(raw_amount, available, ctx.policy)
    assert payee is not None
    arrival = rules.arrival(now, payee.instant, ctx.calendar, ctx.policy, windows)  # type: ignore[arg-type]
    after = _after(account.position, amount, arrival.borrowed_on, ctx)
    return Quote(
        available=available, largest=base.largest, picks=base.picks, payee=payee, payee_note=note, amount=amount,
        arrival=arrival,
        arrival_text=rules.arrival_text(arrival, now), borrowed_on=arrival.borrowed_on,
        amount_due=after.amount_due if after else 0, next_due_date=after.next_due_date if after else None,
        balance_after=after.balance if after else account.position.balance + amount,
    )


async def receipt(member_id: int, transfer_no: str, now: datetime) -> Receipt | None:
    """The member's own transfer by number (None for anyone else's: no hint that it exists)."""
    row = await Transfer.select().where(
        (Transfer.transfer_no == transfer_no.replace("-", "")) & (Transfer.member == member_id)
    ).first()
    return _receipt(row, now) if row else None


async def available_credit(account: loans.Account) -> int:
    """What the member may borrow now: limit − balance − transfers still waiting to be sent (0 when stopped)."""
    position = account.position
    if position.status != "active":
        return 0
    queued = account.queued_total if account.queued_total is not None else await pending_total(account.contract_id)
    return max(0, position.available_credit - queued)


async def pending_total(contract_id: int) -> int:
    """Amounts of queued transfers: reserved out of the available credit until they are sent."""
    rows = await Transfer.select(Sum(Transfer.amount).as_alias("total")).where(
        (Transfer.contract == contract_id) & (Transfer.status == QUEUED)
    )
    return int(rows[0]["total"] or 0) if rows else 0


# --- confirming -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmForm:
    amount: str = ""
    payee_id: str = ""
    key: str = ""
    token: str = ""


def new_confirm_fields(member_id: int, amount: int, payee_id: int, now: datetime, ctx: TransferContext) -> dict:
    """Hidden fields of a confirm form: a fresh idempotency key and the seal over what the page shows."""
    key = secrets.token_urlsafe(24)
    return {"amount": amount, "payee_id": payee_id, "key": key,
            "token": rules.seal(ctx.secret, member_id, amount, payee_id, key, now)}


async def request_transfer(member_id: int, form: ConfirmForm, now: datetime, ctx: TransferContext) -> Receipt:
    """Confirm a transfer: the same confirm form always gives the same receipt, and never a second transfer.

    Raises ``TransferError`` (nothing changed) for a tampered, stale or foreign form, a changed payee,
    an amount no longer available, a member who may not borrow, or maintenance.
    """
    ask = rules.open_confirmation(ctx.secret, member_id, amount=form.amount, payee_id=form.payee_id, key=form.key,
                                  token=form.token, now=now, max_age_seconds=ctx.confirm_seconds)
    request_key = f"{member_id}:{ask.key}"
    claimer = _claimer("web")
    windows = await _maintenance(now, ctx)
    async with write_tx():
        account = await loans.account_for_member(member_id, now, ctx.loan_policy, lock=True)
        existing = await Transfer.select().where(Transfer.request_key == request_key).first()
        if existing is not None:  # a double tap, a retry, a second tab: the first answer
            return _receipt(existing, now)
        if account is None:
            raise TransferError(rules.RESTART)
        payee = await payees.current(member_id)
        if payee is None or payee.id != ask.payee_id:
            raise TransferError("振込先口座が変更されたため、このお手続きはできません。金額の入力からやり直してください。")
        available, refusal, _ = await _available(account, payee, now, ctx, windows)
        if refusal:
            raise TransferError(refusal)
        rules.check_amount(ask.amount, available, ctx.policy)
        arrival = rules.arrival(now, payee.instant, ctx.calendar, ctx.policy, windows)  # type: ignore[arg-type]
        row = Transfer(
            transfer_no=await _new_number(now), request_key=request_key, member=member_id,
            contract=account.contract_id, amount=ask.amount, bank_code=payee.bank_code, bank_name=payee.bank_name,
            instant=payee.instant, branch_code=payee.branch_code, account_type=payee.account_type,
            account_number=payee.account_number, holder_name=payee.holder_name, status=QUEUED,
            requested_at=now, send_at=arrival.send_at,
        )
        projected = _after(account.position, ask.amount, arrival.borrowed_on, ctx)
        if projected is not None:
            row.amount_due, row.next_due_date = projected.amount_due, projected.next_due_date
        if arrival.immediate:  # sent from here at once: claimed, and the borrowing is in the ledger now
            row.status, row.claimed_by, row.claimed_until, row.attempts = SENDING, claimer, _lease(now, ctx), 1
            await row.save()
            await _post_borrowing(account, row.id, ask.amount, row.transfer_no, now)
        else:
            await row.save()
    if arrival.immediate:
        await _dispatch(row.id, claimer, now, ctx)
    return await receipt(member_id, row.transfer_no, now)  # type: ignore[return-value]


# --- sending ----------------------------------------------------------------------------------------------


async def send_due(now: datetime, ctx: TransferContext, *, worker: str | None = None, limit: int = 20) -> dict[str, int]:
    """One round of ``kaiin worker``: claim the transfers whose time has come and send them.

    Nothing is sent while a maintenance window is under way; what was due in it goes right after.
    Returns counts of what happened, for the log.
    """
    counts = {"claimed": 0, "sent": 0, "failed": 0, "cancelled": 0, "pending": 0}
    windows = await _maintenance(now, ctx)
    if windows(now) is not None:
        return counts
    worker = worker or _claimer("worker")
    due = await Transfer.select(Transfer.id).where(_claimable(now)).order_by(Transfer.send_at).limit(limit)
    for row in due:
        outcome = await _claim(row["id"], worker, now, ctx)
        if outcome == SENDING:
            counts["claimed"] += 1
            outcome = await _dispatch(row["id"], worker, now, ctx)
        if outcome in counts:
            counts[outcome] += 1
    return counts


def _claimable(now: datetime):
    return ((Transfer.status == QUEUED) & (Transfer.send_at <= now)) | (
        (Transfer.status == SENDING) & (Transfer.claimed_until < now))


async def _claim(transfer_id: int, worker: str, now: datetime, ctx: TransferContext) -> str:
    """Take one due transfer for sending (one conditional UPDATE); post its borrowing if not yet posted.

    Returns ``sending`` when this worker holds it, ``cancelled`` when the member may no longer borrow
    it, '' when another process got it first or it is not due.
    """
    head = await Transfer.select(Transfer.member).where(Transfer.id == transfer_id).first()
    if head is None:
        return ""
    cancelled = None
    async with write_tx():
        account = await loans.account_for_member(head["member"], now, ctx.loan_policy, lock=True)
        taken = await Transfer.update({
            Transfer.status: SENDING, Transfer.claimed_by: worker, Transfer.claimed_until: _lease(now, ctx),
            Transfer.attempts: Transfer.attempts + 1,
        }).where((Transfer.id == transfer_id) & _claimable(now)).returning(
            Transfer.id, Transfer.borrowing_entry, Transfer.amount, Transfer.transfer_no)
        if not taken:
            return ""
        row = taken[0]
        if not row["borrowing_entry"]:
            try:
                await _post_borrowing(account, transfer_id, row["amount"], row["transfer_no"], now)
            except LoanError as error:  # stopped, suspended or over a lowered limit since it was queued
                await Transfer.update({Transfer.status: CANCELLED, Transfer.failure: error.message[:200],
                                       Transfer.claimed_until: None}).where(Transfer.id == transfer_id)
                cancelled = error.message
                await _notify_failure(transfer_id, cancelled, True, now, ctx)
    return CANCELLED if cancelled else SENDING


async def _dispatch(transfer_id: int, worker: str, now: datetime, ctx: TransferContext) -> str:
    """Send a transfer this worker holds and record the bank's answer. Returns the new status, or
    ``pending`` when there was no answer (the claim lapses and the transfer is sent again)."""
    row = await Transfer.select().where(Transfer.id == transfer_id).first()
    order = Order(row["transfer_no"], row["bank_code"], row["branch_code"], row["account_type"],
                  row["account_number"], row["holder_name"], row["amount"], bool(row["instant"]))
    try:
        answer = await ctx.gateway.send(order, now)
    except BankUnavailable:
        return "pending"
    mine = (Transfer.id == transfer_id) & (Transfer.status == SENDING) & (Transfer.claimed_by == worker)
    if answer.accepted:
        done = await Transfer.update({
            Transfer.status: SENT, Transfer.sent_at: now, Transfer.bank_reference: answer.reference,
            Transfer.claimed_until: None,
        }).where(mine).returning(Transfer.id)
        return SENT if done else ""
    async with write_tx():
        account = await loans.account_for_member(row["member"], now, ctx.loan_policy, lock=True)
        done = await Transfer.update({
            Transfer.status: FAILED, Transfer.failure: answer.reason[:200], Transfer.claimed_until: None,
        }).where(mine).returning(Transfer.id)
        if not done:
            return ""
        reversal = Entry(Kind.REVERSAL, account.position.as_of, row["amount"], principal=-row["amount"],
                         reverses=Kind.BORROWING)
        ids = await loans.post(account, [reversal], now, reference=row["transfer_no"])
        await Transfer.update({Transfer.reversal_entry: ids[-1]}).where(Transfer.id == transfer_id)
        await _notify_failure(transfer_id, answer.reason, False, now, ctx)
    return FAILED


# --- helpers ----------------------------------------------------------------------------------------------


async def _available(account: loans.Account, payee: payees.Payee | None, now: datetime, ctx: TransferContext,
                     windows: Callable[[datetime], datetime | None]) -> tuple[int, str, str]:
    """What may be borrowed now, why nothing may ('' when something may), and the changed-account note."""
    position = account.position
    if position.status != "active":
        return 0, position.status_reason or "現在お借入れはできません。", ""
    available = await available_credit(account)
    if windows(now) is not None:
        return available, "ただいまメンテナンス中のため、お借入れのお手続きはできません。終了後にご利用ください。", ""
    if payee is None:
        return available, "振込先口座が登録されていません。先に振込先口座をご登録ください。", ""
    cap = await _payee_cap(account.member_id, payee, now, ctx)
    note = rules.changed_payee_text(cap, ctx.policy) if cap else ""
    if cap and cap.left < available:
        available = cap.left
        if ctx.policy.largest(available) < ctx.policy.minimum:
            return available, note + "期間が過ぎてからあらためてお申し込みください。", note
    if ctx.policy.largest(available) < ctx.policy.minimum:
        return available, "現在お借入れいただける金額（ご利用可能額）がありません。", note
    return available, "", note


async def _payee_cap(member_id: int, payee: payees.Payee, now: datetime, ctx: TransferContext) -> rules.PayeeCap | None:
    """The cap on a payee account that has just replaced another, net of what was already asked for it."""
    until = rules.changed_payee_until(payee.created_at, now, ctx.policy) if payee.replaced_another else None
    if until is None:
        return None
    rows = await Transfer.select(Sum(Transfer.amount).as_alias("total")).where(
        (Transfer.member == member_id) & (Transfer.requested_at >= payee.created_at)
        & Transfer.status.is_in([QUEUED, SENDING, SENT])
    )
    return rules.changed_payee_cap(until, int(rows[0]["total"] or 0) if rows else 0, ctx.policy)


def _after(position: Position, amount: int, day: date, ctx: TransferContext) -> Position | None:
    """The position right after borrowing ``amount`` on ``day`` (today, or the day it will be sent)."""
    try:
        on_day = position if day == position.as_of else Position.of(
            position.contract, position.state, day, position.policy, position.calendar)
        return on_day.after([on_day.borrowing_entry(amount)])
    except (LoanError, ValueError):
        return None


async def _post_borrowing(account: loans.Account, transfer_id: int, amount: int, transfer_no: str,
                          now: datetime) -> None:
    """Post the borrowing (dated the day it is sent) and record it and the amount due it sets."""
    position = account.position
    entry = position.borrowing_entry(amount)
    ids = await loans.post(account, [entry], now, reference=transfer_no)
    after = position.after([entry])
    await Transfer.update({
        Transfer.borrowing_entry: ids[-1], Transfer.borrowed_on: position.as_of,
        Transfer.amount_due: after.amount_due, Transfer.next_due_date: after.next_due_date,
    }).where(Transfer.id == transfer_id)


async def _notify_failure(transfer_id: int, reason: str, cancelled: bool, now: datetime,
                          ctx: TransferContext) -> None:
    row = await Transfer.select(Transfer.member, Transfer.transfer_no, Transfer.amount).where(
        Transfer.id == transfer_id).first()
    member = await Member.select(Member.name, Member.email).where(Member.id == row["member"]).first()
    if member and member["email"]:
        notice = rules.transfer_failed_notice(
            name=member["name"], transfer_no=_display_no(row["transfer_no"]), amount=row["amount"], reason=reason,
            cancelled=cancelled, at=now, app_name=ctx.app_name, phone=ctx.phone)
        await mail.enqueue(to_addr=member["email"], notice=notice, now=now, member=row["member"])


async def _maintenance(now: datetime, ctx: TransferContext) -> Callable[[datetime], datetime | None]:
    """``end(t)``: the end of the maintenance window ``t`` stands in, or None (weekly, New Year, operators)."""
    operators = await maintenance.operator_windows(now)

    def end(moment: datetime) -> datetime | None:
        window = active_window(moment, ctx.maintenance, operators)
        return window.end if window else None

    return end


def _lease(now: datetime, ctx: TransferContext) -> datetime:
    return now + timedelta(seconds=ctx.claim_seconds)


def _claimer(kind: str) -> str:
    return f"{kind}:{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(4)}"


async def _new_number(now: datetime) -> str:
    prefix = jst_date(now).strftime("%y%m%d")
    while True:
        number = f"{prefix}{secrets.randbelow(10**6):06d}"
        if not await Transfer.exists().where(Transfer.transfer_no == number):
            return number


def _display_no(number: str) -> str:
    return f"{number[:6]}-{number[6:]}"


def _receipt(row: dict, now: datetime) -> Receipt:
    arrival = Arrival(row["send_at"], immediate=row["send_at"] <= row["requested_at"])
    type_label = rules.ACCOUNT_TYPES.get(row["account_type"], "")
    return Receipt(
        transfer_no=_display_no(row["transfer_no"]), amount=row["amount"], status=row["status"],
        bank_name=row["bank_name"], branch_code=row["branch_code"], type_label=type_label,
        masked_number=rules.mask_account_number(row["account_number"]), holder_name=row["holder_name"],
        requested_at=row["requested_at"], send_at=row["send_at"], sent_at=row["sent_at"],
        arrival_text=rules.arrival_text(arrival, row["requested_at"]), borrowed_on=row["borrowed_on"],
        amount_due=row["amount_due"], next_due_date=row["next_due_date"], failure=row["failure"],
    )
