"""Sign-in, lockout, one-time codes, recovery, step-up and the operators' account commands.

Lockout is *reserve, then verify* (security.md §3.3): one conditional ``UPDATE … WHERE failed_count <
threshold AND locked_at IS NULL RETURNING`` counts the attempt before the secret is looked at, so
parallel guesses, in one process or many, can never verify more than ``threshold`` secrets. A
request that gets no row (unknown member, locked factor) never compares the secret with the stored
hash; it spends one dummy Argon2 run so that its timing matches a wrong secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from db import audit, mail
from db.engine import write_tx
from db.hashing import SecretHasher
from db.tables import Card, Credential, KnownDevice, Member, OneTimeCode
from domain import notices
from domain.auth_policy import (
    CODE_FAILED_MESSAGE,
    AuthPolicy,
    code_expires_at,
    failure_message,
    new_code,
)
from domain.credentials import LoginIdentifier, mask_card_number
from domain.errors import DomainError, FieldError
from domain.verification import code_digest

Factor = Literal["pin", "password"]


class SignInFailed(DomainError):
    """Unknown member, wrong secret or locked factor: one message for all (no oracle)."""


class MemberSuspended(DomainError):
    """The secret was right but the member may not sign in; only now is the reason told."""


class CodeFailed(DomainError):
    """A one-time code that is wrong, expired, used up or unknown: one message for all."""


class MemberNotFound(DomainError):
    """An operator named a member that does not exist."""


@dataclass(frozen=True)
class AuthContext:
    """What every use case here needs besides its own arguments; built once per request."""

    now: datetime
    policy: AuthPolicy
    hasher: SecretHasher
    code_key: bytes  #: HMAC key for stored one-time codes
    app_name: str
    support_phone: str
    ip: str = ""


@dataclass(frozen=True, slots=True)
class SignedIn:
    member_id: int
    member_no: str
    name: str
    status: str
    status_reason: str
    session_epoch: int
    new_device: bool


@dataclass(frozen=True, slots=True)
class _Member:
    id: int
    member_no: str
    name: str
    email: str | None
    status: str
    status_reason: str
    session_epoch: int
    birth_date: date | None
    web_id: str | None


_MEMBER_COLUMNS = (
    Member.id, Member.member_no, Member.name, Member.email, Member.status, Member.status_reason,
    Member.session_epoch, Member.birth_date, Member.web_id,
)


async def _member_where(condition) -> _Member | None:
    row = await Member.select(*_MEMBER_COLUMNS).where(condition).first()
    return _Member(**row) if row else None


async def member_by_id(member_id: int) -> _Member | None:
    return await _member_where(Member.id == member_id)


async def member_by_card(card_number: str) -> _Member | None:
    card = await Card.select(Card.member).where(Card.card_number == card_number).first()
    return await _member_where(Member.id == card["member"]) if card else None


async def member_by_identifier(identifier: LoginIdentifier) -> _Member | None:
    if identifier.kind == "card":
        return await member_by_card(identifier.value)
    return await _member_where(Member.web_id == identifier.value)


async def member_by_no(member_no: str) -> _Member:
    member = await _member_where(Member.member_no == member_no)
    if member is None:
        raise MemberNotFound(f"会員番号 {member_no} の会員は見つかりません。")
    return member


def device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sign-in ----------------------------------------------------------------------------------


async def sign_in_with_card(card_number: str, pin: str, *, device: str, ctx: AuthContext) -> SignedIn:
    """Card number + PIN. ``card_number`` and ``pin`` are already parsed (domain.credentials)."""
    member = await member_by_card(card_number)
    detail = f"card {mask_card_number(card_number)}"
    return await _sign_in(member, "pin", pin, way="card", detail=detail, device=device, ctx=ctx)


async def sign_in_with_login_id(
    identifier: LoginIdentifier, password: str, *, device: str, ctx: AuthContext
) -> SignedIn:
    """Web-ID (or a card number in its place) + password."""
    member = await member_by_identifier(identifier)
    shown = mask_card_number(identifier.value) if identifier.kind == "card" else f"web-id len {len(identifier.value)}"
    detail = f"{identifier.kind} {shown}"
    return await _sign_in(member, "password", password, way="id", detail=detail, device=device, ctx=ctx)


async def _sign_in(
    member: _Member | None, factor: Factor, secret: str, *, way: str, detail: str, device: str,
    ctx: AuthContext,
) -> SignedIn:
    action = f"login_{way}"
    message = failure_message(ctx.policy)
    if member is None:
        await asyncio.to_thread(ctx.hasher.dummy_verify, secret)
        await audit.record(action=action, outcome="failed", now=ctx.now, ip=ctx.ip, detail=f"{detail} unknown")
        raise SignInFailed(message)
    reserved = await _reserve_attempt(member.id, factor, ctx.policy)
    if reserved is None:  # locked (or no such factor): never compare the secret with the real hash
        await asyncio.to_thread(ctx.hasher.dummy_verify, secret)
        await audit.record(action=action, outcome="locked", now=ctx.now, member=member.id, ip=ctx.ip, detail=detail)
        raise SignInFailed(message)
    credential_id, stored_hash = reserved
    if not await asyncio.to_thread(ctx.hasher.verify, stored_hash, secret):
        await _record_failure(member, credential_id, factor, action=action, detail=detail, ctx=ctx)
        raise SignInFailed(message)
    signed_in = await _record_success(member, credential_id, action=action, detail=detail,
                                      device=device, ctx=ctx)
    if signed_in.status == "suspended":
        raise MemberSuspended(
            "このアカウントは現在ご利用を停止しています。"
            f"お手数ですが、お客様サービスセンター（{ctx.support_phone}）までお電話ください。"
        )
    return signed_in


async def _reserve_attempt(member_id: int, factor: Factor, policy: AuthPolicy) -> tuple[int, str] | None:
    """Count this attempt first, atomically; None when the factor is locked or absent."""
    rows = await Credential.update({Credential.failed_count: Credential.failed_count + 1}).where(
        (Credential.member == member_id)
        & (Credential.kind == factor)
        & (Credential.failed_count < policy.lockout_threshold)
        & Credential.locked_at.is_null()
    ).returning(Credential.id, Credential.secret_hash)
    return (rows[0]["id"], rows[0]["secret_hash"]) if rows else None


async def _record_failure(
    member: _Member, credential_id: int, factor: Factor, *, action: str, detail: str, ctx: AuthContext
) -> None:
    async with write_tx():
        # The lock follows the stored count, not this request's reservation: a success that
        # finished meanwhile has reset it, and then these failures are no longer consecutive.
        locked = await Credential.update({Credential.locked_at: ctx.now}).where(
            (Credential.id == credential_id)
            & Credential.locked_at.is_null()
            & (Credential.failed_count >= ctx.policy.lockout_threshold)
        ).returning(Credential.id)
        await audit.record(action=action, outcome="failed", now=ctx.now, member=member.id, ip=ctx.ip, detail=detail)
        if locked:
            await audit.record(action=f"lockout_{factor}", outcome="locked", now=ctx.now, member=member.id,
                               actor="system", ip=ctx.ip, detail=detail)
            if member.email:
                notice = notices.factor_locked(name=member.name, factor=factor, at=ctx.now,
                                               app_name=ctx.app_name, phone=ctx.support_phone)
                await mail.enqueue(to_addr=member.email, notice=notice, now=ctx.now, member=member.id)


async def _record_success(
    member: _Member, credential_id: int, *, action: str, detail: str, device: str, ctx: AuthContext
) -> SignedIn:
    async with write_tx():
        await Credential.update({Credential.failed_count: 0, Credential.locked_at: None}).where(
            Credential.id == credential_id
        )
        current = await _member_where(Member.id == member.id)
        assert current is not None
        if current.status == "suspended":
            await audit.record(action=action, outcome="suspended", now=ctx.now, member=member.id, ip=ctx.ip,
                               detail=detail)
            new_device = False
        else:
            new_device = await _see_device(current, device, way=action, ctx=ctx)
            await audit.record(action=action, outcome="ok", now=ctx.now, member=member.id, ip=ctx.ip,
                               detail=detail + (" new-device" if new_device else ""))
    return SignedIn(
        member_id=current.id, member_no=current.member_no, name=current.name, status=current.status,
        status_reason=current.status_reason, session_epoch=current.session_epoch, new_device=new_device,
    )


_WAYS = {"login_card": "カード番号・暗証番号", "login_id": "ログインID・パスワード", "login_passkey": "パスキー"}


async def see_device(member: _Member, device: str, *, way: str, ctx: AuthContext) -> bool:
    """For other ways in (passkeys, in ``db.passkeys``): the same known-device check and notice."""
    return await _see_device(member, device, way=way, ctx=ctx)


async def _see_device(member: _Member, device: str, *, way: str, ctx: AuthContext) -> bool:
    """Remember this browser; True (and a notice) when the member never signed in from it."""
    digest = device_hash(device)
    seen = await KnownDevice.update({KnownDevice.last_seen: ctx.now}).where(
        (KnownDevice.member == member.id) & (KnownDevice.device_hash == digest)
    ).returning(KnownDevice.id)
    if seen:
        return False
    await KnownDevice.insert(KnownDevice(member=member.id, device_hash=digest, first_seen=ctx.now, last_seen=ctx.now))
    if member.email:
        notice = notices.new_device_sign_in(name=member.name, at=ctx.now, way=_WAYS.get(way, way), ip=ctx.ip,
                                            app_name=ctx.app_name, phone=ctx.support_phone)
        await mail.enqueue(to_addr=member.email, notice=notice, now=ctx.now, member=member.id)
    return True


async def session_state(member_id: int) -> tuple[str, int] | None:
    """The member's status and session epoch, read on every signed-in request (None: gone)."""
    row = await Member.select(Member.status, Member.session_epoch).where(Member.id == member_id).first()
    return (row["status"], row["session_epoch"]) if row else None


