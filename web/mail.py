"""Mail delivery from the outbox: SMTP with aiosmtplib when ``SMTP_URL`` is set, files otherwise.

``SMTP_URL`` forms: ``smtp://host:25``, ``smtp://user:pass@host:587?starttls=1`` (STARTTLS),
``smtps://user:pass@host:465`` (implicit TLS). Without it every mail is written to
``<data_dir>/outbox/<id>-<kind>.eml`` and readable at ``/dev/outbox`` in development.
Delivery runs after the response is sent, so how long it takes tells a visitor nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from db import mail
from web.settings import Settings

log = logging.getLogger("kaiin.mail")


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"SMTP_URL は smtp://host:port か smtps://host:port です: {url!r}")
    query = parse_qs(parts.query)
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=parts.scheme == "smtps",
        start_tls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    )


class MailSender:
    """Delivers queued mail; every process may run one, claims keep a mail from going twice."""

    def __init__(self, settings: Settings) -> None:
        self.sender = settings.mail_from
        self.outbox_dir: Path = settings.data_path / "outbox"
        self.smtp = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None

    def message(self, item: mail.Mail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = item.to_addr
        msg["Subject"] = item.subject
        msg["Date"] = format_datetime(item.created_at)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "kaiin.invalid")
        msg.set_content(item.body, charset="utf-8")
        return msg

    async def deliver(self, mail_id: int, *, now: datetime) -> bool:
        """Send one queued mail; True when this call delivered it."""
        item = await mail.claim(mail_id, now=now)
        if item is None:
            return False
        try:
            await self._send(item)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail %s not delivered: %s", mail_id, type(exc).__name__)
            await mail.mark_failed(mail_id, error=type(exc).__name__)
            return False
        await mail.mark_sent(mail_id, now=now)
        return True

    async def deliver_pending(self, *, now: datetime) -> int:
        sent = 0
        for mail_id in await mail.pending_ids(now=now):
            sent += await self.deliver(mail_id, now=now)
        return sent

    async def _send(self, item: mail.Mail) -> None:
        msg = self.message(item)
        if self.smtp is None:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            (self.outbox_dir / f"{item.id:06d}-{item.kind}.eml").write_bytes(msg.as_bytes())
            return
        await aiosmtplib.send(
            msg, hostname=self.smtp.host, port=self.smtp.port, username=self.smtp.username,
            password=self.smtp.password, use_tls=self.smtp.use_tls, start_tls=self.smtp.start_tls or None,
            timeout=15,
        )
