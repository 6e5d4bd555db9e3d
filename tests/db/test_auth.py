"""Sign-in, lockout, codes and operator actions against a real engine (SQLite and PostgreSQL).

security.md §7 items 1–6 and 47 at the use-case level; the HTTP tests repeat the visible parts.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from db import auth, mail
from db.tables import AuditEvent, Credential, Member, OneTimeCode, OutboxMail
from domain.credentials import LoginIdentifier
from tests.conftest import make_member
from web.app import hasher as build_hasher

from tests.auth_helpers import last_code, run

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1"


class CountingHasher:
    """The real hasher, counting how often a member's stored hash is checked."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.real = 0
        self.dummy = 0
        self._lock = threading.Lock()

    def hash(self, secret):
        return self.inner.hash(secret)

    def verify(self, stored_hash, secret):
        with self._lock:
            self.real += 1
        return self.inner.verify(stored_hash, secret)

    def dummy_verify(self, secret):
        with self._lock:
            self.dummy += 1
        self.inner.dummy_verify(secret)


@pytest.fixture
def hasher(settings):
    return CountingHasher(build_hasher(settings))


def context(settings, hasher, now=NOW, ip="198.51.100.7") -> auth.AuthContext:
    return auth.AuthContext(
        now=now, policy=settings.auth_policy(), hasher=hasher, code_key=b"k" * 32,
        app_name=settings.app_name, support_phone=settings.lender_phone, ip=ip,
    )


async def _pin_row(member_id: int) -> dict:
    return await Credential.select(Credential.failed_count, Credential.locked_at, Credential.secret_hash).where(
        (Credential.member == member_id) & (Credential.kind == "pin")
    ).first()


async def _card(ctx, pin: str, card: str = "1234567890"):
    return await auth.sign_in_with_card(card, pin, device=UA, ctx=ctx)


async def _outcomes(ctx, pins: list[str]) -> list[object]:
    return await asyncio.gather(*(_card(ctx, pin) for pin in pins), return_exceptions=True)


# --- item 1: parallel guesses -----------------------------------------------------------------


def test_twenty_parallel_wrong_pins_verify_at_most_three_and_lock(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)

    async def attack():
        results = await _outcomes(ctx, [f"{n:04d}" for n in range(5000, 5020)])
        return results, await _pin_row(member_id)

    results, row = run(attack())
    assert all(isinstance(r, auth.SignInFailed) for r in results)
    assert hasher.real == 3, "only the reserved attempts reach the verifier"
    assert hasher.dummy == 17, "the rest cost a dummy run (no timing oracle)"
    assert row["failed_count"] == 3 and row["locked_at"] is not None
    locks = run(AuditEvent.count().where(AuditEvent.action == "lockout_pin"))
    assert locks == 1
    notices = run(OutboxMail.select(OutboxMail.kind, OutboxMail.to_addr).where(OutboxMail.kind == "locked"))
    assert notices == [{"kind": "locked", "to_addr": "taro@example.jp"}]


def test_a_right_pin_in_the_flood_resets_but_each_run_of_failures_stays_at_three(settings, hasher):
    """A success resets the count (policy), so the bound is three verifications per run of failures."""
    make_member(settings)
    ctx = context(settings, hasher)
    pins = [f"{n:04d}" for n in range(6000, 6019)] + ["1234"]
    results = run(_outcomes(ctx, pins))
    successes = sum(isinstance(r, auth.SignedIn) for r in results)
    assert successes <= 1
    assert hasher.real <= settings.lockout_threshold * (successes + 1)


# --- item 2: factors are separate -------------------------------------------------------------


def test_pin_and_password_lock_separately(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)

    async def attack():
        pin_tries = [_card(ctx, f"{n:04d}") for n in range(10)]
        pw_tries = [
            auth.sign_in_with_login_id(LoginIdentifier("web_id", "taro2024"), f"wrong-pass-{n}", device=UA, ctx=ctx)
            for n in range(10)
        ]
        await asyncio.gather(*pin_tries, *pw_tries, return_exceptions=True)
        return await auth.factor_state(member_id)

    assert run(attack()) == {"pin": True, "password": True}
    assert hasher.real == 6, "three per factor"


