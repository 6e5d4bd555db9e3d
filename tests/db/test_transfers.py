"""Transfer borrowing against a real engine (SQLite and PostgreSQL): the money never moves twice and
never beyond the available credit; queued, failed and interrupted transfers end where they should."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from db import loans, mail, payees, transfers
from db.bank_gateway import BankAnswer, BankUnavailable, SimulatedBank
from db.tables import LedgerEntry, Member, SimulatedBankPayment, Transfer
from domain.transfers import JST, TransferError, TransferPolicy, seal
from tests.auth_helpers import run
from tests.conftest import make_member
from web.deps import transfer_context

FRIDAY_NOON = datetime(2026, 11, 20, 12, 0, tzinfo=JST)  # bank hours
FRIDAY_LATE = datetime(2026, 11, 20, 15, 0, tzinfo=JST)  # after 14:50; Mon 23 is 勤労感謝の日
TUESDAY_0930 = datetime(2026, 11, 24, 9, 30, tzinfo=JST)


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.fixture
def ctx(settings):
    return transfer_context(settings)


def register(member_id: int, bank: str = "0009", number: str = "1234567", now: datetime = FRIDAY_NOON):
    form = payees.PayeeForm(bank_code=bank, branch_code="123", account_type="1", account_number=number,
                            holder_name="ヤマダ タロウ")
    return run(payees.register(member_id, form, now=now - timedelta(days=1), policy=TransferPolicy(),
                               app_name="カイイン", phone="0120-000-000"))


def borrower(settings, bank: str = "0009", **fields) -> int:
    member_id = make_member(settings, **fields)
    register(member_id, bank)
    return member_id


def form_for(ctx, member_id: int, amount: int, now: datetime, key: str | None = None) -> transfers.ConfirmForm:
    payee = run(payees.current(member_id))
    fields = transfers.new_confirm_fields(member_id, amount, payee.id, now, ctx)
    if key:
        fields = {**fields, "key": key}
        fields["token"] = seal(ctx.secret, member_id, amount, payee.id, key, now)
    return transfers.ConfirmForm(**{k: str(v) for k, v in fields.items()})


async def principal(member_id: int, now: datetime, ctx) -> int:
    account = await loans.account_for_member(member_id, now, ctx.loan_policy)
    return account.position.balance


async def ledger(member_id: int) -> list[dict]:
    return await LedgerEntry.select().where(LedgerEntry.contract.member == member_id).order_by(LedgerEntry.id)


async def snapshot(member_id: int) -> tuple:
    return (len(await ledger(member_id)), await Transfer.count().where(Transfer.member == member_id),
            await SimulatedBankPayment.count())


# --- the happy paths -----------------------------------------------------------------------------------------


def test_a_24_hour_bank_is_paid_at_once_and_the_borrowing_dated_today(settings, ctx):
    member = borrower(settings)
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 50_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    assert receipt.status == "sent" and receipt.amount == 50_000
    assert receipt.sent_at == FRIDAY_LATE
    rows = run(ledger(member))
    assert [(r["kind"], r["amount"], str(r["value_date"])) for r in rows] == [("borrowing", 50_000, "2026-11-20")]
    assert run(principal(member, FRIDAY_LATE, ctx)) == 50_000
    # the amount due this borrowing sets: ¥50,000 × 3.61% → ¥2,000 (rounded up to ¥1,000), due Jan 5
    assert (receipt.amount_due, str(receipt.next_due_date)) == (2_000, "2027-01-05")
    assert run(SimulatedBankPayment.count()) == 1


def test_another_bank_after_1450_waits_for_the_next_business_day(settings, ctx):
    member = borrower(settings, bank="0134")  # 千葉銀行: bank hours only
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 100_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    assert receipt.status == "queued"
    assert receipt.send_at == TUESDAY_0930
    assert run(ledger(member)) == []  # nothing is borrowed until the money is sent…
    quote = run(transfers.quote(member, None, FRIDAY_LATE, ctx))
    assert quote.available == 400_000  # …but the amount is reserved

    assert run(transfers.send_due(TUESDAY_0930 - timedelta(seconds=1), ctx))["claimed"] == 0
    assert run(transfers.send_due(TUESDAY_0930, ctx))["sent"] == 1
    rows = run(ledger(member))
    assert [(r["kind"], str(r["value_date"])) for r in rows] == [("borrowing", "2026-11-24")]  # the day it was sent
    done = run(transfers.receipt(member, receipt.transfer_no, TUESDAY_0930))
    assert done.status == "sent" and str(done.borrowed_on) == "2026-11-24"
    assert run(transfers.quote(member, None, TUESDAY_0930, ctx)).available == 400_000
    assert run(transfers.send_due(TUESDAY_0930 + timedelta(hours=1), ctx))["claimed"] == 0


def test_before_nine_on_a_business_day_waits_until_0930(settings, ctx):
    member = borrower(settings, bank="0177")
    now = jst("2026-11-24 07:10")
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 10_000, now), now, ctx))
    assert receipt.status == "queued" and receipt.send_at == TUESDAY_0930
    assert "本日 9:30ごろ" in receipt.arrival_text


# --- never twice ----------------------------------------------------------------------------------------------


def test_the_same_confirm_form_gives_the_same_receipt(settings, ctx):
    member = borrower(settings)
    form = form_for(ctx, member, 30_000, FRIDAY_NOON)
    first = run(transfers.request_transfer(member, form, FRIDAY_NOON, ctx))
    again = run(transfers.request_transfer(member, form, FRIDAY_NOON + timedelta(seconds=5), ctx))
    assert again == first
    assert run(snapshot(member)) == (1, 1, 1)


def test_ten_parallel_confirms_with_one_key_make_one_transfer(settings, ctx):
    member = borrower(settings)
    form = form_for(ctx, member, 20_000, FRIDAY_NOON)

    async def go():
        return await asyncio.gather(*(transfers.request_transfer(member, form, FRIDAY_NOON, ctx) for _ in range(10)))

    receipts = run(go())
    assert len({r.transfer_no for r in receipts}) == 1
    assert run(snapshot(member)) == (1, 1, 1)
    assert run(principal(member, FRIDAY_NOON, ctx)) == 20_000


@pytest.mark.parametrize("queued", [False, True], ids=["sent-at-once", "queued"])
def test_ten_parallel_transfers_never_exceed_the_available_credit(settings, ctx, queued):
    member = borrower(settings, bank="0134" if queued else "0009", credit_limit=100_000)
    now = FRIDAY_LATE if queued else FRIDAY_NOON
    forms = [form_for(ctx, member, 30_000, now) for _ in range(10)]

    async def one(form):
        try:
            return await transfers.request_transfer(member, form, now, ctx)
        except TransferError as error:
            return error

    results = run(_gather(one, forms))
    ok = [r for r in results if not isinstance(r, TransferError)]
    refused = [r for r in results if isinstance(r, TransferError)]
    assert len(ok) == 3 and len(refused) == 7  # 3 × ¥30,000 fit in ¥100,000, a fourth does not
    assert all("10,000円まで" in e.message for e in refused)
    if queued:
        run(transfers.send_due(TUESDAY_0930, ctx))
    assert run(principal(member, TUESDAY_0930, ctx)) == 90_000
    assert run(Transfer.count().where(Transfer.status == "sent")) == 3


async def _gather(one, forms):
    return await asyncio.gather(*(one(f) for f in forms))


# --- refused, and nothing changes ----------------------------------------------------------------------------


def test_a_changed_amount_a_skipped_step_or_another_members_form_is_refused(settings, ctx):
    member = borrower(settings)
    other = borrower(settings, card_number="9876543210", web_id="hanako2024", email="hanako@example.jp")
    good = form_for(ctx, member, 10_000, FRIDAY_NOON)
    before = run(snapshot(member))
    other_form = form_for(ctx, other, 10_000, FRIDAY_NOON)
    cases = [
        replace(good, amount="90000"),  # changed between confirm page and confirm
        replace(good, token=""),  # no confirm page at all
        replace(good, token=good.token[:-1] + ("0" if good.token[-1] != "0" else "1")),
        replace(good, payee_id=other_form.payee_id),  # another member's account
        replace(good, key="x" * 20),
        replace(good, amount="１００００"),
    ]
    for form in cases:
        with pytest.raises(TransferError, match="やり直してください"):
            run(transfers.request_transfer(member, form, FRIDAY_NOON, ctx))
    with pytest.raises(TransferError, match="やり直してください"):  # the other member's own form, posted by member
        run(transfers.request_transfer(member, other_form, FRIDAY_NOON, ctx))
    with pytest.raises(TransferError, match="有効期限（10分）"):
        run(transfers.request_transfer(member, good, FRIDAY_NOON + timedelta(minutes=11), ctx))
    assert run(snapshot(member)) == before
    assert run(principal(other, FRIDAY_NOON, ctx)) == 0


def test_a_payee_changed_after_the_confirm_page_is_refused(settings, ctx):
    member = borrower(settings)
    form = form_for(ctx, member, 10_000, FRIDAY_NOON)
    register(member, "0033", "7654321")
    with pytest.raises(TransferError, match="振込先口座が変更された"):
        run(transfers.request_transfer(member, form, FRIDAY_NOON, ctx))
    assert run(snapshot(member))[:2] == (0, 0)


def test_a_just_changed_payee_account_receives_at_most_the_cap(settings, ctx):
    """security.md §7 item 41: after a change (not the first registration) the new account gets at most
    ¥50,000 in 24 hours, whatever the credit; ten parallel confirms cannot beat the cap; then it lifts."""
    member = borrower(settings, credit_limit=500_000)  # first account: registered a day ago, no cap
    assert run(transfers.quote(member, None, FRIDAY_NOON, ctx)).payee_note == ""
    register(member, "0033", "7654321", now=FRIDAY_NOON + timedelta(days=1) - timedelta(hours=1))  # changed 11:00
    quote = run(transfers.quote(member, None, FRIDAY_NOON, ctx))
    assert quote.available == 50_000 and quote.largest == 50_000
    assert "24時間（11月20日 11:00まで）" not in quote.payee_note and "11月21日 11:00まで" in quote.payee_note
    with pytest.raises(TransferError, match="50,000円まで"):
        run(transfers.quote(member, "60000", FRIDAY_NOON, ctx))

    async def one(form):
        try:
            return await transfers.request_transfer(member, form, FRIDAY_NOON, ctx)
        except TransferError as error:
            return error

    results = run(_gather(one, [form_for(ctx, member, 30_000, FRIDAY_NOON) for _ in range(10)]))
    assert len([r for r in results if not isinstance(r, TransferError)]) == 1, "30,000 + 30,000 > 50,000"
    assert run(transfers.quote(member, None, FRIDAY_NOON, ctx)).available == 20_000
    run(transfers.request_transfer(member, form_for(ctx, member, 20_000, FRIDAY_NOON), FRIDAY_NOON, ctx))
    spent = run(transfers.quote(member, None, FRIDAY_NOON, ctx))
    assert spent.available == 0 and "期間が過ぎてから" in spent.refusal
    later = FRIDAY_NOON + timedelta(days=1)  # Saturday 12:00: the 24 hours have passed
    lifted = run(transfers.quote(member, None, later, ctx))
    assert lifted.payee_note == "" and lifted.available == 500_000 - 50_000
    assert run(principal(member, later, ctx)) == 50_000


@pytest.mark.parametrize(("status", "message"), [
    ("borrowing_stopped", "お借入れ"), ("suspended", "お借入れ"),
])
def test_members_who_may_not_borrow_are_refused(settings, ctx, status, message):
    member = borrower(settings)
    form = form_for(ctx, member, 10_000, FRIDAY_NOON)
    run(Member.update({Member.status: status, Member.status_reason: "現在お借入れを停止しています。"}).where(
        Member.id == member))
    with pytest.raises(TransferError, match="停止"):
        run(transfers.request_transfer(member, form, FRIDAY_NOON, ctx))
    assert run(snapshot(member))[:2] == (0, 0)
    assert run(transfers.quote(member, None, FRIDAY_NOON, ctx)).available == 0


def test_no_payee_no_borrowing(settings, ctx):
    member = make_member(settings)
    quote = run(transfers.quote(member, None, FRIDAY_NOON, ctx))
    assert quote.payee is None and "振込先口座が登録されていません" in quote.refusal
    with pytest.raises(TransferError, match="振込先口座が登録されていません"):
        run(transfers.quote(member, "10000", FRIDAY_NOON, ctx))


# --- the bank says no --------------------------------------------------------------------------------------


def test_a_failed_transfer_is_reversed_and_the_member_told(settings, ctx):
    member = borrower(settings, bank="0005")
    failing = replace(ctx, gateway=SimulatedBank(ctx.calendar, ctx.policy, fail_accounts=("0005-123-1234567",)))
    receipt = run(transfers.request_transfer(member, form_for(failing, member, 40_000, FRIDAY_NOON), FRIDAY_NOON, failing))
    assert receipt.status == "failed" and "お振込みできませんでした" in receipt.failure
    rows = run(ledger(member))
    assert [(r["kind"], r["principal"]) for r in rows] == [("borrowing", 40_000), ("reversal", -40_000)]
    assert run(principal(member, FRIDAY_NOON, ctx)) == 0
    assert run(transfers.quote(member, None, FRIDAY_NOON, ctx)).available == 500_000
    notices = [m for m in run(mail.newest(to_addr="taro@example.jp")) if m.kind == "transfer_failed"]
    assert len(notices) == 1 and "40,000円" in notices[0].body and receipt.transfer_no in notices[0].body


def test_a_queued_transfer_for_a_member_stopped_meanwhile_is_cancelled(settings, ctx):
    member = borrower(settings, bank="0134")
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 10_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    run(Member.update({Member.status: "suspended"}).where(Member.id == member))
    assert run(transfers.send_due(TUESDAY_0930, ctx))["cancelled"] == 1
    assert run(transfers.receipt(member, receipt.transfer_no, TUESDAY_0930)).status == "cancelled"
    assert run(ledger(member)) == [] and run(SimulatedBankPayment.count()) == 0


# --- workers: interrupted, racing, maintenance ----------------------------------------------------------------


class SilentBank:
    """A bank that takes the order and never answers (the connection drops)."""

    def __init__(self, inner):
        self.inner = inner

    async def send(self, order, now):
        await self.inner.send(order, now)
        raise BankUnavailable("timeout")


def test_a_send_without_an_answer_is_taken_over_and_paid_once(settings, ctx):
    member = borrower(settings, bank="0134")
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 10_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    silent = replace(ctx, gateway=SilentBank(ctx.gateway))
    assert run(transfers.send_due(TUESDAY_0930, silent, worker="w1"))["pending"] == 1
    assert run(transfers.receipt(member, receipt.transfer_no, TUESDAY_0930)).status == "sending"
    # while w1's claim holds, nobody else touches it
    assert run(transfers.send_due(TUESDAY_0930 + timedelta(seconds=30), ctx, worker="w2"))["claimed"] == 0
    # when it lapses, w2 sends again with the same number: the bank pays once, the ledger has one borrowing
    later = TUESDAY_0930 + timedelta(seconds=ctx.claim_seconds + 1)
    assert run(transfers.send_due(later, ctx, worker="w2"))["sent"] == 1
    assert run(SimulatedBankPayment.count()) == 1
    assert [r["kind"] for r in run(ledger(member))] == ["borrowing"]
    row = run(Transfer.select(Transfer.attempts, Transfer.status).first())
    assert row == {"attempts": 2, "status": "sent"}


def test_two_workers_at_once_send_each_transfer_once(settings, ctx):
    members = [borrower(settings, bank="0134", card_number=f"55500000{i:02d}", web_id=f"worker{i:02d}xx")
               for i in range(4)]
    for member in members:
        for amount in (10_000, 20_000):
            run(transfers.request_transfer(member, form_for(ctx, member, amount, FRIDAY_LATE), FRIDAY_LATE, ctx))

    async def race():
        return await asyncio.gather(*(transfers.send_due(TUESDAY_0930, ctx, worker=f"w{i}") for i in range(3)))

    results = run(race())
    assert sum(r["sent"] for r in results) == 8
    assert run(SimulatedBankPayment.count()) == 8
    assert run(LedgerEntry.count().where(LedgerEntry.kind == "borrowing")) == 8
    for member in members:
        assert run(principal(member, TUESDAY_0930, ctx)) == 30_000


def test_a_transfer_due_in_a_maintenance_window_is_sent_after_it(settings, ctx):
    from db import maintenance

    member = borrower(settings, bank="0134")
    run(maintenance.add_window(jst("2026-11-24 09:00"), jst("2026-11-24 10:00"), "システム更新",
                               now=FRIDAY_LATE - timedelta(hours=1)))
    receipt = run(transfers.request_transfer(member, form_for(ctx, member, 10_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    assert receipt.send_at == jst("2026-11-24 10:00")
    assert run(transfers.send_due(jst("2026-11-24 09:45"), ctx))["claimed"] == 0
    assert run(transfers.send_due(jst("2026-11-24 10:00"), ctx))["sent"] == 1


def test_the_worker_waits_out_a_window_added_after_queueing(settings, ctx):
    from db import maintenance

    member = borrower(settings, bank="0134")
    run(transfers.request_transfer(member, form_for(ctx, member, 10_000, FRIDAY_LATE), FRIDAY_LATE, ctx))
    run(maintenance.add_window(jst("2026-11-24 09:00"), jst("2026-11-24 11:00"), "臨時メンテナンス",
                               now=FRIDAY_LATE))
    assert run(transfers.send_due(jst("2026-11-24 10:59"), ctx))["claimed"] == 0
    assert run(transfers.send_due(jst("2026-11-24 11:00"), ctx))["sent"] == 1


def test_in_maintenance_nothing_may_be_borrowed(settings, ctx):
    member = borrower(settings)
    monday = jst("2026-11-30 03:00")  # the weekly window
    quote = run(transfers.quote(member, None, monday, ctx))
    assert "メンテナンス中" in quote.refusal
    form = form_for(ctx, member, 10_000, monday)
    with pytest.raises(TransferError, match="メンテナンス中"):
        run(transfers.request_transfer(member, form, monday, ctx))


def test_demo_members_can_borrow_at_once(settings, ctx):
    from db import demo
    from db.tables import Card
    from web.app import hasher

    run(demo.load(hasher=hasher(settings), now=FRIDAY_NOON, policy=ctx.loan_policy, bulk_rows=0))
    run(demo.load(hasher=hasher(settings), now=FRIDAY_NOON, policy=ctx.loan_policy, bulk_rows=0))  # idempotent
    card = run(Card.select(Card.member).where(Card.card_number == "1234567890").first())
    payee = run(payees.current(card["member"]))
    assert (payee.bank_name, payee.instant, payee.holder_name) == ("三井住友銀行", True, "ヤマダ\u3000タロウ")
    assert run(transfers.quote(card["member"], "10000", FRIDAY_NOON, ctx)).arrival.immediate
