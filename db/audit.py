"""The security audit log: append-only rows, readable with ``kaiin audit``.

Callers pass only safe facts. ``detail`` is cut to its column and every control character is
written as an escape (``\\r`` → ``\\x0d``), so a crafted input can never forge a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.tables import AuditEvent, Member

_DETAIL_MAX = 200


def _escape(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    member: int | None
    member_no: str | None
    actor: str
    action: str
    outcome: str
    ip: str
    detail: str


async def record(
    *, action: str, outcome: str, now: datetime, member: int | None = None, actor: str = "member",
    ip: str = "", detail: str = "",
) -> None:
    """Append one event (inside the caller's transaction when there is one)."""
    await AuditEvent.insert(
        AuditEvent(
            at=now, member=member, actor=_escape(actor)[:40], action=action, outcome=outcome,
            ip=_escape(ip)[:45], detail=_escape(detail)[:_DETAIL_MAX],
        )
    )


async def recent(*, limit: int = 50, member: int | None = None, action: str | None = None) -> list[AuditEntry]:
    """The newest events first, optionally for one member or one action."""
    query = AuditEvent.select(
        AuditEvent.at, AuditEvent.member, AuditEvent.actor, AuditEvent.action, AuditEvent.outcome,
        AuditEvent.ip, AuditEvent.detail,
    ).order_by(AuditEvent.id, ascending=False).limit(limit)
    if member is not None:
        query = query.where(AuditEvent.member == member)
    if action:
        query = query.where(AuditEvent.action == action)
    rows = await query
    ids = {row["member"] for row in rows if row["member"] is not None}
    numbers = {}
    if ids:
        found = await Member.select(Member.id, Member.member_no).where(Member.id.is_in(list(ids)))
        numbers = {r["id"]: r["member_no"] for r in found}
    return [AuditEntry(**row, member_no=numbers.get(row["member"])) for row in rows]
