"""Security wiring: response headers, strict server-side sessions, CSRF, the Origin check."""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.response.base import ASGIResponse
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from web.settings import Settings

SESSION_STORE = "sessions"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths that never read or write a session or a CSRF cookie (cacheable, public, cheap).
NO_SESSION_PATHS = ["/static/", "/sw.js", "/manifest.webmanifest", "/healthz"]


# --- response headers ------------------------------------------------------------------------------

def csp_nonce(scope: "Scope") -> str:
    """The nonce of this response, made once per request and shared by the templates and the CSP header."""
    state = scope.setdefault("state", {})
    if "csp_nonce" not in state:
        state["csp_nonce"] = secrets.token_urlsafe(18)
    return state["csp_nonce"]


def security_headers_hook(settings: "Settings"):
    """An app-level ``before_send`` hook: it runs for every response, error statuses included."""

    async def before_send(message: "Message", scope: "Scope") -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        nonce = csp_nonce(scope)
        headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; "
            "manifest-src 'self'; worker-src 'self'"
        )
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if settings.is_prod:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if "cache-control" not in headers:
            # Anything not explicitly cacheable (static assets set their own) may hold member data.
            headers["Cache-Control"] = "no-store, private"

    return before_send


# --- sessions --------------------------------------------------------------------------------------

class StrictSessionBackend(ServerSideSessionBackend):
    """Server-side sessions that never adopt a client-chosen id and never store anonymous sessions.

    Litestar's stock backend uses whatever id arrives in the cookie (session fixation) and writes an empty
    session for every anonymous visitor; see ../shared/reference/security.md §0.1 and §6.2.
    """

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        sid = connection.cookies.get(self.config.key)
        state = connection.scope.setdefault("state", {})
        if sid and sid != "null":
            data = await self.get(sid, store=self.config.get_store_from_app(connection.scope["app"]))
            if data is not None:
                state["_sid_known"] = True
                state["_sid_data"] = data
                return self.deserialize_data(data)
        return {}

    def get_session_id(self, connection: ASGIConnection) -> str:
        sid = connection.get_session_id()
        if sid:
            return sid
        cookie = connection.cookies.get(self.config.key)
        if cookie and connection.scope.get("state", {}).get("_sid_known"):
            return cookie
        return self.generate_session_id()

    async def store_in_message(self, scope_session: Any, message: "Message", connection: ASGIConnection) -> None:
        known = connection.scope.get("state", {}).get("_sid_known", False)
        had_cookie = self.config.key in connection.cookies
        if scope_session is not Empty and not scope_session and not known:
            if had_cookie:  # a stale or forged id: tell the browser to drop it
                await super().store_in_message(Empty, message, connection)
            return
        loaded = connection.scope.get("state", {}).get("_sid_data")
        if (known and scope_session and loaded is not None
                and connection.get_session_id() in (None, connection.cookies.get(self.config.key))
                and self.serialize_data(scope_session, connection.scope) == loaded):
            return  # unchanged, same id: the stored entry and the browser's cookie are already right
        await super().store_in_message(scope_session, message, connection)


class StrictSessionConfig(ServerSideSessionConfig):
    _backend_class = StrictSessionBackend


def session_config(settings: "Settings") -> StrictSessionConfig:
    return StrictSessionConfig(
        key="__Host-kaiin" if settings.is_prod else "kaiin",
        max_age=settings.session_absolute_seconds,
        secure=settings.is_prod,
        httponly=True,
        samesite="lax",
        path="/",
        store=SESSION_STORE,
        exclude=NO_SESSION_PATHS,
    )


class SessionFileStore(FileStore):
    """Litestar's file store, but a session is read in place: a file of ~200 bytes from the page cache costs
    microseconds, the trip to a worker thread that the stock store makes costs more than the read, and so does
    building the file's path with ``anyio.Path`` (the name is the same hash of the key as the stock store's).
    Writes and deletes are the stock store's (a new file renamed into place, so a read never sees half)."""

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        try:
            fd = os.open(os.path.join(self.path, hashlib.blake2s(key.encode()).hexdigest()), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:  # three system calls (a buffered ``open`` makes nine): a session is a few hundred bytes
            chunks = [os.read(fd, 65536)]
            while len(chunks[-1]) == 65536:
                chunks.append(os.read(fd, 65536))
        finally:
            os.close(fd)
        stored = StorageObject.from_bytes(b"".join(chunks))
        if stored.expired:
            await self.delete(key)
            return None
        if renew_for and stored.expires_at:
            await self.set(key, value=stored.data, expires_in=renew_for)
        return stored.data


def session_store(settings: "Settings") -> Store:
    if settings.redis_url:
        return RedisStore.with_client(url=settings.redis_url, namespace="kaiin-sessions")
    return SessionFileStore(settings.data_path / "sessions", create_directories=True)


async def start_session(request: "Request", data: dict[str, Any]) -> None:
    """Begin a new session (sign-in, step-up): a fresh id, and the old id dead on the server."""
    store = request.app.stores.get(SESSION_STORE)
    old = request.cookies.get(request.app.state.session_key)
    if old:
        await store.delete(old)
    ScopeState.from_scope(request.scope).session_id = secrets.token_hex(32)
    request.scope.setdefault("state", {})["_sid_known"] = True
    request.set_session(dict(data))


def end_session(request: "Request") -> None:
    """Sign out: the server-side entry is deleted and the cookie expired when the response is sent."""
    request.clear_session()


def session_expired(session: dict[str, Any], now: datetime, settings: "Settings") -> bool:
    """Idle and absolute timeouts, enforced on the server (cookie lifetimes are not trusted)."""
    try:
        auth_at = datetime.fromisoformat(session["auth_at"])
        seen_at = datetime.fromisoformat(session["seen_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return (
        (now - seen_at).total_seconds() > settings.session_idle_seconds
        or (now - auth_at).total_seconds() > settings.session_absolute_seconds
    )


# --- hosts -----------------------------------------------------------------------------------------

class AllowedHostsMiddleware(ASGIMiddleware):
    """A request for a host we do not serve gets 400 (never a page built from a forged Host)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = {host.lower() for host in allowed}

    async def handle(self, scope: "Scope", receive: "Receive", send: "Send", next_app: "ASGIApp") -> None:
        host = (Headers.from_scope(scope).get("host") or "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if "*" in self.allowed or name in self.allowed:
            await next_app(scope, receive, send)
            return
        body = "ホスト名が正しくありません。".encode()
        await ASGIResponse(body=body, status_code=400, media_type="text/plain")(scope, receive, send)


# --- CSRF and origin -------------------------------------------------------------------------------

def csrf_config(settings: "Settings") -> CSRFConfig:
    return CSRFConfig(
        secret=settings.resolved_secret_key(),
        cookie_name="__Host-csrftoken" if settings.is_prod else "csrftoken",
        cookie_secure=settings.is_prod,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        exclude=NO_SESSION_PATHS,
    )


def origin_check_hook(settings: "Settings"):
    """Refuse state changes that a browser marks as cross-site, even with a valid CSRF token."""
    allowed = {settings.origin.rstrip("/")}

    async def before_request(request: "Request") -> None:
        if request.method not in UNSAFE_METHODS:
            return
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise PermissionDeniedException("cross-site request")
        origin = request.headers.get("origin")
        if origin and origin != "null":
            own = f"{request.url.scheme}://{request.url.netloc}"
            if origin.rstrip("/") not in allowed | {own}:
                raise PermissionDeniedException("foreign origin")
        elif origin == "null":
            raise PermissionDeniedException("opaque origin")

    return before_request