async def factor_state(member_id: int) -> dict[str, bool]:
    """Which knowledge factors the member has, and whether each is locked: ``{"pin": False, ...}``."""
    rows = await Credential.select(Credential.kind, Credential.failed_count, Credential.locked_at).where(
        Credential.member == member_id
    )
    return {r["kind"]: r["locked_at"] is not None for r in rows}


# --- one-time codes ---------------------------------------------------------------------------


async def _issue_code(member: _Member, purpose: str, ctx: AuthContext) -> int:
    """Create a code (older unused ones of the same purpose die) and queue the mail that carries it."""
    assert member.email
    code = new_code(ctx.policy)
    expires = code_expires_at(ctx.now, ctx.policy)
    await OneTimeCode.update({OneTimeCode.used_at: ctx.now}).where(
        (OneTimeCode.member == member.id) & (OneTimeCode.purpose == purpose) & OneTimeCode.used_at.is_null()
    )
    rows = await OneTimeCode.insert(
        OneTimeCode(member=member.id, purpose=purpose, code_hash="", created_at=ctx.now, expires_at=expires)
    ).returning(OneTimeCode.id)
    code_id = rows[0]["id"]
    await OneTimeCode.update({OneTimeCode.code_hash: code_digest(ctx.code_key, str(code_id), code)}).where(
        OneTimeCode.id == code_id
    )
    notice = notices.one_time_code(name=member.name, code=code, purpose=purpose, expires_at=expires,
                                   app_name=ctx.app_name)
    await mail.enqueue(to_addr=member.email, notice=notice, now=ctx.now, member=member.id)
    return code_id


