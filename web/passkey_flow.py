"""The web side of passkeys, so that handlers stay a few lines each.

The WebAuthn ceremonies and storage are in ``db.passkeys``; this module keeps the challenge tokens in the
session (one per ceremony, popped before use), reads the JSON the browser posts, and shapes every answer:
``{"publicKey": …}`` options, ``{"redirect": url}`` on success, ``{"error": "…"}`` with a 4xx otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response

from db import auth, passkeys
from domain.errors import DomainError
from domain.credentials import parse_pin
from domain.passkeys import PasskeyError, default_name
from web import auth_flow, throttle
from web.security import start_session

SESSION_KEY = "passkey"  #: session["passkey"] = {ceremony: token}
TOO_LARGE = "送信された内容が大きすぎます。もう一度お試しください。"


def context(request: Request, now: datetime) -> passkeys.PasskeyContext:
    settings = request.app.state.settings
    rp = passkeys.RelyingParty(rp_id=settings.rp_id, name=settings.app_name, origin=settings.origin.rstrip("/"))
    auth_ctx = auth_flow.context(request, now)
    return passkeys.PasskeyContext(now=now, rp=rp, policy=request.app.state.passkey_policy, ip=auth_ctx.ip,
                                   auth=auth_ctx)


def remember(request: Request, ceremony: str, token: str) -> None:
    """Keep the token of the ceremony just started (a new one replaces an unfinished one)."""
    pending = dict(request.session.get(SESSION_KEY) or {})
    pending[ceremony] = token
    request.session[SESSION_KEY] = pending


def take(request: Request, ceremony: str) -> str | None:
    """The token of ``ceremony``, removed from the session whatever happens next."""
    pending = dict((request.scope.get("session") or {}).get(SESSION_KEY) or {})
    token = pending.pop(ceremony, None)
    if request.scope.get("session"):
        request.session[SESSION_KEY] = pending
    return token if isinstance(token, str) else None


async def read_response(request: Request) -> str:
    """The posted credential JSON as text; too large or not UTF-8 is refused before any parsing."""
    body = await request.body()
    if len(body) > request.app.state.settings.passkey_response_max_bytes:
        raise PasskeyError(TOO_LARGE)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise passkeys.PasskeyRefused(passkeys.REFUSED) from None


def options(ceremony: passkeys.Ceremony, request: Request, name: str) -> Response:
    remember(request, name, ceremony.token)
    return Response(content='{"publicKey": %s}' % ceremony.options_json, media_type="application/json", status_code=200)


def answer(redirect: str) -> Response:
    return Response(content={"redirect": redirect}, media_type="application/json", status_code=200)


def refused(error: DomainError, status: int) -> Response:
    return Response(content={"error": error.message}, status_code=status, media_type="application/json")


# --- sign-in --------------------------------------------------------------------------------------------------

async def sign_in(request: Request, now: datetime, next_url: str) -> Response:
    """Throttle, check the assertion; a new session (new id) that counts as stepped up; where to go next."""
    await throttle.check(request, "login", now)
    token = take(request, "login")
    asserted = await passkeys.authenticate(token, await read_response(request), context(request, now),
                                           device=request.headers.get("user-agent", ""))
    await throttle.give_back(request, "login", now)
    if asserted.status == "suspended":
        phone = request.app.state.settings.lender_phone
        raise auth.MemberSuspended(f"このアカウントは現在ご利用を停止しています。お手数ですが、お客様サービスセンター（{phone}）までお電話ください。")
    stamp = now.isoformat()
    await start_session(request, {
        "member_id": asserted.member_id, "auth_at": stamp, "seen_at": stamp, "epoch": asserted.session_epoch,
        "way": "passkey", "stepped_up_at": stamp,
    })
    return answer(auth_flow.safe_next(next_url))


def sign_in_refused(error: DomainError) -> Response:
    return refused(error, 403 if isinstance(error, auth.MemberSuspended) else 401)


# --- settings -------------------------------------------------------------------------------------------------

async def page_context(request: Request, member: dict, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "nav": "settings", "member": member, "passkeys": await passkeys.list_passkeys(member["id"]),
        "stepped_up": auth_flow.stepped_up(request, now),
        "step_up_url": "/step-up?next=/settings/passkeys",
        "default_name": default_name(request.headers.get("user-agent", "")),
        "signed_in_with_passkey": signed_in_with_passkey(request), "done": "", "error": "", **extra,
    }


async def register(request: Request, member: dict, now: datetime, name: str) -> Response:
    token = take(request, "register")
    await passkeys.register(
        member["id"], token, await read_response(request), name=name,
        user_agent=request.headers.get("user-agent", ""), ctx=context(request, now),
    )
    return answer("/settings/passkeys?done=added")


async def step_up(request: Request, member: dict, now: datetime, next_url: str) -> Response:
    """A passkey of this member instead of an email code: the session gets a new id and is stepped up."""
    token = take(request, "step_up")
    await passkeys.authenticate(token, await read_response(request), context(request, now), member_id=member["id"])
    session = dict(request.scope.get("session") or {})
    await start_session(request, {**session, "stepped_up_at": now.isoformat(), "seen_at": now.isoformat()})
    return answer(auth_flow.safe_next(next_url))


# --- a new PIN online, for a member signed in with a passkey (product.md §1) -----------------------------------

NOT_WITH_PASSKEY = ("暗証番号の再設定は、パスキーでログインしているときにできます。"
                    "いったんログアウトして「パスキーでログイン」からお進みください。")


def signed_in_with_passkey(request: Request) -> bool:
    return (request.scope.get("session") or {}).get("way") == "passkey"


async def set_pin(request: Request, member: dict, now: datetime, pin: str, pin_again: str) -> None:
    """Store a new PIN (unlocks it; a notice by email; other sessions end); this session goes on."""
    if not signed_in_with_passkey(request):
        raise PasskeyError(NOT_WITH_PASSKEY)
    policy = request.app.state.credential_policy
    new_pin = parse_pin(pin, policy)
    if parse_pin(pin_again, policy) != new_pin:
        raise PasskeyError("確認のために入力した暗証番号が一致しません。同じ暗証番号をもう一度入力してください。")
    await auth.set_secret(member["id"], "pin", new_pin, ctx=auth_flow.context(request, now), action="pin_set_passkey")
    state = await auth.session_state(member["id"])
    await start_session(request, {**dict(request.session), "epoch": state[1] if state else 0, "seen_at": now.isoformat()})
