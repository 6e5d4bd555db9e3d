"""口座振替 (automatic debit): the member's registrations, and registering or changing the account.

    view = await debits.view(member_id, now, ctx)                 # in force, pending, the due day
    done = await debits.register(member_id, form, now=now, ctx=ctx, notice=notice)
    row = await debits.in_force(member_id, today)                 # what the worker debits today

Rules (product.md §5, numbers from ``RepaymentPolicy``): an account at one of ``debit_instant_banks``
(三井住友銀行, PayPay銀行) is in force at once with any due day. Any other bank needs
``debit_pending_business_days`` business days (``domain.business_days`` with the national holidays of
``db.holidays``): until then it is pending (手続き中) and never debited, and the due day becomes
``debit_fixed_due_day`` from the next due date on, exactly as the due-day page changes it
(``db.due_day.apply_due_day``). While a new account is pending, the account in force before it keeps
being debited. Rows are never edited: a change cancels what it replaces and adds a row.

One transaction per registration: the contract is locked (the due day and the engine cache change with
it), the old rows are cancelled, the new row, the due-day change and the mail to the member are written
together or not at all. Bad input raises ``PayeeFieldErrors`` (the payee form's rules) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from db import banks, loans, mail
from db.due_day import apply_due_day, as_date
from db.engine import write_tx
from db.tables import DebitAccount, Member
from domain import transfers as account_rules
from domain.due_day_change import DueDayChange
from domain.loan import jst_date
from domain.repayment import DebitTerms, RepaymentError, debit_in_force, debit_notice, debit_terms
from domain.transfers import ACCOUNT_TYPES, TransferPolicy

if TYPE_CHECKING:  # db.repayments imports this module for the worker's debit
    from db.repayments import RepayContext


@dataclass(frozen=True, slots=True)
class Registration:
    """One automatic-debit account as the page shows it."""

    id: int
    bank_code: str
    bank_name: str
    branch_code: str
    account_type: str
    account_number: str
    holder_name: str
    active_from: date  #: the first day it may be debited
    registered_at: datetime
    active: bool  #: in force today (else pending: 手続き中)

    @property
    def type_label(self) -> str:
        return ACCOUNT_TYPES.get(self.account_type, "")

    @property
    def masked_number(self) -> str:
        return account_rules.mask_account_number(self.account_number)

    @property
    def status_label(self) -> str:
        return "有効" if self.active else "手続き中"


@dataclass(frozen=True, slots=True)
class DebitView:
    current: Registration | None  #: debited on due dates now
    pending: Registration | None  #: registered, in force from ``pending.active_from``
    due_day: int  #: the member's due day (31 = month end)
    next_due_date: date | None


@dataclass(frozen=True, slots=True)
class DebitForm:
    bank_code: str = ""
    branch_code: str = ""
    account_type: str = ""
    account_number: str = ""
    holder_name: str = ""


@dataclass(frozen=True, slots=True)
class NoticeContext:
    """What the mail to the member needs besides the registration."""

    transfer_policy: TransferPolicy  #: the account-field rules (holder name length) shared with payees
    app_name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Registered:
    registration: Registration
    terms: DebitTerms
    due_day_change: DueDayChange | None  #: set when registering moved the due day to the fixed day
    changed: bool  #: an account was registered before


async def _rows(member_id: int) -> list[dict]:
    rows = await DebitAccount.select().where(
        (DebitAccount.member == member_id) & DebitAccount.cancelled_at.is_null()
    ).order_by(DebitAccount.id, ascending=False)
    for row in rows:
        row["active_from"] = as_date(row["active_from"])
    return rows


def _registration(row: dict | None, today: date) -> Registration | None:
    if row is None:
        return None
    return Registration(
        id=row["id"], bank_code=row["bank_code"], bank_name=row["bank_name"], branch_code=row["branch_code"],
        account_type=row["account_type"], account_number=row["account_number"], holder_name=row["holder_name"],
        active_from=row["active_from"], registered_at=row["registered_at"], active=row["active_from"] <= today,
    )


async def in_force(member_id: int, today: date) -> dict | None:
    """The account the worker debits on ``today`` (a pending one never), or None."""
    current, _ = debit_in_force(await _rows(member_id), today, lambda r: r["active_from"])
    return current


async def registrations(member_id: int, today: date) -> tuple[Registration | None, Registration | None]:
    """(in force, pending) on ``today``."""
    current, pending = debit_in_force(await _rows(member_id), today, lambda r: r["active_from"])
    return _registration(current, today), _registration(pending, today)


async def view(member_id: int, now: datetime, ctx: RepayContext) -> DebitView:
    account = await loans.account_for_member(member_id, now, ctx.loan)
    if account is None:
        raise RepaymentError("ご契約が見つかりません。お客様サービスセンターにお問い合わせください。")
    current, pending = await registrations(member_id, jst_date(now))
    return DebitView(current, pending, account.position.contract.due_day, account.position.next_due_date)


async def register(member_id: int, form: DebitForm, *, now: datetime, ctx: RepayContext,
                   notice: NoticeContext) -> Registered:
    """Register the member's automatic-debit account, or change it; the member is told by mail.

    The caller has made sure the session is stepped up. Raises ``PayeeFieldErrors`` for bad fields and
    ``RepaymentError`` when the member has no contract; nothing changes then.
    """
    known = {bank.code for bank in await banks.all_banks()}
    parsed = account_rules.parse_payee(form.bank_code, form.branch_code, form.account_type, form.account_number,
                                       form.holder_name, known_bank=known.__contains__, policy=notice.transfer_policy)
    bank = await banks.find(parsed.bank_code)
    assert bank is not None  # parse_payee checked it against the same list
    today = jst_date(now)
    async with write_tx():
        account = await loans.account_for_member(member_id, now, ctx.loan, lock=True)
        if account is None:
            raise RepaymentError("ご契約が見つかりません。お客様サービスセンターにお問い合わせください。")
        before = await _rows(member_id)
        terms = debit_terms(bank.code, account.position.contract.due_day, today, ctx.calendar, ctx.repay)
        # an account in force at once replaces everything; a pending one replaces only what is pending,
        # so the account in force keeps being debited until the new one takes over
        replaced = [r["id"] for r in before if terms.instant or r["active_from"] > today]
        if replaced:
            await DebitAccount.update({DebitAccount.cancelled_at: now}).where(DebitAccount.id.is_in(replaced))
        rows = await DebitAccount.insert(DebitAccount(
            member=member_id, bank_code=bank.code, bank_name=bank.name, branch_code=parsed.branch_code,
            account_type=parsed.account_type, account_number=parsed.account_number, holder_name=parsed.holder_name,
            active_from=terms.active_from, registered_at=now,
        )).returning(*DebitAccount.all_columns())
        change = await apply_due_day(account, terms.due_day, ctx.loan) if terms.due_day_changes else None
        member = await Member.select(Member.name, Member.email).where(Member.id == member_id).first()
        if member and member["email"]:
            await mail.enqueue(to_addr=member["email"], now=now, member=member_id, notice=debit_notice(
                name=member["name"], bank_name=bank.name, branch_code=parsed.branch_code,
                type_label=parsed.type_label, masked_number=parsed.masked_number, changed=bool(before),
                terms=terms, due_day_summary=change.summary() if change else "", at=now,
                app_name=notice.app_name, phone=notice.phone))
    row = {**rows[0], "active_from": terms.active_from}
    return Registered(_registration(row, today), terms, change, bool(before))  # type: ignore[arg-type]
