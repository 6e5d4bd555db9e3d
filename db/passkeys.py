"""Passkeys: WebAuthn registration and sign-in ceremonies (py_webauthn 3), and managing a member's passkeys.

Challenges are rows (``PasskeyChallenge``) so that they hold across processes: issued with a random token that
only the issuing session knows (its hash is stored), a ceremony type and an expiry. ``_consume`` deletes the row
in its own committed transaction *before* anything is verified, so an assertion can be used once at most, even
a synced passkey's that always reports sign count 0 (security.md §0.6). Verification and the sign-count update
are then one write transaction.

Every failure of a response raises ``PasskeyRefused`` with one message, whatever the reason, so a caller learns
nothing about which check failed. The reason goes to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from db import audit, auth, mail
from db.engine import is_postgres, write_tx
from db.tables import MAX_ROW_ID, Credential, Member, Passkey, PasskeyChallenge, PasskeyUser
from domain import notices
from domain.passkeys import (
    PasskeyError,
    PasskeyPolicy,
    PasskeyRefused,
    SignCountRegressed,
    challenge_expires_at,
    challenge_live,
    default_name,
    keeps_a_way_in,
    parse_name,
    sign_count_acceptable,
)

REFUSED = "パスキーを確認できませんでした。もう一度お試しいただくか、カード番号またはログインIDでログインしてください。"
REGISTER_REFUSED = "パスキーを登録できませんでした。もう一度お試しください。"
#: Everything a malformed or forged response can raise while it is parsed or verified.
_BAD_RESPONSE = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, OverflowError)


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str  #: bare host name, never from the request
    name: str
    origin: str  #: exact scheme://host[:port] the browser reports


@dataclass(frozen=True)
class PasskeyContext:
    now: datetime
    rp: RelyingParty
    policy: PasskeyPolicy
    ip: str = ""
    auth: auth.AuthContext | None = None  #: for known-device checks and notices (app name, phone)


@dataclass(frozen=True)
class PasskeyView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool
    device_type: str


@dataclass(frozen=True)
class Ceremony:
    """What the browser needs (``options_json``) and what the session keeps (``token``)."""

    options_json: str
    token: str


# --- challenges ---------------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue(ceremony: str, challenge: bytes, member: int | None, ctx: PasskeyContext) -> str:
    token = secrets.token_urlsafe(32)
    await PasskeyChallenge.delete().where(PasskeyChallenge.expires_at <= ctx.now)  # sweep the dead ones
    await PasskeyChallenge.insert(PasskeyChallenge(
        token_hash=_token_hash(token), ceremony=ceremony, member=member,
        challenge=bytes_to_base64url(challenge), expires_at=challenge_expires_at(ctx.now, ctx.policy),
    ))
    return token


async def _consume(token: Any, ceremony: str, ctx: PasskeyContext) -> tuple[bytes, int | None]:
    """Delete the challenge (committed at once) and return it; refuse a missing, foreign or expired one."""
    if not isinstance(token, str) or not token:
        raise PasskeyRefused(REFUSED, reason="no challenge in this session")
    async with write_tx():
        rows = await PasskeyChallenge.delete().where(
            (PasskeyChallenge.token_hash == _token_hash(token)) & (PasskeyChallenge.ceremony == ceremony)
        ).returning(PasskeyChallenge.challenge, PasskeyChallenge.member, PasskeyChallenge.expires_at)
    if not rows:
        raise PasskeyRefused(REFUSED, reason="challenge unknown or already used")
    if not challenge_live(rows[0]["expires_at"], ctx.now):
        raise PasskeyRefused(REFUSED, reason="challenge expired")
    return _unb64(rows[0]["challenge"]), rows[0]["member"]


def _unb64(text: str) -> bytes:
    return base64url_to_bytes(text)


# --- registration -------------------------------------------------------------------------------------------

async def _user_handle(member_id: int, now: datetime) -> str:
    """The member's WebAuthn user handle, made on first use: 32 random bytes, unrelated to any number."""
    row = await PasskeyUser.select(PasskeyUser.user_handle).where(PasskeyUser.member == member_id).first()
    if row:
        return row["user_handle"]
    handle = bytes_to_base64url(secrets.token_bytes(32))
    await PasskeyUser.insert(PasskeyUser(member=member_id, user_handle=handle, created_at=now))
    return handle


