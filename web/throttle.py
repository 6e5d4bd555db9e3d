"""Per-IP throttles on sign-in and recovery, shared by every server process.

Counters live in database rows (``db.throttle``) or, when ``REDIS_URL`` is set, in Redis keys. The
client address is the peer, or the ``X-Forwarded-For`` hop named by a configured proxy
(``KAIIN_TRUSTED_PROXIES``); a header from anyone else is ignored, so it cannot reset a count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from litestar import Request
from litestar.exceptions import TooManyRequestsException

from db import audit
from db import throttle as db_throttle
from domain.auth_policy import ThrottleDecision, client_ip, throttle_decision, throttle_window_start
from web.settings import Settings

THROTTLED_MESSAGE = "短い時間に多くのお試しがありました。{seconds}秒ほど待ってから、もう一度お試しください。"


class ThrottleStore(Protocol):
    async def hit(self, key: str, *, now: datetime, limit: int, window_seconds: int) -> ThrottleDecision: ...

    async def give_back(self, key: str, *, now: datetime, window_seconds: int) -> None: ...


class DatabaseThrottle:
    async def hit(self, key: str, *, now: datetime, limit: int, window_seconds: int) -> ThrottleDecision:
        return await db_throttle.hit(key, now=now, limit=limit, window_seconds=window_seconds)

    async def give_back(self, key: str, *, now: datetime, window_seconds: int) -> None:
        await db_throttle.give_back(key, now=now, window_seconds=window_seconds)


class RedisThrottle:
    """``INCR`` on a key per window (atomic in Redis), expiring with the window."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)

    @staticmethod
    def _key(key: str, now: datetime, window_seconds: int) -> str:
        return f"kaiin:throttle:{key}:{int(throttle_window_start(now, window_seconds).timestamp())}"

    async def hit(self, key: str, *, now: datetime, limit: int, window_seconds: int) -> ThrottleDecision:
        name = self._key(key, now, window_seconds)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds + 5)
            count, _ = await pipe.execute()
        start = throttle_window_start(now, window_seconds)
        return throttle_decision(int(count), window_start=start, now=now, limit=limit, window_seconds=window_seconds)

    async def give_back(self, key: str, *, now: datetime, window_seconds: int) -> None:
        await self.redis.decr(self._key(key, now, window_seconds))


def throttle_store(settings: Settings) -> ThrottleStore:
    return RedisThrottle(settings.redis_url) if settings.redis_url else DatabaseThrottle()


def request_ip(request: Request) -> str:
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else ""
    return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


SCOPES = {
    "login": ("login_throttle_max", "login_throttle_window_seconds"),
    "recover": ("recover_throttle_max", "recover_throttle_window_seconds"),
    "passkey_options": ("passkey_options_throttle_max", "passkey_options_throttle_window_seconds"),
}


class Refusals:
    """Addresses this process already refused, until their window ends: a flood is answered from memory.

    Only ever refuses *more* than the shared counter would (never lets anything through), so it is safe
    to keep per process; each process learns of a flood from its first refusal by the shared counter.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def retry_after(self, key: str, now: datetime) -> int | None:
        until = self._until.get(key)
        if until is None or until <= now:
            return None
        return max(1, int((until - now).total_seconds() + 0.999))

    def remember(self, key: str, now: datetime, seconds: int) -> None:
        if len(self._until) >= self.MAX_ENTRIES:
            self._until = {k: v for k, v in self._until.items() if v > now}
        self._until[key] = now + timedelta(seconds=seconds)


def _refuse(seconds: int) -> TooManyRequestsException:
    return TooManyRequestsException(
        detail=THROTTLED_MESSAGE.format(seconds=seconds), headers={"Retry-After": str(seconds)}
    )


async def check(request: Request, scope: str, now: datetime) -> None:
    """Count this request against its IP; raise 429 with ``Retry-After`` when over the limit."""
    policy = request.app.state.auth_policy
    limit_field, window_field = SCOPES[scope]
    ip = request_ip(request)
    key = f"{scope}:{ip}"
    refusals: Refusals = request.app.state.refusals
    if (seconds := refusals.retry_after(key, now)) is not None:
        raise _refuse(seconds)  # no database write per request of a flood
    decision = await request.app.state.throttle.hit(
        key, now=now, limit=getattr(policy, limit_field), window_seconds=getattr(policy, window_field)
    )
    if decision.first_refusal:  # one audit row per address and window, however long the flood
        await audit.record(action=f"throttle_{scope}", outcome="throttled", now=now, actor="system", ip=ip,
                           detail=f"over {decision.limit} per {getattr(policy, window_field)}s")
    if not decision.allowed:
        refusals.remember(key, now, decision.retry_after)
        raise _refuse(decision.retry_after)


async def give_back(request: Request, scope: str, now: datetime) -> None:
    """A successful sign-in returns its attempt: only failures use up an address's allowance."""
    policy = request.app.state.auth_policy
    _, window_field = SCOPES[scope]
    await request.app.state.throttle.give_back(
        f"{scope}:{request_ip(request)}", now=now, window_seconds=getattr(policy, window_field)
    )
