"""Repayment use cases: the form's figures, the preview, paying (internet, with points) and the
automatic debit. Each write is one transaction that re-reads the position under the contract lock.

    view = await repayments.start(member_id, now, ctx)                      # the form
    account, view = await repayments.prepare(member_id, form, now, ctx)     # the preview (reads only)
    repayment_id = await repayments.pay(member_id, key, form, expected, now, ctx)
    done = await repayments.result(member_id, repayment_id)                 # the done page, own rows only

Idempotency: the confirm form carries a random key; ``pay`` stores ``<member id>:<key>`` in a unique
column in the same transaction as the ledger rows, and a second ``pay`` with that key (a double tap, a
retry, a second tab) finds the row and returns it without asking the bank again. The payment gateway gets
the key too, so a retry after a crash is the same payment at the bank.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from piccolo.query.functions.aggregate import Sum

from db import debits, loans, mail
from db.due_day import due_day_text
from db.engine import write_tx
from db.payment_gateway import DEBIT, PAYEASY, Collection, PaymentDeclined, PaymentGateway
from db.tables import Contract as ContractRow
from db.tables import MAX_ROW_ID, DebitAccount, JobClaim, LedgerEntry, Member, ReminderSent, Repayment
from domain.business_days import BusinessCalendar
from domain.due_dates import add_months, due_date
from domain.ledger import Kind
from domain.interest import format_rate
from domain.loan import Position, jst_date
from domain.policy import LoanPolicy
from domain.reminders import overdue_notice_text
from domain.repayment import (
    Plan,
    Preview,
    RepaymentError,
    RepaymentPolicy,
    amount_due_now,
    choose,
    debit_amount,
    parse_whole,
    points_earned,
    preview,
)

WORKER = f"worker-{secrets.token_hex(4)}"  #: this process, in the claims it takes
_KEY = re.compile("[A-Za-z0-9_-]{16,64}")
PAYMENT_KINDS = [Kind.REPAYMENT.value, Kind.POINT_USE.value]


@dataclass(frozen=True, slots=True)
class RepayContext:
    """What the use cases need from the settings; ``web`` builds one per app, ``kaiin worker`` one per run."""

    loan: LoanPolicy
    repay: RepaymentPolicy
    calendar: BusinessCalendar
    gateway: PaymentGateway
    origin: str  #: https://kaiin.example.jp, for the links in the overdue mail
    app_name: str
    lender_name: str
    phone: str


@dataclass(frozen=True, slots=True)
class RepayForm:
    choice: str = "due"
    amount: str = ""
    points: str = ""


@dataclass(frozen=True, slots=True)
class StartView:
    account: loans.Account
    due_now: int  #: 今回のご返済額 (0 when this cycle is paid)
    debit: dict | None  #: the member's automatic-debit account, if any
    preview: Preview | None  #: what paying 今回のご返済額 does (None when nothing is due now)


@dataclass(frozen=True, slots=True)
class Done:
    """A finished repayment as the done page shows it."""

    id: int
    channel: str
    status: str
    total: int
    money: int
    points: int
    points_earned: int
    entry: int  #: ledger row: /history/{entry}/receipt
    balance_after: int
    gateway_reference: str
    note: str
    created_at: datetime


async def _account(member_id: int, now: datetime, ctx: RepayContext, *, lock: bool = False) -> loans.Account:
    account = await loans.account_for_member(member_id, now, ctx.loan, lock=lock)
    if account is None:
        raise RepaymentError("ご契約が見つかりません。お客様サービスセンターにお問い合わせください。")
    return account


async def start(member_id: int, now: datetime, ctx: RepayContext) -> StartView:
    account = await _account(member_id, now, ctx)
    due = amount_due_now(account.position, ctx.repay)
    first = preview(account.position, Plan("due", due, 0, due), ctx.repay) if due else None
    return StartView(account, due, await debit_account(member_id, jst_date(now)), first)


async def prepare(member_id: int, form: RepayForm, now: datetime, ctx: RepayContext) -> tuple[loans.Account, Preview]:
    """Check the form against the position now and say what the payment would do. Writes nothing."""
    account = await _account(member_id, now, ctx)
    plan = choose(account.position, form.choice, form.amount, form.points, points_balance=account.points,
                  policy=ctx.repay)
    return account, preview(account.position, plan, ctx.repay)


STALE_FORM = "この確認画面は使えません。もう一度ご返済額の入力からお手続きください。"


def new_key() -> str:
    """The idempotency key a confirm form carries."""
    return secrets.token_urlsafe(24)


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key or ""):
        raise RepaymentError(STALE_FORM)
    return key


def _expected(total: str, ctx: RepayContext) -> int:
    try:
        return parse_whole(total, label="ご返済額", unit_word="円", field="", max_digits=ctx.repay.max_digits,
                           blank=None)
    except RepaymentError:
        raise RepaymentError(STALE_FORM) from None


async def pay(member_id: int, key: str, form: RepayForm, expected: str, now: datetime, ctx: RepayContext) -> int:
    """Pay what the confirm form says, once per ``key``; returns the repayment id (the same for a repeat).

    Raises ``RepaymentError`` when the form no longer fits the position (the total changed since the
    preview, a rule says no) and ``PaymentDeclined`` when the bank says no; nothing is written then.
    """
    request_key = f"{member_id}:{check_key(key)}"
    expected_total = _expected(expected, ctx)
    async with write_tx():
        account = await _account(member_id, now, ctx, lock=True)
        if (done := await _repayment_id(request_key)) is not None:
            return done
        plan = choose(account.position, form.choice, form.amount, form.points, points_balance=account.points,
                      policy=ctx.repay)
        if plan.total != expected_total:
            raise RepaymentError(
                f"ご返済額が変わりました（{expected_total:,}円 → {plan.total:,}円）。"
                "内容をご確認のうえ、もう一度お手続きください。")
        return await _post(account, plan, request_key, PAYEASY, now, ctx)


async def _post(account: loans.Account, plan: Plan, request_key: str, channel: str, now: datetime,
                ctx: RepayContext, debit: dict | None = None) -> int:
    """Collect ``plan.money`` from the bank, then write the ledger, the points and the repayment row."""
    position = account.position
    kind = Kind.REPAYMENT if plan.money else Kind.POINT_USE
    entries = position.payment_entries(plan.total, kind)
    reference = ""
    if plan.money:
        collected = await ctx.gateway.collect(Collection(
            key=request_key, method=channel, amount=plan.money, payer=account.member_no,
            account=_account_text(debit) if debit else ""))
        reference = collected.reference
    interest_before = await interest_repaid(account.contract_id)
    ids = await loans.post(account, entries, now, reference=reference or f"P{request_key[-12:]}", points=plan.points)
    earned = points_earned(interest_before, -entries[-1].interest, ctx.repay)
    updated = await Member.update({Member.points: Member.points - plan.points + earned}).where(
        (Member.id == account.member_id) & (Member.points >= plan.points)).returning(Member.id)
    if not updated:
        raise RepaymentError(f"ご利用いただけるVポイントが足りません（{account.points:,}pt）。")
    row = Repayment(
        request_key=request_key, member=account.member_id, contract=account.contract_id, channel=channel,
        choice=plan.choice, total=plan.total, money=plan.money, points=plan.points, points_earned=earned,
        status="paid", entry=ids[-1], balance_after=position.after(entries).balance,
        gateway_reference=reference, created_at=now,
    )
    await row.save()
    return row.id


async def _repayment_id(request_key: str) -> int | None:
    row = await Repayment.select(Repayment.id).where(Repayment.request_key == request_key).first()
    return row["id"] if row else None


async def interest_repaid(contract_id: int) -> int:
    """Interest repaid on the contract so far (late charge excluded): what points are earned on."""
    row = await LedgerEntry.select(Sum(LedgerEntry.interest, alias="paid")).where(
        (LedgerEntry.contract == contract_id) & LedgerEntry.kind.is_in(PAYMENT_KINDS)).first()
    return -int((row or {}).get("paid") or 0)


async def result(member_id: int, repayment_id: int) -> Done | None:
    """One of the member's repayments; None when there is no such repayment or it is someone else's."""
    if not 0 < repayment_id <= MAX_ROW_ID:  # no row's id (PostgreSQL would refuse it as an argument)
        return None
    row = await Repayment.select().where((Repayment.id == repayment_id) & (Repayment.member == member_id)).first()
    if row is None:
        return None
    return Done(
        id=row["id"], channel=row["channel"], status=row["status"], total=row["total"], money=row["money"],
        points=row["points"], points_earned=row["points_earned"], entry=row["entry"],
        balance_after=row["balance_after"], gateway_reference=row["gateway_reference"], note=row["note"],
        created_at=row["created_at"],
    )


# --- automatic debit ---------------------------------------------------------------------------------


async def debit_account(member_id: int, today: date) -> dict | None:
    """The member's automatic-debit account in force on ``today`` (never a pending one), or None."""
    return await debits.in_force(member_id, today)


