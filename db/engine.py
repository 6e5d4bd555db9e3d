"""The database engine: SQLite by default, PostgreSQL when ``DATABASE_URL`` says so.

Every use case that writes runs inside ``write_tx()``: an IMMEDIATE transaction on SQLite (the write lock is
taken at BEGIN, so a read-then-write never fails half-way with SQLITE_BUSY), a plain transaction on
PostgreSQL (where use cases take row locks with ``lock_rows()`` or use conditional updates).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import sqlite3
import threading
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

SQLITE_BUSY_TIMEOUT_SECONDS = 30
READ_MEMO_ENTRIES = 4096  #: SQLite: statements' rows remembered per reader while nothing is committed (then all go)
#: PostgreSQL: the channel the maintenance-window trigger notifies on a change (migration 2026-12-07)
CHANGES_CHANNEL = "kaiin_changes"
log = logging.getLogger("kaiin.db")


# Piccolo reads every SQLite INTEGER through int(Decimal(text)) behind a wrapper, and dates and times through
# the same wrapper: most of the cost of reading a row. Here INTEGER columns have no converter at all: a column
# declared INTEGER has integer affinity, so every number this app writes is stored as an integer and sqlite3
# returns it as one without a Python call per value. Dates and times are read straight from the bytes
# (sqlite3 converters are process-wide; Piccolo's arrays keep their own); a day is read once per text (a history
# page's rows share few days, a ledger's few thousand, and a ``date`` never changes).
@functools.lru_cache(maxsize=4096)
def _date(value: bytes) -> date:
    return date.fromisoformat(value.decode())


def _timestamptz(value: bytes) -> datetime:
    return datetime.fromisoformat(value.decode()).replace(tzinfo=timezone.utc)


sqlite3.converters.pop("INTEGER", None)
sqlite3.register_converter("DATE", _date)
sqlite3.register_converter("TIMESTAMPTZ", _timestamptz)


class KeptReaderSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, minus its biggest cost: outside a transaction it opens a new connection, on a new
    thread, for every statement (a member request makes about five). Here a ``SELECT`` outside a transaction
    runs on one connection kept per thread, in place: in WAL mode a reader never waits for a writer, and an
    autocommit statement sees every commit made before it, so this is the same answer without the thread.
    Writes and transactions still go through Piccolo (their own connection on a worker thread, where the busy
    timeout may wait without stopping the event loop). Before WAL is on (``start()``), reads take Piccolo's path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept = threading.local()

    def _reader(self) -> sqlite3.Connection | None:
        connection = getattr(self._kept, "connection", None)
        if connection is None:
            connection = sqlite3.connect(**self.connection_kwargs)
            connection.row_factory = dict_factory
            if connection.execute("PRAGMA journal_mode").fetchone()["journal_mode"] != "wal":
                connection.close()
                return None
            self._kept.connection = connection
            self._kept.memo, self._kept.memo_version = {}, None  # versions are this connection's own
        return connection

    def memo_at(self, version: int) -> dict | None:
        """Rows remembered on this thread's reader while ``PRAGMA data_version`` read ``version`` (an empty memo
        when it has moved on since: something was committed); None before WAL is on."""
        if self._reader() is None:
            return None
        kept = self._kept
        if kept.memo_version != version or len(kept.memo) >= READ_MEMO_ENTRIES:
            kept.memo, kept.memo_version = {}, version
        return kept.memo

    async def _run_in_new_connection(self, query: str, args: list | None = None, query_type: str = "generic",
                                     table: Any = None):
        reader = self._reader() if query.lstrip()[:6].upper() == "SELECT" else None
        if reader is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        cursor = reader.execute(query, args or [])
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def data_version(self) -> int | None:
        """SQLite's ``PRAGMA data_version`` on the kept reader: it changes whenever another connection (of this
        process or another) commits, so an unchanged value means nothing was written since (None before WAL)."""
        reader = self._reader()
        return None if reader is None else reader.execute("PRAGMA data_version").fetchone()["data_version"]


class _ChangeListener:
    """PostgreSQL: per event loop (each running app has its own), one connection that LISTENs on
    ``CHANGES_CHANNEL``. Every notification heard, and every new listener, moves one shared count on, so a
    token taken before a listener was lost or replaced never matches again."""

    def __init__(self) -> None:
        self.heard = 0
        self.connections: dict[Any, Any] = {}  #: event loop → its listening connection

    def _heard(self, *_: Any) -> None:
        self.heard += 1

    async def start(self, dsn: str) -> None:
        import asyncpg

        loop = asyncio.get_running_loop()
        if self.token() is not None:
            return
        self._heard()
        try:
            connection = await asyncpg.connect(dsn)
            await connection.add_listener(CHANGES_CHANNEL, self._heard)
        except (OSError, asyncpg.PostgresError) as error:  # no listener: every caller reads afresh instead
            log.warning("no change listener on PostgreSQL (%s): the maintenance windows are read on every request",
                        error)
            return
        connection.add_termination_listener(lambda lost: self._forget(loop, lost))
        self.connections[loop] = connection

    def _forget(self, loop: Any, connection: Any) -> None:
        if self.connections.get(loop) is connection:
            del self.connections[loop]

    def token(self) -> int | None:
        connection = self.connections.get(asyncio.get_running_loop())
        return self.heard if connection is not None and not connection.is_closed() else None

    async def stop(self) -> None:
        connection = self.connections.pop(asyncio.get_running_loop(), None)
        if connection is not None and not connection.is_closed():
            await connection.close()


class _Readers:
    """PostgreSQL: the connections ``fetch`` reads on outside a transaction, for one event loop (each running app
    has its own), at most ``size`` open at once. A read takes an idle one, or opens one while fewer than ``size``
    are open, or else waits for one (first come, first served). After a read that ended normally, or with an
    error from the server (the session outside a transaction is as clean as before), the connection is reused;
    after a cancellation or a lost connection it is closed, and its place goes to the next reader. asyncpg's
    pool does this job for every other statement, but its checkout and return cost about as much CPU as the
    read itself (a timeout wrapper, a queue and a shielded task per use); here they are a list's pop and append.
    Once stopped, a read still under way closes its connection instead of giving it back."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn, self.size = dsn, size
        self.idle: list = []
        self.waiters: collections.deque = collections.deque()
        self.places = 0  #: connections open or being opened
        self.stopped = False

    async def fetch(self, statement: str, args: tuple) -> list:
        import asyncpg

        connection = await self._acquire()  # None: a place to open a new one in
        try:
            if connection is None:
                connection = await _connect(self.dsn)
            rows = await connection.fetch(statement, *args)
        except asyncpg.PostgresError:  # the server's answer (or a value it cannot take): the connection is fine
            if connection is None or connection.is_closed():
                self._close(connection)
            else:
                self._give_back(connection)
            raise
        except BaseException:
            self._close(connection)  # whatever state it was left in (a cancelled read, say), it is not reused
            raise
        self._give_back(connection)
        return rows

    async def _acquire(self) -> Any:
        while self.idle:
            connection = self.idle.pop()
            if not connection.is_closed():
                return connection
            self.places -= 1  # lost while idle (the server restarted, say)
        if self.places < self.size:
            self.places += 1
            return None
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:  # handed one just then
                if waiter.result() is None:
                    self._close(None)
                else:
                    self._give_back(waiter.result())
            raise

    def _give_back(self, connection: Any) -> None:
        if self.stopped:
            self._close(connection)
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self.idle.append(connection)

    def _close(self, connection: Any) -> None:
        """``connection`` (None: one never opened) is closed: its place goes to the first reader still waiting."""
        if connection is not None:
            connection.terminate()
        while self.waiters and not self.stopped:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.places -= 1

    async def stop(self) -> None:
        import asyncpg

        self.stopped = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the database connections are closed (shutting down)"))
        idle, self.idle = self.idle, []
        for connection in idle:
            try:
                await connection.close(timeout=5)
            except Exception:  # closing politely failed: drop it
                connection.terminate()
            self.places -= 1