async def _use_code(code_id: int | None, code: str, purpose: str, ctx: AuthContext, member_id: int | None = None) -> int:
    """Spend one try of the code; return its member when right. Single use, atomic at every step."""
    if code_id is None:
        raise CodeFailed(CODE_FAILED_MESSAGE)
    condition = (
        (OneTimeCode.id == code_id)
        & (OneTimeCode.purpose == purpose)
        & OneTimeCode.used_at.is_null()
        & (OneTimeCode.expires_at > ctx.now)
        & (OneTimeCode.tries < ctx.policy.code_max_tries)
    )
    if member_id is not None:
        condition &= OneTimeCode.member == member_id
    rows = await OneTimeCode.update({OneTimeCode.tries: OneTimeCode.tries + 1}).where(condition).returning(
        OneTimeCode.member, OneTimeCode.code_hash
    )
    if not rows or not hmac.compare_digest(rows[0]["code_hash"], code_digest(ctx.code_key, str(code_id), code)):
        raise CodeFailed(CODE_FAILED_MESSAGE)
    used = await OneTimeCode.update({OneTimeCode.used_at: ctx.now}).where(
        (OneTimeCode.id == code_id) & OneTimeCode.used_at.is_null()
    ).returning(OneTimeCode.id)
    if not used:
        raise CodeFailed(CODE_FAILED_MESSAGE)
    return rows[0]["member"]