def _account_text(debit: dict) -> str:
    return f"{debit['bank_code']}-{debit['branch_code']}-{debit['account_type']}-{debit['account_number']}"


def debit_key(contract_id: int, day: date) -> str:
    return f"debit:{contract_id}:{day.isoformat()}"


async def debit_one(member_id: int, now: datetime, ctx: RepayContext) -> str:
    """Debit what is still due today from the member's registered account, once per contract and day.

    Returns what happened: ``paid``, ``declined``, ``skipped`` (nothing due), ``done`` (already handled
    today, by this or another worker) or ``none`` (no active debit account). One transaction: the row
    keyed ``debit:<contract>:<day>`` is the claim, written with the ledger rows or not at all.
    """
    today = jst_date(now)
    async with write_tx():
        account = await _account(member_id, now, ctx, lock=True)
        key = debit_key(account.contract_id, today)
        if await _repayment_id(key) is not None:
            return "done"
        debit = await debit_account(member_id, today)
        if debit is None:  # none registered, or only one still pending (手続き中): nothing is debited
            return "none"
        amount = debit_amount(account.position, today)
        if amount <= 0:
            await _record(account, key, "skipped", "本日の返済期日のご返済額はお支払い済みです。", now)
            return "skipped"
        plan = Plan("debit", amount, 0, amount)
        try:
            await _post(account, plan, key, DEBIT, now, ctx, debit)
        except PaymentDeclined as declined:
            await _record(account, key, "declined", declined.message[:200], now, total=amount)
            return "declined"
        return "paid"