def _transports(stored: str) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(t) for t in stored.split(",") if t in known]


async def registration_options(member_id: int, ctx: PasskeyContext) -> Ceremony:
    """Creation options for a new discoverable passkey with user verification, excluding those already held."""
    async with write_tx():
        member = await Member.select(Member.name, Member.web_id).where(Member.id == member_id).first()
        if member is None:
            raise PasskeyError(REGISTER_REFUSED)
        held = await Passkey.select(Passkey.credential_id, Passkey.transports).where(Passkey.member == member_id)
        if len(held) >= ctx.policy.passkeys_max:
            raise PasskeyError(f"パスキーは{ctx.policy.passkeys_max}個まで登録できます。使っていないものを削除してください。")
        handle = await _user_handle(member_id, ctx.now)
        options = generate_registration_options(
            rp_id=ctx.rp.rp_id, rp_name=ctx.rp.name, user_id=_unb64(handle),
            user_name=member["web_id"] or member["name"], user_display_name=member["name"],
            timeout=ctx.policy.passkey_timeout_ms,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=_unb64(row["credential_id"]), transports=_transports(row["transports"]))
                for row in held
            ],
        )
        token = await _issue("register", options.challenge, member_id, ctx)
    return Ceremony(options_to_json(options), token)


async def register(member_id: int, token: Any, response: str, *, name: str, user_agent: str,
                   ctx: PasskeyContext) -> PasskeyView:
    """Verify a registration response and store the passkey under ``name`` (or a name from the browser)."""
    challenge, issued_to = await _consume(token, "register", ctx)
    label = parse_name(name, ctx.policy) if name.strip() else default_name(user_agent)[: ctx.policy.passkey_name_max]
    if issued_to != member_id:
        raise PasskeyRefused(REGISTER_REFUSED)
    try:
        credential = parse_registration_credential_json(response)
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=ctx.rp.rp_id,
            expected_origin=ctx.rp.origin, require_user_verification=True,
        )
    except _BAD_RESPONSE:
        raise PasskeyRefused(REGISTER_REFUSED) from None
    transports = ",".join(t.value for t in credential.response.transports or [])
    credential_id = bytes_to_base64url(verified.credential_id)
    async with write_tx():
        await _lock_member(member_id)
        if await Passkey.exists().where(Passkey.credential_id == credential_id):
            raise PasskeyError("このパスキーはすでに登録されています。")
        if await Passkey.count().where(Passkey.member == member_id) >= ctx.policy.passkeys_max:
            raise PasskeyError(f"パスキーは{ctx.policy.passkeys_max}個まで登録できます。使っていないものを削除してください。")
        rows = await Passkey.insert(Passkey(
            member=member_id, credential_id=credential_id, public_key=verified.credential_public_key,
            sign_count=verified.sign_count, transports=transports[:200],
            device_type=verified.credential_device_type.value, backed_up=verified.credential_backed_up,
            aaguid=verified.aaguid, name=label, created_at=ctx.now,
        )).returning(Passkey.id)
        await _tell(member_id, "passkey_added", label, notices.passkey_added, ctx)
    return PasskeyView(rows[0]["id"], label, ctx.now, None, verified.credential_backed_up,
                       verified.credential_device_type.value)


# --- sign-in and step-up ------------------------------------------------------------------------------------

