"""The mail outbox: a mail is a row written in the same transaction as the change it reports.

Delivery (files in development, SMTP when configured) happens after the transaction, claimed row
by row with one conditional update, so several processes never send the same mail twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from db.tables import OutboxMail
from domain.notices import Notice

#: a claim older than this is taken to belong to a sender that died
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Mail:
    id: int
    to_addr: str
    subject: str
    body: str
    kind: str
    created_at: datetime
    sent_at: datetime | None = None


async def enqueue(*, to_addr: str, notice: Notice, now: datetime, member: int | None = None) -> int:
    """Queue ``notice`` for ``to_addr``; returns the outbox id."""
    rows = await OutboxMail.insert(
        OutboxMail(
            member=member, to_addr=to_addr, kind=notice.kind, subject=notice.subject, body=notice.body,
            created_at=now,
        )
    ).returning(OutboxMail.id)
    return rows[0]["id"]


async def claim(mail_id: int, *, now: datetime) -> Mail | None:
    """Take one unsent mail for delivery, or None when it is sent or another sender holds it."""
    rows = await OutboxMail.update(
        {OutboxMail.claimed_at: now, OutboxMail.attempts: OutboxMail.attempts + 1}
    ).where(
        (OutboxMail.id == mail_id)
        & OutboxMail.sent_at.is_null()
        & (OutboxMail.claimed_at.is_null() | (OutboxMail.claimed_at < now - STALE_CLAIM))
    ).returning(
        OutboxMail.id, OutboxMail.to_addr, OutboxMail.subject, OutboxMail.body, OutboxMail.kind,
        OutboxMail.created_at,
    )
    return Mail(**rows[0]) if rows else None


async def pending_ids(*, now: datetime, limit: int = 100) -> list[int]:
    rows = await OutboxMail.select(OutboxMail.id).where(
        OutboxMail.sent_at.is_null()
        & (OutboxMail.claimed_at.is_null() | (OutboxMail.claimed_at < now - STALE_CLAIM))
    ).order_by(OutboxMail.id).limit(limit)
    return [row["id"] for row in rows]


async def mark_sent(mail_id: int, *, now: datetime) -> None:
    await OutboxMail.update({OutboxMail.sent_at: now, OutboxMail.last_error: ""}).where(OutboxMail.id == mail_id)


async def mark_failed(mail_id: int, *, error: str) -> None:
    """Release the claim so a later run retries; keep a short reason."""
    await OutboxMail.update({OutboxMail.claimed_at: None, OutboxMail.last_error: error[:200]}).where(
        OutboxMail.id == mail_id
    )


async def newest(*, limit: int = 50, to_addr: str | None = None) -> list[Mail]:
    """For the developer outbox page and tests: newest first."""
    query = OutboxMail.select(
        OutboxMail.id, OutboxMail.to_addr, OutboxMail.subject, OutboxMail.body, OutboxMail.kind,
        OutboxMail.created_at, OutboxMail.sent_at,
    ).order_by(OutboxMail.id, ascending=False).limit(limit)
    if to_addr:
        query = query.where(OutboxMail.to_addr == to_addr)
    return [Mail(**row) for row in await query]