async def _record(account: loans.Account, key: str, status: str, note: str, now: datetime, *, total: int = 0) -> None:
    await Repayment(
        request_key=key, member=account.member_id, contract=account.contract_id, channel=DEBIT, choice="debit",
        total=total, money=0, status=status, balance_after=account.position.balance, note=note, created_at=now,
    ).save()


# --- the worker's rounds -----------------------------------------------------------------------------


def due_days_on(day: date, ctx: RepayContext, back: int = 0) -> dict[str, date]:
    """Stored due days whose due date (business-day shifted) fell within ``back`` days before ``day``
    (0: on ``day`` itself), mapped to that due date."""
    found: dict[str, date] = {}
    for offset in range(back, -1, -1) if back else (0,):
        target = day - timedelta(days=offset)
        for month in ((target.year, target.month), add_months((target.year, target.month), -1)):
            for due_day in ctx.loan.due_days:
                if due_date(month, due_day, ctx.calendar) == target:
                    found[due_day_text(due_day)] = target
    return found


def _falls_due(days: dict[str, date]):
    """Contracts whose stored due day falls on one of ``days``, or whose cached cycle under way is due on one
    of their dates: after a due-day change the cycle under way keeps the old day (``db.due_day``)."""
    clause = ContractRow.due_day.is_in(list(days))
    for day in sorted(set(days.values())):
        clause = clause | ContractRow.loan_state.like(loans.cached_due_date_pattern(day))
    return clause


def _due_of(row: dict, days: dict[str, date]) -> date | None:
    """The due date among ``days`` that this contract's cycle under way fell on, or None.

    The cached engine state says it (it is rewritten at every payment, due-day change and roll-over); the
    stored due day is the fallback when there is no cache or only one older than the window."""
    window = set(days.values())
    cached = loans.cached_due_date(row["loan_state"])
    if cached in window:
        return cached
    stored = days.get(row["due_day"])
    return stored if stored is not None and (cached is None or cached < min(window)) else None


async def debit_round(now: datetime, ctx: RepayContext, *, limit: int = 200) -> dict[str, int]:
    """On a due date: debit every member with an active debit account whose due date it is, once."""
    today = jst_date(now)
    days = due_days_on(today, ctx)
    counts = {"paid": 0, "declined": 0, "skipped": 0}
    if not days:
        return counts
    debits = await DebitAccount.select(DebitAccount.member).where(
        DebitAccount.cancelled_at.is_null() & (DebitAccount.active_from <= today))
    members = [row["member"] for row in debits]
    if not members:
        return counts
    contracts = await ContractRow.select(ContractRow.id, ContractRow.member).where(
        ContractRow.member.is_in(members) & _falls_due(days) & (ContractRow.status == "open"))
    keys = {debit_key(row["id"], today): row["member"] for row in contracts}
    if not keys:
        return counts
    seen = await Repayment.select(Repayment.request_key).where(Repayment.request_key.is_in(list(keys)))
    for key in [k for k in keys if k not in {row["request_key"] for row in seen}][:limit]:
        outcome = await debit_one(keys[key], now, ctx)
        if outcome in counts:
            counts[outcome] += 1
    return counts