async def authentication_options(ctx: PasskeyContext, *, member_id: int | None = None) -> Ceremony:
    """Request options. Sign-in (no member): any discoverable passkey. Step-up: only the member's passkeys."""
    async with write_tx():
        allowed: list[PublicKeyCredentialDescriptor] = []
        if member_id is not None:
            held = await Passkey.select(Passkey.credential_id, Passkey.transports).where(Passkey.member == member_id)
            if not held:
                raise PasskeyError("登録されているパスキーがありません。")
            allowed = [PublicKeyCredentialDescriptor(id=_unb64(r["credential_id"]), transports=_transports(r["transports"]))
                       for r in held]
        options = generate_authentication_options(
            rp_id=ctx.rp.rp_id, timeout=ctx.policy.passkey_timeout_ms, allow_credentials=allowed,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        token = await _issue("login" if member_id is None else "step_up", options.challenge, member_id, ctx)
    return Ceremony(options_to_json(options), token)


@dataclass(frozen=True)
class Asserted:
    member_id: int
    passkey_id: int
    status: str
    session_epoch: int = 0
    new_device: bool = False


async def authenticate(token: Any, response: str, ctx: PasskeyContext, *, member_id: int | None = None,
                       device: str = "") -> Asserted:
    """Check an assertion: sign-in when ``member_id`` is None, else a step-up for that member.

    Refused (``PasskeyRefused``, one message): a used, foreign or expired challenge; an unknown or removed
    credential; a user handle that is not the owner's; a bad signature, origin, RP ID or missing UV.
    ``SignCountRegressed`` when a correctly signed assertion's counter did not go up. Every outcome is audited;
    a sign-in from a browser the member never used sends the new-device notice.
    """
    action = "login_passkey" if member_id is None else "step_up_passkey"
    try:
        return await _authenticate(token, response, ctx, member_id, device)
    except PasskeyRefused as refused:
        outcome = "denied" if isinstance(refused, SignCountRegressed) else "failed"
        await audit.record(action=action, outcome=outcome, now=ctx.now, member=refused.member, ip=ctx.ip,
                           detail=refused.reason)
        raise


async def _authenticate(token: Any, response: str, ctx: PasskeyContext, member_id: int | None,
                        device: str) -> Asserted:
    challenge, issued_to = await _consume(token, "login" if member_id is None else "step_up", ctx)
    if issued_to != member_id:
        raise PasskeyRefused(REFUSED, reason="challenge of another member")
    try:
        credential = parse_authentication_credential_json(response)
    except _BAD_RESPONSE:
        raise PasskeyRefused(REFUSED, reason="malformed response") from None
    async with write_tx():
        stored = await _stored(bytes_to_base64url(credential.raw_id))
        if stored is None or (member_id is not None and stored["member"] != member_id):
            raise PasskeyRefused(REFUSED, reason="unknown or removed credential", member=member_id)
        handle = credential.response.user_handle
        if handle is None or bytes_to_base64url(handle) != stored["handle"]:
            raise PasskeyRefused(REFUSED, reason="user handle is not the owner's", member=stored["member"])
        try:
            verified = verify_authentication_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=ctx.rp.rp_id,
                expected_origin=ctx.rp.origin, credential_public_key=bytes(stored["public_key"]),
                credential_current_sign_count=0,  # our own rule below decides (domain.passkeys)
                require_user_verification=True,
            )
        except _BAD_RESPONSE as error:
            raise PasskeyRefused(REFUSED, reason=f"verification: {error}"[:150], member=stored["member"]) from None
        counted = verified.new_sign_count
        if not sign_count_acceptable(stored["sign_count"], counted) or not await _advance(stored["id"], counted, ctx):
            raise SignCountRegressed(REFUSED, member=stored["member"],
                                     reason=f"sign count {counted} after {stored['sign_count']} (passkey {stored['id']})")
        return await _signed(stored, member_id is None, device, ctx)


async def _signed(stored: dict[str, Any], sign_in: bool, device: str, ctx: PasskeyContext) -> Asserted:
    """Inside the verifying transaction: the audit line, and for a sign-in the known-device check."""
    member = await auth.member_by_id(stored["member"])
    new_device = False
    if sign_in and member.status != "suspended" and ctx.auth is not None:
        new_device = await auth.see_device(member, device, way="login_passkey", ctx=ctx.auth)
    outcome = "suspended" if member.status == "suspended" else "ok"
    await audit.record(action="login_passkey" if sign_in else "step_up_passkey", outcome=outcome, now=ctx.now,
                       member=member.id, ip=ctx.ip,
                       detail=f"passkey {stored['id']}" + (" new-device" if new_device else ""))
    return Asserted(member.id, stored["id"], member.status, member.session_epoch, new_device)


