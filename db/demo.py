"""Demo members for `kaiin demo` and `make run`: idempotent (existing cards are left as they are)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from db import accounts
from db.hashing import SecretHasher
from db.tables import Card


def demo_members(today: date) -> list[accounts.NewMember]:
    return [
        accounts.NewMember(
            name="山田 太郎", card_number="1234567890", pin="1234", web_id="taro2024", password="kaiin-demo-pass",
            email="taro@example.jp", birth_date=date(1990, 4, 1), credit_limit=500_000, rate=1780, due_day="5",
            opened_on=today - timedelta(days=200), balance=100_000, borrowed_on=today - timedelta(days=40),
        ),
    ]


async def load(*, hasher: SecretHasher, now: datetime) -> list[str]:
    """Create the demo members that do not exist yet; return one sign-in line per member."""
    lines = []
    for new in demo_members(now.date()):
        if not await Card.exists().where(Card.card_number == new.card_number):
            await accounts.create_member(new, hasher=hasher, now=now)
        line = f"{new.name}: カード番号 {new.card_number} / 暗証番号 {new.pin}"
        if new.web_id:
            line += f"  または ログインID {new.web_id} / パスワード {new.password}"
        lines.append(line)
    return lines