def test_locked_pin_leaves_password_sign_in_working(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    run(_outcomes(ctx, ["0000", "1111", "2222"]))
    signed = run(auth.sign_in_with_login_id(LoginIdentifier("web_id", "taro2024"), "correct-horse", device=UA, ctx=ctx))
    assert signed.status == "active"
    # a card number in place of the Web-ID reaches the same password factor
    signed = run(auth.sign_in_with_login_id(LoginIdentifier("card", "1234567890"), "correct-horse", device=UA, ctx=ctx))
    assert signed.member_no


# --- item 3: no oracle after the lock ---------------------------------------------------------


def test_right_pin_after_lock_is_refused_without_checking_the_hash(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    run(_outcomes(ctx, ["0000", "1111", "2222"]))
    real_before = hasher.real
    with pytest.raises(auth.SignInFailed) as locked:
        run(_card(ctx, "1234"))
    with pytest.raises(auth.SignInFailed) as unknown:
        run(_card(ctx, "1234", card="9999999999"))
    assert hasher.real == real_before, "the stored hash is never compared while locked"
    assert str(locked.value) == str(unknown.value)
    assert "3回続けて間違えるとロックされます" in str(locked.value)


# --- item 4: success resets -------------------------------------------------------------------


def test_success_resets_the_counter(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)

    async def sequence():
        for pin in ("0000", "1111"):
            with pytest.raises(auth.SignInFailed):
                await _card(ctx, pin)
        await _card(ctx, "1234")
        for pin in ("0000", "1111"):
            with pytest.raises(auth.SignInFailed):
                await _card(ctx, pin)
        return await _pin_row(member_id)

    row = run(sequence())
    assert row["failed_count"] == 2 and row["locked_at"] is None
    assert run(_card(ctx, "1234")).member_id == member_id


# --- item 5: failures while locked change nothing ---------------------------------------------


def test_failures_while_locked_change_no_state_but_are_audited(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)
    run(_outcomes(ctx, ["0000", "1111", "2222"]))
    before = run(_pin_row(member_id))
    mails_before = run(OutboxMail.count())
    audits_before = run(AuditEvent.count())
    later = context(settings, hasher, now=NOW + timedelta(hours=1))
    run(_outcomes(later, ["3333", "1234", "4444"]))
    assert run(_pin_row(member_id)) == before, "no extension, no counter change"
    assert run(OutboxMail.count()) == mails_before, "no second lockout mail"
    assert run(AuditEvent.count()) == audits_before + 3
    outcomes = run(AuditEvent.select(AuditEvent.outcome).where(AuditEvent.at == later.now))
    assert [r["outcome"] for r in outcomes] == ["locked"] * 3


# --- suspended members ------------------------------------------------------------------------


def test_suspended_member_learns_why_only_after_the_right_secret(settings, hasher):
    make_member(settings, status="suspended")
    ctx = context(settings, hasher)
    with pytest.raises(auth.SignInFailed) as wrong:
        run(_card(ctx, "9999"))
    assert "停止" not in str(wrong.value)
    with pytest.raises(auth.MemberSuspended) as right:
        run(_card(ctx, "1234"))
    assert "停止" in str(right.value) and settings.lender_phone in str(right.value)


def test_borrowing_stopped_member_signs_in_with_status(settings, hasher):
    make_member(settings, status="borrowing_stopped", status_reason="返済日を過ぎたご返済があります")
    signed = run(_card(context(settings, hasher), "1234"))
    assert signed.status == "borrowing_stopped"
    assert signed.status_reason == "返済日を過ぎたご返済があります"


# --- new device notice ------------------------------------------------------------------------


def test_new_device_notice_once_per_browser(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    assert run(_card(ctx, "1234")).new_device
    assert not run(_card(ctx, "1234")).new_device
    other = run(auth.sign_in_with_card("1234567890", "1234", device="Mozilla/5.0 (Android 15) Chrome/140", ctx=ctx))
    assert other.new_device
    kinds = [m.kind for m in run(mail.newest())]
    assert kinds.count("new_device") == 2


# --- item 6: unlock paths are strong and notify -----------------------------------------------


def test_recovery_unlocks_the_password_ends_sessions_and_notifies(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)

    async def flow():
        for n in range(3):
            with pytest.raises(auth.SignInFailed):
                await auth.sign_in_with_login_id(LoginIdentifier("web_id", "taro2024"), f"bad-pass-{n}", device=UA, ctx=ctx)
        epoch_before = (await auth.session_state(member_id))[1]
        code_id = await auth.start_recovery(LoginIdentifier("card", "1234567890"), date(1990, 4, 1), ctx)
        code_mail = (await mail.newest(limit=1))[0]
        code = next(line.split("：")[1] for line in code_mail.body.splitlines() if line.startswith("確認コード："))
        assert await auth.verify_recovery_code(code_id, code, ctx) == member_id
        await auth.set_secret(member_id, "password", "new-password-2026", ctx=ctx, action="recover_password")
        return epoch_before, await auth.session_state(member_id)

    epoch_before, (status, epoch_after) = run(flow())
    assert epoch_after == epoch_before + 1, "every existing session ends"
    assert run(auth.factor_state(member_id))["password"] is False
    signed = run(auth.sign_in_with_login_id(LoginIdentifier("web_id", "taro2024"), "new-password-2026", device=UA, ctx=ctx))
    assert signed.member_id == member_id
    kinds = [m.kind for m in run(mail.newest())]
    assert "password_changed" in kinds and "code_recover" in kinds and "locked" in kinds


def test_recovery_needs_the_right_birth_date_and_says_nothing(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    assert run(auth.start_recovery(LoginIdentifier("web_id", "taro2024"), date(1991, 4, 1), ctx)) is None
    assert run(auth.start_recovery(LoginIdentifier("web_id", "nobody999"), date(1990, 4, 1), ctx)) is None
    assert run(OneTimeCode.count()) == 0 and run(OutboxMail.count()) == 0


def test_member_without_email_cannot_recover_online(settings, hasher):
    make_member(settings, email=None)
    ctx = context(settings, hasher)
    assert run(auth.start_recovery(LoginIdentifier("web_id", "taro2024"), date(1990, 4, 1), ctx)) is None


def test_codes_are_single_use_limited_in_tries_and_expire(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    ident = LoginIdentifier("web_id", "taro2024")

    code_id = run(auth.start_recovery(ident, date(1990, 4, 1), ctx))
    code = last_code()
    run(auth.verify_recovery_code(code_id, code, ctx))
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_recovery_code(code_id, code, ctx))  # single use

    code_id = run(auth.start_recovery(ident, date(1990, 4, 1), ctx))
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(auth.CodeFailed):
            run(auth.verify_recovery_code(code_id, wrong, ctx))
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_recovery_code(code_id, code, ctx))  # five tries used up

    code_id = run(auth.start_recovery(ident, date(1990, 4, 1), ctx))
    code = last_code()
    late = context(settings, hasher, now=NOW + timedelta(minutes=10))
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_recovery_code(code_id, code, late))  # ten minutes, then gone

    with pytest.raises(auth.CodeFailed):
        run(auth.verify_recovery_code(None, "123456", ctx))


def test_a_new_code_kills_the_previous_one(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    ident = LoginIdentifier("web_id", "taro2024")
    first_id = run(auth.start_recovery(ident, date(1990, 4, 1), ctx))
    first = last_code()
    run(auth.start_recovery(ident, date(1990, 4, 1), ctx))
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_recovery_code(first_id, first, ctx))


def test_parallel_code_guesses_respect_the_try_limit(settings, hasher):
    make_member(settings)
    ctx = context(settings, hasher)
    code_id = run(auth.start_recovery(LoginIdentifier("web_id", "taro2024"), date(1990, 4, 1), ctx))

    async def flood():
        guesses = [auth.verify_recovery_code(code_id, f"{n:06d}", ctx) for n in range(30)]
        await asyncio.gather(*guesses, return_exceptions=True)
        return await OneTimeCode.select(OneTimeCode.tries).where(OneTimeCode.id == code_id).first()

    assert run(flood())["tries"] == 5


def test_step_up_code_belongs_to_its_member(settings, hasher):
    taro = make_member(settings)
    hanako = make_member(settings, card_number="1111222233", web_id="hanako2024", email="hanako@example.jp")
    ctx = context(settings, hasher)
    code_id = run(auth.send_step_up_code(taro, ctx))
    code = last_code()
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_step_up_code(hanako, code_id, code, ctx))
    run(auth.verify_step_up_code(taro, code_id, code, ctx))
    with pytest.raises(auth.CodeFailed):
        run(auth.verify_step_up_code(taro, code_id, code, ctx))


def test_step_up_without_email_says_what_to_do(settings, hasher):
    member_id = make_member(settings, email=None)
    with pytest.raises(auth.NoEmailForStepUp, match="メールアドレス"):
        run(auth.send_step_up_code(member_id, context(settings, hasher)))


def test_operator_commands_unlock_reissue_suspend_and_are_audited(settings, hasher):
    member_id = make_member(settings)
    ctx = context(settings, hasher)
    member_no = run(Member.select(Member.member_no).where(Member.id == member_id).first())["member_no"]
    run(_outcomes(ctx, ["0000", "1111", "2222"]))
    assert run(auth.unlock(member_no, ctx=ctx, operator="suzuki")) == ["pin"]
    assert run(_card(ctx, "1234")).member_id == member_id

    run(auth.reissue_pin(member_no, "8642", ctx=ctx, operator="suzuki"))
    with pytest.raises(auth.SignInFailed):
        run(_card(ctx, "1234"))
    assert run(_card(ctx, "8642")).member_id == member_id

    run(auth.set_status(member_no, "suspended", "本人確認中", ctx=ctx, operator="suzuki"))
    status, _ = run(auth.session_state(member_id))
    assert status == "suspended"
    with pytest.raises(auth.MemberSuspended):
        run(_card(ctx, "8642"))
    run(auth.set_status(member_no, "active", "", ctx=ctx, operator="suzuki"))
    assert run(_card(ctx, "8642")).status == "active"

    actions = {r["action"]: r["actor"] for r in run(AuditEvent.select(AuditEvent.action, AuditEvent.actor))}
    for action in ("member_unlock", "member_reissue_pin", "member_suspend", "member_activate"):
        assert actions[action] == "operator:suzuki"
    with pytest.raises(auth.MemberNotFound):
        run(auth.unlock("00000000", ctx=ctx, operator="suzuki"))


# --- item 47: the audit log holds no secret ---------------------------------------------------


def test_audit_and_outbox_never_hold_secrets(settings, hasher):
    member_id = make_member(settings, card_number="1234567890123456")
    ctx = context(settings, hasher)
    ident = LoginIdentifier("web_id", "taro2024")

    async def events():
        for pin in ("9876", "1234"):
            try:
                await _card(ctx, pin, card="1234567890123456")
            except auth.SignInFailed:
                pass
        for pw in ("wrong-password-xyz", "correct-horse"):
            try:
                await auth.sign_in_with_login_id(ident, pw, device=UA, ctx=ctx)
            except auth.SignInFailed:
                pass
        code_id = await auth.start_recovery(ident, date(1990, 4, 1), ctx)
        return code_id

    code_id = run(events())
    code = last_code()
    run(auth.verify_recovery_code(code_id, code, ctx))
    rows = run(AuditEvent.select())
    text = repr(rows)
    for secret in ("9876", "1234567890123456", "wrong-password-xyz", "correct-horse", code):
        assert secret not in text
    assert "************3456" in text, "the card appears masked"
    assert {r["ip"] for r in rows} == {"198.51.100.7"}
    assert any(r["member"] == member_id and r["outcome"] == "ok" for r in rows)
    stored = run(OneTimeCode.select(OneTimeCode.code_hash))
    assert all(code not in r["code_hash"] for r in stored)
    mails = run(mail.newest())
    for m in mails:
        if m.kind != "code_recover":
            assert code not in m.body and "1234567890123456" not in m.body


def test_log_injection_is_escaped(settings, hasher):
    from db import audit

    run(audit.record(action="login_id", outcome="failed", now=NOW, ip="1.2.3.4", detail="x\r\nFAKE ok\x00"))
    row = run(AuditEvent.select(AuditEvent.detail).first())
    assert "\r" not in row["detail"] and "\n" not in row["detail"] and "\x00" not in row["detail"]
    assert row["detail"] == "x\\x0d\\x0aFAKE ok\\x00"


def test_the_worker_sweeps_throttle_counters_that_can_no_longer_refuse(settings):
    from db import throttle, worker
    from db.tables import ThrottleCounter
    from web.jobs import jobs, maintenance_window

    window = settings.login_throttle_window_seconds
    for ip in ("192.0.2.1", "192.0.2.2"):
        run(throttle.hit(f"login:{ip}", now=NOW, limit=10, window_seconds=window))
    later = NOW + timedelta(seconds=max(window, settings.recover_throttle_window_seconds) + window)
    run(throttle.hit("login:192.0.2.3", now=later, limit=10, window_seconds=window))
    run(worker.run_once(later, jobs(settings), maintenance_window(settings)))
    assert [row["bucket"] for row in run(ThrottleCounter.select(ThrottleCounter.bucket))] == ["login:192.0.2.3"]
    decision = run(throttle.hit("login:192.0.2.1", now=later, limit=10, window_seconds=window))
    assert decision.allowed