# --- recovery (ログインID・パスワードをお忘れの方) -----------------------------------------------------


async def start_recovery(identifier: LoginIdentifier, birth_date: date, ctx: AuthContext) -> int | None:
    """Send a recovery code when identifier, birth date and a registered email all match.

    Returns the code id, or None; the caller answers the same either way (no enumeration).
    """
    member = await member_by_identifier(identifier)
    async with write_tx():
        if member is None or member.birth_date != birth_date or not member.email:
            reason = "unknown" if member is None else ("no-email" if member and not member.email else "mismatch")
            await audit.record(action="recover_request", outcome="failed", now=ctx.now,
                               member=member.id if member else None, ip=ctx.ip, detail=reason)
            return None
        code_id = await _issue_code(member, "recover", ctx)
        await audit.record(action="recover_request", outcome="ok", now=ctx.now, member=member.id, ip=ctx.ip)
    return code_id


async def verify_recovery_code(code_id: int | None, code: str, ctx: AuthContext) -> int:
    """Return the member id behind a right recovery code (spent), else raise :class:`CodeFailed`."""
    try:
        member_id = await _use_code(code_id, code, "recover", ctx)
    except CodeFailed:
        await audit.record(action="recover_code", outcome="failed", now=ctx.now, ip=ctx.ip)
        raise
    await audit.record(action="recover_code", outcome="ok", now=ctx.now, member=member_id, ip=ctx.ip)
    return member_id


async def web_id_of(member_id: int) -> str | None:
    row = await Member.select(Member.web_id).where(Member.id == member_id).first()
    return row["web_id"] if row else None


async def set_secret(member_id: int, factor: Factor, secret: str, *, ctx: AuthContext, actor: str = "member",
                     action: str = "") -> None:
    """Store a new PIN or password: unlocked, counter reset, every session ended, a notice sent."""
    hashed = await asyncio.to_thread(ctx.hasher.hash, secret)
    async with write_tx():
        member = await _member_where(Member.id == member_id)
        if member is None:
            raise MemberNotFound("会員が見つかりません。")
        changed = await Credential.update(
            {Credential.secret_hash: hashed, Credential.failed_count: 0, Credential.locked_at: None,
             Credential.changed_at: ctx.now}
        ).where((Credential.member == member_id) & (Credential.kind == factor)).returning(Credential.id)
        if not changed:
            await Credential.insert(Credential(member=member_id, kind=factor, secret_hash=hashed, changed_at=ctx.now))
        await Member.update({Member.session_epoch: Member.session_epoch + 1}).where(Member.id == member_id)
        await audit.record(action=action or f"{factor}_set", outcome="ok", now=ctx.now, member=member_id,
                           actor=actor, ip=ctx.ip)
        if member.email:
            notice = notices.secret_changed(name=member.name, factor=factor, at=ctx.now,
                                            app_name=ctx.app_name, phone=ctx.support_phone)
            await mail.enqueue(to_addr=member.email, notice=notice, now=ctx.now, member=member_id)


# --- step-up ----------------------------------------------------------------------------------


class NoEmailForStepUp(DomainError):
    """The member has no verified email to receive a step-up code."""


async def send_step_up_code(member_id: int, ctx: AuthContext) -> int:
    """Mail a step-up code to the member; returns its id (kept in the session that asked)."""
    member = await _member_where(Member.id == member_id)
    if member is None or not member.email:
        raise NoEmailForStepUp(
            "確認コードを送るメールアドレスが登録されていません。"
            f"お客様サービスセンター（{ctx.support_phone}）までお問い合わせください。"
        )
    async with write_tx():
        code_id = await _issue_code(member, "step_up", ctx)
        await audit.record(action="step_up_code", outcome="sent", now=ctx.now, member=member_id, ip=ctx.ip)
    return code_id


