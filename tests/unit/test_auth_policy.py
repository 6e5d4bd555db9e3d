"""Lockout, throttle, one-time code and step-up rules."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.auth_policy import (
    LOCKED_HELP,
    AuthPolicy,
    client_ip,
    code_expires_at,
    code_usable,
    failure_message,
    is_locked,
    is_stepped_up,
    new_code,
    parse_code,
    throttle_decision,
    throttle_window_start,
)
from domain.credentials import CredentialFormatError

POLICY = AuthPolicy()
NOW = datetime(2026, 11, 22, 3, 0, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(("failures", "locked"), [(0, False), (1, False), (2, False), (3, True), (4, True)])
def test_three_consecutive_failures_lock(failures, locked):
    assert is_locked(failures, POLICY) is locked


def test_lockout_threshold_is_the_policy_number():
    assert not is_locked(3, AuthPolicy(lockout_threshold=5))
    assert "5回続けて間違えるとロックされます" in failure_message(AuthPolicy(lockout_threshold=5))


def test_failure_message_says_the_rule_and_what_to_do():
    assert "3回続けて間違えるとロックされます" in failure_message(POLICY)
    for way_out in ("パスワードは", "暗証番号は再発行", "パスキー"):
        assert way_out in LOCKED_HELP


def test_throttle_windows_are_aligned_and_count_down():
    start = throttle_window_start(NOW, 60)
    assert start == datetime(2026, 11, 22, 3, 0, 0, tzinfo=timezone.utc)
    ok = throttle_decision(10, window_start=start, now=NOW, limit=10, window_seconds=60)
    over = throttle_decision(11, window_start=start, now=NOW, limit=10, window_seconds=60)
    assert ok.allowed and not over.allowed
    assert over.first_refusal and not ok.first_refusal
    assert not throttle_decision(12, window_start=start, now=NOW, limit=10, window_seconds=60).first_refusal
    assert over.retry_after == 30
    late = throttle_decision(11, window_start=start, now=start + timedelta(seconds=59.2),
                             limit=10, window_seconds=60)
    assert late.retry_after == 1


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        ("203.0.113.5", None, [], "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", [], "203.0.113.5"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        # a client prepending its own "address" cannot choose: we take the right-most untrusted hop
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "not-an-ip", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
        ("proxy-socket", "198.51.100.1", ["proxy-socket"], "198.51.100.1"),
        ("203.0.113.5", "198.51.100.1", ["proxy-socket"], "203.0.113.5"),
    ],
)
def test_client_ip_trusts_forwarded_for_only_from_proxies(peer, xff, trusted, expected):
    assert client_ip(peer, xff, trusted) == expected


def test_codes_are_six_ascii_digits_and_vary():
    codes = {new_code(POLICY) for _ in range(200)}
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_code_usable_until_expiry_tries_and_use():
    expires = code_expires_at(NOW, POLICY)
    assert expires - NOW == timedelta(minutes=10)
    assert code_usable(expires_at=expires, used_at=None, tries=4, now=NOW, policy=POLICY)
    assert not code_usable(expires_at=expires, used_at=None, tries=5, now=NOW, policy=POLICY)
    assert not code_usable(expires_at=expires, used_at=NOW, tries=0, now=NOW, policy=POLICY)
    assert not code_usable(expires_at=expires, used_at=None, tries=0, now=expires, policy=POLICY)


@pytest.mark.parametrize(("raw", "code"), [("012345", "012345"), ("０１２３４５", "012345"), (" 123456 ", "123456")])
def test_code_parse_accepts(raw, code):
    assert parse_code(raw, POLICY) == code


@pytest.mark.parametrize("raw", ["12345", "1234567", "١٢٣٤٥٦", "12345\u200b6", "", "abcdef", "1e5000"])
def test_code_parse_refuses(raw):
    with pytest.raises(CredentialFormatError, match="6桁"):
        parse_code(raw, POLICY)


def test_step_up_lasts_ten_minutes():
    assert is_stepped_up(NOW, NOW + timedelta(minutes=9, seconds=59), POLICY)
    assert not is_stepped_up(NOW, NOW + timedelta(minutes=10), POLICY)
    assert not is_stepped_up(None, NOW, POLICY)
    assert not is_stepped_up(NOW + timedelta(seconds=1), NOW, POLICY)  # from the future: refuse