async def rollover_round(now: datetime, ctx: RepayContext, *, back_days: int = 7, limit: int = 500) -> dict[str, int]:
    """After a due date: each contract with that due day is rolled over once (claimed per contract and due
    date); one that was not paid in full becomes overdue (borrowing stopped, late charge running)."""
    today = jst_date(now)
    days = due_days_on(today - timedelta(days=1), ctx, back=back_days)
    counts = {"checked": 0, "overdue": 0}
    if not days:
        return counts
    contracts = await ContractRow.select(ContractRow.id, ContractRow.member, ContractRow.due_day, ContractRow.loan_state).where(
        _falls_due(days) & (ContractRow.status == "open") & (ContractRow.principal > 0))
    dues = {row["id"]: (row["member"], _due_of(row, days)) for row in contracts}
    keys = {rollover_key(cid, due): (member, due) for cid, (member, due) in dues.items() if due is not None}
    if not keys:
        return counts
    taken = {row["key"] for row in await JobClaim.select(JobClaim.key).where(JobClaim.key.is_in(list(keys)))}
    for key in [k for k in keys if k not in taken][:limit]:
        outcome = await roll_over(keys[key][0], key, now, ctx, keys[key][1])
        counts["checked"] += outcome is not None
        counts["overdue"] += bool(outcome)
    return counts


def rollover_key(contract_id: int, due: date) -> str:
    return f"rollover:{contract_id}:{due.isoformat()}"


async def roll_over(member_id: int, key: str, now: datetime, ctx: RepayContext, due: date | None = None) -> bool | None:
    """Roll one contract over past its due date ``due``: claim ``key`` and cache the engine state as of today,
    so a missed due date is arrears and the late charge runs; an overdue member is mailed (once per missed
    due date). True when the member is overdue; None when another worker had claimed it."""
    async with write_tx():
        account = await _account(member_id, now, ctx, lock=True)
        taken = await JobClaim.insert(JobClaim(key=key, worker=WORKER, claimed_at=now)).on_conflict(
            target=JobClaim.key, action="DO NOTHING").returning(JobClaim.id)
        if not taken:
            return None
        position = account.position
        await ContractRow.update({ContractRow.loan_state: loans.cache_value(position.state, account.last_entry_id)}).where(
            ContractRow.id == account.contract_id)
        if position.overdue_since is not None and due is not None:
            await _overdue_mail(member_id, due, position, now, ctx)
        return position.overdue_since is not None


async def _overdue_mail(member_id: int, missed: date, position: Position, now: datetime, ctx: RepayContext) -> None:
    """Queue the overdue notice for the missed due date ``missed``, once, in the roll-over's transaction.

    The claim is the reminder job's own (``ReminderSent`` key ``<member>:overdue:<first late day>``), so the
    overdue notice that job sends instead of a reminder is never a second mail for the same missed date.
    """
    member = await Member.select(Member.name, Member.email, Member.status).where(Member.id == member_id).first()
    if not member or not member["email"] or member["status"] == "suspended":
        return
    late_from = missed + timedelta(days=1)
    claimed = await ReminderSent.insert(ReminderSent(
        key=f"{member_id}:overdue:{late_from.isoformat()}", member=member_id, kind="overdue", on_date=late_from,
        queued_at=now)).on_conflict(target=ReminderSent.key, action="DO NOTHING").returning(ReminderSent.id)
    if not claimed:
        return
    notice = overdue_notice_text(
        name=member["name"], missed=missed, arrears=position.arrears, late_rate=format_rate(ctx.loan.late_charge_rate),
        link=f"{ctx.origin}/repayments/new", settings_url=f"{ctx.origin}/settings/reminder", app_name=ctx.app_name,
        lender_name=ctx.lender_name, phone=ctx.phone)
    mail_id = await mail.enqueue(to_addr=member["email"], notice=notice, now=now, member=member_id)
    await ReminderSent.update({ReminderSent.outbox: mail_id}).where(ReminderSent.id == claimed[0]["id"])