async def verify_step_up_code(member_id: int, code_id: int | None, code: str, ctx: AuthContext) -> None:
    """Spend the step-up code; it must belong to this member. Raises :class:`CodeFailed`."""
    try:
        await _use_code(code_id, code, "step_up", ctx, member_id=member_id)
    except CodeFailed:
        await audit.record(action="step_up", outcome="failed", now=ctx.now, member=member_id, ip=ctx.ip)
        raise
    await audit.record(action="step_up", outcome="ok", now=ctx.now, member=member_id, ip=ctx.ip)


# --- operators (kaiin member …) ---------------------------------------------------------------


def random_pin(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


async def reissue_pin(member_no: str, pin: str, *, ctx: AuthContext, operator: str) -> None:
    """Set a new PIN for a member (unlocks it, ends sessions, notifies); audited as the operator."""
    member = await member_by_no(member_no)
    await set_secret(member.id, "pin", pin, ctx=ctx, actor=f"operator:{operator}", action="member_reissue_pin")


async def unlock(member_no: str, *, ctx: AuthContext, operator: str) -> list[str]:
    """Unlock every locked knowledge factor of a member; returns the factors that were locked."""
    member = await member_by_no(member_no)
    async with write_tx():
        rows = await Credential.update({Credential.failed_count: 0, Credential.locked_at: None}).where(
            (Credential.member == member.id)
            & (Credential.locked_at.is_not_null() | (Credential.failed_count >= ctx.policy.lockout_threshold))
        ).returning(Credential.kind)
        factors = sorted(r["kind"] for r in rows)
        await audit.record(action="member_unlock", outcome="ok", now=ctx.now, member=member.id,
                           actor=f"operator:{operator}", detail=",".join(factors) or "nothing locked")
        if member.email:
            for factor in factors:
                notice = notices.account_unlocked(name=member.name, factor=factor, at=ctx.now,
                                                  app_name=ctx.app_name, phone=ctx.support_phone)
                await mail.enqueue(to_addr=member.email, notice=notice, now=ctx.now, member=member.id)
    return factors


async def set_status(member_no: str, status: str, reason: str, *, ctx: AuthContext, operator: str) -> None:
    """Suspend or reactivate a member. Suspending ends every session at once."""
    member = await member_by_no(member_no)
    values: dict = {Member.status: status, Member.status_reason: reason}
    if status == "suspended":
        values[Member.session_epoch] = Member.session_epoch + 1
    async with write_tx():
        await Member.update(values).where(Member.id == member.id)
        await audit.record(action=f"member_{'suspend' if status == 'suspended' else 'activate'}", outcome="ok",
                           now=ctx.now, member=member.id, actor=f"operator:{operator}", detail=reason)



class WrongCurrentSecret(FieldError):
    """The current PIN or password typed to change it is wrong (or the factor is locked)."""


async def verify_current_secret(member_id: int, factor: Factor, secret: str, *, ctx: AuthContext) -> None:
    """Check the secret a signed-in member types to change it, counted like a sign-in attempt
    (reserve, then verify): it takes part in the same lockout, so a borrowed session cannot guess it.

    Raises:
        WrongCurrentSecret: wrong, or the factor is locked (the same message either way).
    """
    label = "暗証番号" if factor == "pin" else "パスワード"
    message = f"現在の{label}が正しくありません。{ctx.policy.lockout_threshold}回続けて間違えるとロックされます。"
    field = f"current_{factor if factor == 'pin' else 'password'}"
    member = await _member_where(Member.id == member_id)
    reserved = await _reserve_attempt(member_id, factor, ctx.policy) if member else None
    if member is None or reserved is None:
        await asyncio.to_thread(ctx.hasher.dummy_verify, secret)
        raise WrongCurrentSecret(field, message)
    credential_id, stored_hash = reserved
    if not await asyncio.to_thread(ctx.hasher.verify, stored_hash, secret):
        await _record_failure(member, credential_id, factor, action=f"{factor}_check", detail="settings", ctx=ctx)
        raise WrongCurrentSecret(field, message)
    await Credential.update({Credential.failed_count: 0}).where(Credential.id == credential_id)