async def _stored(credential_id: str) -> dict[str, Any] | None:
    row = await Passkey.select(Passkey.id, Passkey.member, Passkey.public_key, Passkey.sign_count).where(
        Passkey.credential_id == credential_id
    ).first()
    if row is None:
        return None
    owner = await PasskeyUser.select(PasskeyUser.user_handle).where(PasskeyUser.member == row["member"]).first()
    return {**row, "handle": owner["user_handle"] if owner else None}


async def _advance(passkey_id: int, counted: int, ctx: PasskeyContext) -> bool:
    """Store the new count and last use, only if nobody stored a count at least as high meanwhile."""
    still = (Passkey.sign_count == 0) if counted == 0 else (Passkey.sign_count < counted)
    rows = await Passkey.update({Passkey.sign_count: counted, Passkey.last_used_at: ctx.now}).where(
        (Passkey.id == passkey_id) & still
    ).returning(Passkey.id)
    return bool(rows)


# --- managing -----------------------------------------------------------------------------------------------

async def has_passkeys(member_id: int) -> bool:
    return await Passkey.exists().where(Passkey.member == member_id)


async def list_passkeys(member_id: int) -> list[PasskeyView]:
    rows = await Passkey.select(
        Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at, Passkey.backed_up, Passkey.device_type,
    ).where(Passkey.member == member_id).order_by(Passkey.created_at).order_by(Passkey.id)
    return [PasskeyView(**row) for row in rows]


async def rename(member_id: int, passkey_id: int, name: str, ctx: PasskeyContext) -> str:
    label = parse_name(name, ctx.policy)
    if not 0 < passkey_id <= MAX_ROW_ID:  # no row's id (PostgreSQL would refuse it as an argument)
        raise PasskeyError("このパスキーは見つかりません。")
    async with write_tx():
        rows = await Passkey.update({Passkey.name: label}).where(
            (Passkey.id == passkey_id) & (Passkey.member == member_id)
        ).returning(Passkey.id)
    if not rows:
        raise PasskeyError("このパスキーは見つかりません。")
    return label


async def _lock_member(member_id: int) -> None:
    """Inside a write transaction: serialise this member's passkey changes (the SQLite one is IMMEDIATE already).

    Without it, two removals at once on PostgreSQL each see the other passkey still there and both delete.
    """
    if is_postgres():
        await Member.select(Member.id).where(Member.id == member_id).lock_rows("UPDATE")


async def remove(member_id: int, passkey_id: int, ctx: PasskeyContext) -> str:
    """Delete one of the member's passkeys unless it is their last way in; returns its name."""
    if not 0 < passkey_id <= MAX_ROW_ID:
        raise PasskeyError("このパスキーは見つかりません。")
    async with write_tx():
        await _lock_member(member_id)
        target = await Passkey.select(Passkey.name).where(
            (Passkey.id == passkey_id) & (Passkey.member == member_id)
        ).first()
        if target is None:
            raise PasskeyError("このパスキーは見つかりません。")
        others = await Passkey.count().where((Passkey.member == member_id) & (Passkey.id != passkey_id))
        secrets_left = await Credential.count().where((Credential.member == member_id) & Credential.locked_at.is_null())
        if not keeps_a_way_in(passkeys_after=others, usable_secrets=secrets_left):
            raise PasskeyError(
                "これが最後のログイン方法のため削除できません。先に暗証番号を設定し直してから削除してください。"
            )
        await Passkey.delete().where(Passkey.id == passkey_id)
        await _tell(member_id, "passkey_removed", target["name"], notices.passkey_removed, ctx)
    return target["name"]


async def _tell(member_id: int, action: str, passkey: str, notice, ctx: PasskeyContext) -> None:
    """Inside the caller's transaction: an audit line and, when the member has an email, the notice."""
    await audit.record(action=action, outcome="ok", now=ctx.now, member=member_id, ip=ctx.ip, detail=passkey[:60])
    member = await Member.select(Member.name, Member.email).where(Member.id == member_id).first()
    if member and member["email"]:
        app_name, phone = (ctx.auth.app_name, ctx.auth.support_phone) if ctx.auth else (ctx.rp.name, "")
        text = notice(name=member["name"], passkey=passkey, at=ctx.now, app_name=app_name, phone=phone)
        await mail.enqueue(to_addr=member["email"], notice=text, now=ctx.now, member=member_id)
