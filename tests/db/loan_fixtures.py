"""Demo members loaded once per test database, at a fixed moment."""

from __future__ import annotations

from datetime import datetime, timezone

from db import demo, loans
from db.hashing import SecretHasher
from db.tables import Card
from domain.policy import LoanPolicy
from tests.conftest import run

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 2026-11-20 12:00 JST, a Friday
POLICY = LoanPolicy()
BULK_ROWS = 300  # the demo keeps 100,000 (settings.demo_bulk_rows); tests need the shape, not the size
CARDS = {
    "on_time": "1234567890", "new": "2345678901", "overdue": "3456789012", "paid_off": "4567890123",
    "heavy": "5678901234",
}
HASHER = SecretHasher(time_cost=1, memory_kib=1024, parallelism=1)


def load_demo(now: datetime = NOW) -> dict[str, int]:
    """Load the demo members; return their member ids by scenario."""

    async def go() -> dict[str, int]:
        await demo.load(hasher=HASHER, now=now, policy=POLICY, bulk_rows=BULK_ROWS)
        rows = await Card.select(Card.card_number, Card.member)
        by_card = {row["card_number"]: row["member"] for row in rows}
        return {name: by_card[card] for name, card in CARDS.items()}

    return run(go())


def account(member_id: int, now: datetime = NOW) -> loans.Account:
    return run(loans.account_for_member(member_id, now, POLICY))
