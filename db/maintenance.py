"""Operators' maintenance windows: add, list, remove, and the cheap read the gate makes on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.engine import change_token, fetch, write_tx
from db.tables import MaintenanceWindow
from domain.maintenance import MaintenanceError, Window, check_operator_window, operator_window


@dataclass(frozen=True)
class StoredWindow:
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


async def add_window(start: datetime, end: datetime, reason: str, *, now: datetime) -> StoredWindow:
    """Store an operator window (checked by the domain); every process sees it on its next request."""
    window = check_operator_window(start, end, reason, now)
    async with write_tx():
        row = MaintenanceWindow(starts_at=window.start, ends_at=window.end, reason=window.reasons[0], created_at=now)
        await row.save()
    return StoredWindow(row.id, window.start, window.end, window.reasons[0])


async def list_windows(*, now: datetime, include_past: bool = False) -> list[StoredWindow]:
    """Operator windows by start time: those not yet ended, or all of them."""
    query = MaintenanceWindow.select().order_by(MaintenanceWindow.starts_at)
    if not include_past:
        query = query.where(MaintenanceWindow.ends_at > now)
    return [_stored(row) for row in await query]


async def remove_window(window_id: int) -> StoredWindow:
    """Delete an operator window (ending it early if it is under way); MaintenanceError when there is none."""
    async with write_tx():
        row = await MaintenanceWindow.select().where(MaintenanceWindow.id == window_id).first()
        if row is None:
            raise MaintenanceError(f"ID {window_id} のメンテナンスは登録されていません。")
        await MaintenanceWindow.delete().where(MaintenanceWindow.id == window_id)
    return _stored(row)


OPERATOR_WINDOWS_SQL = f"SELECT starts_at, ends_at, reason FROM {MaintenanceWindow._meta.tablename} WHERE ends_at >= {{}}"


async def operator_windows(now: datetime) -> list[Window]:
    """The windows the gate needs at ``now``: those that have not ended (one indexed range read, as plain SQL
    because the gate runs it on every request and Piccolo's query builder costs more than the query)."""
    rows = await fetch(OPERATOR_WINDOWS_SQL, now)
    return [operator_window(row["starts_at"], row["ends_at"], row["reason"]) for row in rows]


class RememberedWindows:
    """The gate's operator windows, read again only when they may have changed (``db.engine.change_token``:
    on SQLite any commit, on PostgreSQL a notification from the windows table's trigger), when that cannot be
    told, or when the clock is before the last read (windows that ended before it were not read)."""

    def __init__(self) -> None:
        self._token: int | None = None
        self._read_at: datetime | None = None
        self.windows: tuple[Window, ...] = ()

    async def at(self, now: datetime) -> tuple[Window, ...]:
        token = change_token()  # taken before the read: a change committed during it is caught next time
        if token is None or token != self._token or self._read_at is None or now < self._read_at:
            self.windows = tuple(await operator_windows(now))
            self._token, self._read_at = token, now
        return self.windows


def _stored(row: dict) -> StoredWindow:
    return StoredWindow(row["id"], row["starts_at"], row["ends_at"], row["reason"])
