"""Passkey rules: sign counts, names, challenge lifetimes, keeping a way in."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.passkeys import (
    PasskeyError,
    PasskeyPolicy,
    challenge_expires_at,
    challenge_live,
    default_name,
    keeps_a_way_in,
    parse_name,
    sign_count_acceptable,
)

POLICY = PasskeyPolicy()


@pytest.mark.parametrize(("stored", "reported", "ok"), [
    (0, 0, True),  # synced passkeys: always 0 (replays are stopped by the single-use challenge)
    (0, 1, True), (1, 2, True), (5, 100, True),
    (5, 5, False), (5, 4, False), (5, 0, False),  # a clone: hard failure, audited
])
def test_sign_count_must_go_up_once_it_has_started(stored, reported, ok):
    assert sign_count_acceptable(stored, reported) is ok


def test_challenge_lives_for_the_policy_ttl_only():
    issued = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
    expires = challenge_expires_at(issued, POLICY)
    assert expires - issued == timedelta(seconds=POLICY.passkey_challenge_ttl_seconds)
    assert challenge_live(expires, expires - timedelta(seconds=1))
    assert not challenge_live(expires, expires)


@pytest.mark.parametrize(("raw", "name"), [
    ("仕事用スマホ", "仕事用スマホ"), ("  ｉＰｈｏｎｅ  ", "iPhone"), ("x" * 40, "x" * 40),
])
def test_names_are_normalised(raw, name):
    assert parse_name(raw, POLICY) == name


@pytest.mark.parametrize("raw", ["", "   ", "x" * 41, "a\u200bb", "a\nb", "a\x00b", "\u202eevil"])
def test_bad_names_get_a_japanese_message(raw):
    with pytest.raises(PasskeyError) as caught:
        parse_name(raw, POLICY)
    assert "パスキーの名前" in caught.value.message


@pytest.mark.parametrize(("agent", "name"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1",
     "iPhone (Safari)"),
    ("Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36", "Android (Chrome)"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0", "Windows (Edge)"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Gecko/20100101 Firefox/133.0", "Mac (Firefox)"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) CriOS/131.0 Mobile/15E148 Safari/604.1", "iPhone (Chrome)"),
    ("curl/8.0", "パスキー"), ("", "パスキー"),
])
def test_default_name_comes_from_the_browser(agent, name):
    assert default_name(agent) == name


def test_a_member_keeps_a_way_in():
    assert keeps_a_way_in(passkeys_after=1, usable_secrets=0)
    assert keeps_a_way_in(passkeys_after=0, usable_secrets=1)
    assert not keeps_a_way_in(passkeys_after=0, usable_secrets=0)
