"""Mail delivery: the outbox files in development, and real SMTP against a real aiosmtpd server."""

from __future__ import annotations

import email
import socket
from datetime import datetime, timezone
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from db import mail
from domain.notices import Notice
from web.mail import MailSender, parse_smtp_url

from tests.auth_helpers import run

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
NOTICE = Notice("locked", "【重要】暗証番号をロックしました", "山田 太郎 様\n\n暗証番号をロックしました。")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def test_mail_goes_over_real_smtp_once(settings, smtp_server):
    inbox, port = smtp_server
    sender = MailSender(settings.replace(smtp_url=f"smtp://127.0.0.1:{port}"))
    mail_id = run(mail.enqueue(to_addr="taro@example.jp", notice=NOTICE, now=NOW))
    assert run(sender.deliver_pending(now=NOW)) == 1
    assert run(sender.deliver_pending(now=NOW)) == 0, "never twice"
    assert len(inbox.messages) == 1
    mail_from, rcpts, raw = inbox.messages[0]
    assert rcpts == ["taro@example.jp"] and mail_from == settings.mail_from
    message = email.message_from_bytes(raw, policy=email_policy.default)
    assert message["Subject"] == NOTICE.subject
    assert "暗証番号をロックしました" in message.get_content()
    assert run(mail.newest())[0].sent_at is not None and mail_id


def test_smtp_failure_keeps_the_mail_for_a_retry(settings, smtp_server):
    _, port = smtp_server
    dead = MailSender(settings.replace(smtp_url=f"smtp://127.0.0.1:{_free_port()}"))
    run(mail.enqueue(to_addr="taro@example.jp", notice=NOTICE, now=NOW))
    assert run(dead.deliver_pending(now=NOW)) == 0
    assert run(mail.newest())[0].sent_at is None
    alive = MailSender(settings.replace(smtp_url=f"smtp://127.0.0.1:{port}"))
    assert run(alive.deliver_pending(now=NOW)) == 1


def test_without_smtp_mail_is_written_to_the_outbox_folder(settings):
    sender = MailSender(settings)
    run(mail.enqueue(to_addr="taro@example.jp", notice=NOTICE, now=NOW))
    assert run(sender.deliver_pending(now=NOW)) == 1
    files = list((settings.data_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and files[0].name.endswith("-locked.eml")
    message = email.message_from_bytes(files[0].read_bytes(), policy=email_policy.default)
    assert message["To"] == "taro@example.jp"


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user"),
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525, False, None),
        ("smtps://mailer:p%40ss@mail.example.jp", "mail.example.jp", 465, True, "mailer"),
        ("smtp://mail.example.jp:587?starttls=1", "mail.example.jp", 587, False, None),
    ],
)
def test_smtp_url_forms(url, host, port, tls, user):
    target = parse_smtp_url(url)
    assert (target.host, target.port, target.use_tls, target.username) == (host, port, tls, user)


def test_bad_smtp_url_is_refused():
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example.jp")
