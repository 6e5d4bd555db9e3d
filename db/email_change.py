"""Registering or changing the email address, verified by a 6-digit code sent to the new address.

``start`` creates an ``EmailChange`` row (older pending ones of the member die) and queues the code mail
in the same transaction. ``confirm`` spends one try atomically (one conditional ``UPDATE … tries + 1``
that only matches an unused, unexpired row with tries left), and on the right code marks the row used
with a second conditional update, so a code works once even when two requests race. On success the
member's email changes, and the old address (if any) gets a notice, in the same transaction.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from db import mail
from db.auth import AuthContext
from db.engine import write_tx
from db.tables import EmailChange, Member
from domain import settings_notices
from domain.auth_policy import code_expires_at, new_code
from domain.verification import CodeCheck, CodeState, check_code, check_message, code_digest
from domain.errors import FieldError


class EmailChangeRefused(FieldError):
    """The change cannot go on; ``field`` is the form field the message belongs to."""


@dataclass(frozen=True, slots=True)
class EmailChanged:
    old: str | None
    new: str


async def pending_address(member_id: int, change_id: int | None) -> str | None:
    """The new address of the member's pending change ``change_id`` (for the code page), or None."""
    if change_id is None:
        return None
    row = await EmailChange.select(EmailChange.new_email).where(
        (EmailChange.id == change_id) & (EmailChange.member == member_id) & EmailChange.used_at.is_null()
    ).first()
    return row["new_email"] if row else None


async def start(member_id: int, new_email: str, ctx: AuthContext) -> int:
    """Send a code to ``new_email`` (already parsed by ``domain.profile.parse_email``); returns the change id.

    Raises:
        EmailChangeRefused: it is already the member's verified address.
    """
    code = new_code(ctx.policy)
    async with write_tx():
        member = await Member.select(Member.name, Member.email, Member.email_verified).where(Member.id == member_id).first()
        if member["email"] == new_email and member["email_verified"]:
            raise EmailChangeRefused("email", "現在登録されているメールアドレスと同じです。")
        await EmailChange.update({EmailChange.used_at: ctx.now}).where(
            (EmailChange.member == member_id) & EmailChange.used_at.is_null()
        )
        expires = code_expires_at(ctx.now, ctx.policy)
        rows = await EmailChange.insert(EmailChange(
            member=member_id, new_email=new_email, code_hash="", created_at=ctx.now, expires_at=expires,
        )).returning(EmailChange.id)
        change_id = rows[0]["id"]
        await EmailChange.update({EmailChange.code_hash: code_digest(ctx.code_key, str(change_id), code)}).where(
            EmailChange.id == change_id
        )
        notice = settings_notices.email_code(name=member["name"], code=code, expires_at=expires, app_name=ctx.app_name)
        await mail.enqueue(to_addr=new_email, notice=notice, now=ctx.now, member=member_id)
    return change_id


async def resend(member_id: int, change_id: int | None, ctx: AuthContext) -> int:
    """A new code for the same pending address (the old code dies). Raises ``EmailChangeRefused``."""
    address = await pending_address(member_id, change_id)
    if address is None:
        raise EmailChangeRefused("code", "メールアドレスの入力からやり直してください。")
    return await start(member_id, address, ctx)


async def _spend_try(member_id: int, change_id: int, digest: str, ctx: AuthContext) -> CodeCheck | str:
    """One try: the new address when right, else why not."""
    rows = await EmailChange.update({EmailChange.tries: EmailChange.tries + 1}).where(
        (EmailChange.id == change_id) & (EmailChange.member == member_id) & EmailChange.used_at.is_null()
        & (EmailChange.expires_at > ctx.now) & (EmailChange.tries < ctx.policy.code_max_tries)
    ).returning(EmailChange.code_hash, EmailChange.tries, EmailChange.new_email, EmailChange.expires_at)
    if not rows:
        row = await EmailChange.select(
            EmailChange.code_hash, EmailChange.expires_at, EmailChange.used_at, EmailChange.tries
        ).where((EmailChange.id == change_id) & (EmailChange.member == member_id)).first()
        state = None if row is None else CodeState(row["code_hash"], row["expires_at"], row["used_at"], row["tries"])
        return check_code(state, digest, now=ctx.now, policy=ctx.policy)
    row = rows[0]
    if not hmac.compare_digest(row["code_hash"], digest):
        return CodeCheck.WRONG if row["tries"] < ctx.policy.code_max_tries else CodeCheck.NO_TRIES
    used = await EmailChange.update({EmailChange.used_at: ctx.now}).where(
        (EmailChange.id == change_id) & EmailChange.used_at.is_null()
    ).returning(EmailChange.id)
    return row["new_email"] if used else CodeCheck.USED


async def confirm(member_id: int, change_id: int | None, code: str, ctx: AuthContext) -> EmailChanged:
    """Check ``code`` (already parsed: 6 ASCII digits) and, when right, make the new address the member's.

    Raises:
        EmailChangeRefused: wrong (with the tries left), expired, already used, out of tries, or no
            pending change. A wrong try is counted even so (it is committed before the error).
    """
    if change_id is None:
        raise EmailChangeRefused("code", check_message(CodeCheck.MISSING, left=0, policy=ctx.policy))
    digest = code_digest(ctx.code_key, str(change_id), code)
    async with write_tx():
        result = await _spend_try(member_id, change_id, digest, ctx)
        if isinstance(result, str):
            member = await Member.select(Member.name, Member.email).where(Member.id == member_id).first()
            await Member.update({Member.email: result, Member.email_verified: True}).where(Member.id == member_id)
            await _notify(member_id, member["name"], member["email"], result, ctx)
            return EmailChanged(member["email"], result)
        tries = await EmailChange.select(EmailChange.tries).where(EmailChange.id == change_id).first()
    left = ctx.policy.code_max_tries - (tries["tries"] if tries else ctx.policy.code_max_tries)
    raise EmailChangeRefused("code", check_message(result, left=left, policy=ctx.policy))


async def _notify(member_id: int, name: str, old: str | None, new: str, ctx: AuthContext) -> None:
    if old and old != new:
        notice = settings_notices.email_changed(name=name, new_email=new, at=ctx.now, app_name=ctx.app_name,
                                                phone=ctx.support_phone)
        await mail.enqueue(to_addr=old, notice=notice, now=ctx.now, member=member_id)
    else:
        notice = settings_notices.email_registered(name=name, at=ctx.now, app_name=ctx.app_name,
                                                   phone=ctx.support_phone)
        await mail.enqueue(to_addr=new, notice=notice, now=ctx.now, member=member_id)
