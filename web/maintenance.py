"""The maintenance gate: one app-level middleware in front of every route.

During a window every route answers 503 with ``Retry-After`` (htmx requests are sent whole-page to
``/maintenance``), except the safe (GET/HEAD) requests of routes marked ``opt={"maintenance": "exempt"}``
that need no member: static files, manifest, ``/sw.js``, ``/offline``, ``/maintenance``, ``/healthz``.
Member routes and every POST are gated whatever their opt says, so a money route can never be let through
by a copied flag. Before a window the banner is put on the request for ``render.page``.

Operator windows live in the database. Each process keeps the ones it read until the database says they
may have changed (``db.maintenance.RememberedWindows``): on SQLite every commit is seen at once, so every
process agrees the moment ``kaiin maintenance add`` commits; on PostgreSQL a trigger notifies each process,
which sees the change within milliseconds of the commit. The calendar around ``now`` is laid out once for a
stretch of minutes (``GateMemo``), not on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from litestar.enums import ScopeType
from litestar.exceptions import ServiceUnavailableException
from litestar.middleware import ASGIMiddleware

from db import maintenance as stored
from domain.maintenance import NEW_YEAR, WEEKLY, Window, seconds_until_end, windows_between
from web.guards import requires_member

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from domain.maintenance import MaintenancePolicy
    from web.settings import Settings

EXEMPT = "exempt"
SAFE_METHODS = frozenset({"GET", "HEAD"})
BANNER_STATE_KEY = "maintenance_banner"
KIND_LABELS = {WEEKLY: "定期メンテナンス", NEW_YEAR: "年始メンテナンス"}


@dataclass(frozen=True)
class Status:
    """Where ``now`` stands: inside a window (``active``), or before one that starts soon (``upcoming``)."""

    now: datetime
    active: Window | None
    upcoming: Window | None

    @property
    def retry_after(self) -> int:
        return seconds_until_end(self.active, self.now) if self.active else 0


class MaintenanceUnderway(ServiceUnavailableException):
    """Raised by the gate; ``web.errors`` turns it into the 503 page or the htmx redirect."""

    def __init__(self, status: Status) -> None:
        super().__init__(detail="maintenance", headers={"Retry-After": str(status.retry_after)})
        self.status = status


async def status_at(now: datetime, settings: "Settings") -> Status:
    """The maintenance status at ``now``: operator windows from the database, the calendar from the policy."""
    policy = settings.maintenance_policy()
    operators = await stored.operator_windows(now)
    return _status(now, windows_between(now, now + policy.banner_lead, policy, operators), policy)


def _status(now: datetime, windows: "Iterable[Window]", policy: "MaintenancePolicy") -> Status:
    """Where ``now`` stands among ``windows`` (whole merged windows that cover at least ``now`` … banner lead)."""
    active = upcoming = None
    last = now + policy.banner_lead
    for window in windows:
        if window.end <= now or window.start > last:
            continue
        if window.contains(now):
            active = window
        elif upcoming is None and window.start > now:
            upcoming = window
    return Status(now, active, upcoming)


class GateMemo:
    """What the gate needs on every request, kept per app: the operator windows (read again only when they may
    have changed) and the merged calendar for ``now`` … ``now + banner lead + STRETCH``, laid out again when
    ``now`` leaves that stretch or the operator windows were read again. Same answer as ``status_at``."""

    STRETCH = timedelta(minutes=10)

    def __init__(self, policy: "MaintenancePolicy") -> None:
        self.policy = policy
        self.operators = stored.RememberedWindows()
        self._windows: list[Window] = []
        self._from: tuple[Window, ...] | None = None  #: the operator windows the calendar was laid out with
        self._lo = self._hi = None

    async def status(self, now: datetime) -> Status:
        operators = await self.operators.at(now)
        last = now + self.policy.banner_lead
        if operators is not self._from or self._lo is None or not (self._lo <= now and last <= self._hi):
            self._lo, self._hi, self._from = now, last + self.STRETCH, operators
            self._windows = windows_between(self._lo, self._hi, self.policy, operators)
        return _status(now, self._windows, self.policy)


def is_exempt(scope: "Scope") -> bool:
    """Only a safe request to a route marked exempt that needs no member stays up in a window."""
    handler = scope["route_handler"]
    return (
        handler.opt.get("maintenance") == EXEMPT
        and scope["method"] in SAFE_METHODS
        and requires_member not in handler.resolve_guards()
    )


class MaintenanceGate(ASGIMiddleware):
    """Answers 503 in a window; before one, leaves the banner's window in the request state."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: "Scope", receive: "Receive", send: "Send", next_app: "ASGIApp") -> None:
        if not is_exempt(scope):
            app_state = scope["app"].state
            status = await app_state.maintenance.status(app_state.clock.now())
            if status.active:
                raise MaintenanceUnderway(status)
            if status.upcoming:
                scope.setdefault("state", {})[BANNER_STATE_KEY] = status.upcoming
        await next_app(scope, receive, send)


def banner(scope: "Scope") -> Window | None:
    """The window the banner announces on this request (set by the gate), or None."""
    return scope.get("state", {}).get(BANNER_STATE_KEY)


async def page_context(now: datetime, settings: "Settings") -> dict:
    """For /maintenance: the window under way (if any) and the windows of the days ahead."""
    policy = settings.maintenance_policy()
    operators = await stored.operator_windows(now)
    windows = windows_between(now, now + timedelta(days=settings.maintenance_schedule_days), policy, operators)
    active = next((window for window in windows if window.contains(now)), None)
    return {
        "window": describe(active, now) if active else None,
        "ahead": [describe(window, now) for window in windows if window is not active],
    }


def describe(window: Window, now: datetime) -> dict:
    """What the templates show of a window: its times, what it is, and how long until it ends."""
    reasons = [KIND_LABELS[kind] for kind in (WEEKLY, NEW_YEAR) if kind in window.kinds] + list(window.reasons)
    return {
        "start": window.start,
        "end": window.end,
        "reasons": reasons,
        "seconds_left": seconds_until_end(window, now),
    }