async def _connect(dsn: str) -> Any:
    import asyncpg

    return await asyncpg.connect(dsn)


_engine: Engine | None = None
_pool_max = 0
_listener = _ChangeListener()
_readers: dict[Any, _Readers] = {}  #: event loop → its read connections


def engine_from_url(url: str, *, root: Path | None = None) -> Engine:
    """Build (but do not connect) the engine for ``url``; relative SQLite paths are under ``root``."""
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    if not url.startswith("sqlite:///"):
        raise ValueError(f"unsupported DATABASE_URL: {url!r}")
    path = Path(unquote(url[len("sqlite:///"):]))  # sqlite:///rel/path or sqlite:////abs/path
    if not path.is_absolute():
        path = (root or Path.cwd()) / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return KeptReaderSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def configure(url: str, *, root: Path | None = None, pool_max: int = 0) -> Engine:
    """Point every table (and Piccolo's migration runner) at the engine for ``url``."""
    global _engine, _pool_max
    from piccolo.apps.migrations.tables import Migration

    from db import piccolo_conf, tables

    _engine = engine_from_url(url, root=root)
    _pool_max = pool_max if is_postgres() else 0
    piccolo_conf.DB = _engine
    for table in (*tables.ALL_TABLES, Migration):  # Piccolo caches an engine per table class
        table._meta._db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        raise RuntimeError("db.engine.configure() has not been called")
    return _engine


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def write_tx():
    """One write transaction: IMMEDIATE on SQLite, a plain (row-locking) one on PostgreSQL."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def change_token() -> int | None:
    """A number that stays the same while the maintenance windows cannot have changed; None when that cannot
    be told (then read them). SQLite: ``PRAGMA data_version`` (any commit by another connection changes it).
    PostgreSQL: how many notifications the listener has had (a trigger notifies on every change to the
    windows table); None while the listener is not connected."""
    db = engine()
    if isinstance(db, KeptReaderSQLiteEngine):
        return db.data_version()
    return _listener.token() if isinstance(db, PostgresEngine) else None


_compiled: dict[tuple[str, bool], str] = {}


def _placeholders(sql: str, postgres: bool) -> str:
    """``{}`` placeholders (Piccolo's raw style) as the driver's own: ``?`` on SQLite, ``$1``… on PostgreSQL."""
    key = (sql, postgres)
    compiled = _compiled.get(key)
    if compiled is None:
        if not sql.lstrip().upper().startswith(("SELECT", "EXPLAIN")):
            raise ValueError("db.engine.fetch is for reads: use Piccolo inside write_tx() to write")
        parts = sql.split("{}")
        marks = [f"${n}" for n in range(1, len(parts))] if postgres else ["?"] * (len(parts) - 1)
        compiled = _compiled[key] = "".join(part + mark for part, mark in zip(parts, [*marks, ""]))
    return compiled


async def fetch(sql: str, *args: Any, tuples: bool = False) -> list:
    """Rows of a read-only statement (``{}`` placeholders, as ``Table.raw``) as dicts, or as tuples in the order
    of the select list (``tuples=True``, for pages of many rows), for the few reads made on every signed-in
    request: straight to the driver (SQLite's kept reader, or a pooled PostgreSQL connection) instead of through
    Piccolo's query objects, which cost more than the query. Inside a transaction, or without a pool, it is
    ``Table.raw``'s path (the same rows, on the transaction's connection). Each SQL text is remembered compiled:
    pass constant texts (or a small set built from constants), values only as arguments."""
    db = engine()
    statement = _placeholders(sql, isinstance(db, PostgresEngine))  # refuses anything but a read
    if db.current_transaction.get() is None:
        if isinstance(db, KeptReaderSQLiteEngine):
            reader = db._reader()
            if reader is not None:
                cursor = reader.cursor()
                if tuples:
                    cursor.row_factory = None
                try:
                    return cursor.execute(statement, args).fetchall()
                finally:
                    cursor.close()
        elif isinstance(db, PostgresEngine) and (readers := _readers.get(asyncio.get_running_loop())) is not None:
            rows = await readers.fetch(statement, args)
            return [tuple(row) for row in rows] if tuples else [dict(row) for row in rows]
    rows = await db.run_querystring(QueryString(sql, *args))
    if tuples:
        return [tuple(row.values()) for row in rows]
    return rows if isinstance(db, SQLiteEngine) else [dict(row) for row in rows]


async def fetch_remembered(sql: str, *args: Any) -> list[dict]:
    """``fetch``, remembered while the database stands still. On SQLite ``PRAGMA data_version``, read here on this
    thread's kept reader just before the memo is looked up, moves on every commit by any other connection (every
    write goes through another one: this process's transactions and other processes alike). Rows read while it
    held its present value are given again (as new dicts): exactly what a read would give now, for the price of
    the pragma instead of the statement. Anywhere else (PostgreSQL, inside a transaction, before WAL) it reads."""
    db = engine()
    if not isinstance(db, KeptReaderSQLiteEngine) or db.current_transaction.get() is not None:
        return await fetch(sql, *args)
    version = db.data_version()
    memo = None if version is None else db.memo_at(version)
    if memo is None:
        return await fetch(sql, *args)
    key = (sql, *args)
    rows = memo.get(key)
    if rows is None:  # read after ``version``: if a commit comes in between, the next version differs
        rows = memo[key] = await fetch(sql, *args)
    return [dict(row) for row in rows]


def notifications_heard() -> int:
    """How many change notifications this process's PostgreSQL listener has counted (tests wait on it)."""
    return _listener.heard


async def _keep_session(_connection: Any) -> None:
    """The pool's reset on release. asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` after every query, a second round trip each time; this app sets no session state, takes no
    advisory locks, and listens only on its own connection. An open transaction is still rolled back by the pool."""


async def start() -> None:
    """Open the PostgreSQL pool and the change listener, or switch SQLite to WAL (persistent per file)."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")
        return
    if _pool_max:
        await db.start_connection_pool(min_size=1, max_size=_pool_max, reset=_keep_session)
        _readers.setdefault(asyncio.get_running_loop(), _Readers(db.config["dsn"], _pool_max))
    await _listener.start(db.config["dsn"])


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await _listener.stop()
        readers = _readers.pop(asyncio.get_running_loop(), None)
        if readers is not None:
            await readers.stop()
        if _pool_max:
            await db.close_connection_pool()


async def ping() -> bool:
    """True when the database answers a trivial query (False, never an exception, when it does not)."""
    try:
        rows = await engine().run_ddl("SELECT 1 AS ok")
    except Exception:  # any driver or network failure means "down" to a health check
        return False
    return bool(rows) and rows[0]["ok"] == 1


async def migrate() -> None:
    """Apply every pending migration to the configured engine."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(result.message or "migration failed")
