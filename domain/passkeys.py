"""Passkey rules: names, sign counts, challenge lifetimes and keeping a way in.

Pure rules only (the WebAuthn ceremonies themselves are in ``db.passkeys``). ``now`` is always passed in.

Sign-count policy (security.md §4.3, §7 item 35): synced passkeys usually report 0 every time, and that is
accepted for as long as the stored count is 0 too. Once a credential has reported a count, every later
assertion must report a strictly greater one; a count that stays, goes down or drops back to 0 is a hard
failure (a cloned authenticator) and is written to the audit log. Replays of a 0-count assertion are stopped
by the single-use challenge, not by the count.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import DomainError

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class PasskeyError(DomainError):
    """A passkey could not be registered, used, renamed or removed; the message says what to do."""


class PasskeyRefused(PasskeyError):
    """A sign-in or registration response was not accepted (never says which check failed).

    ``reason`` and ``member`` are for the audit log only; the message is the same for every reason.
    """

    def __init__(self, message: str, *, reason: str = "", member: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.member = member


class SignCountRegressed(PasskeyRefused):
    """The authenticator reported a sign count that did not go up: a possible clone."""


@dataclass(frozen=True)
class PasskeyPolicy:
    passkey_challenge_ttl_seconds: int = 5 * 60  #: a challenge is single use and dies after this
    passkey_timeout_ms: int = 120_000  #: how long the browser waits for the member
    passkey_name_max: int = 40  #: characters in a passkey's name
    passkeys_max: int = 10  #: passkeys one member may hold


def challenge_expires_at(issued_at: datetime, policy: PasskeyPolicy) -> datetime:
    return issued_at + timedelta(seconds=policy.passkey_challenge_ttl_seconds)


def challenge_live(expires_at: datetime, now: datetime) -> bool:
    return now < expires_at


def sign_count_acceptable(stored: int, reported: int) -> bool:
    """True when ``reported`` may follow ``stored`` (see the module docstring)."""
    if stored == 0 and reported == 0:
        return True
    return reported > stored


def parse_name(raw: str, policy: PasskeyPolicy) -> str:
    """A passkey name the member typed: NFKC, trimmed, visible characters only, not empty, not too long."""
    name = unicodedata.normalize("NFKC", raw or "").strip()
    if not name:
        raise PasskeyError("パスキーの名前を入力してください。")
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name):
        raise PasskeyError("パスキーの名前に使えない文字が含まれています。")
    if len(name) > policy.passkey_name_max:
        raise PasskeyError(f"パスキーの名前は{policy.passkey_name_max}文字以内で入力してください。")
    return name


_PLATFORMS = (  # (marker in the User-Agent, name shown); first match wins, order matters
    ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "Chromebook"),
    ("Windows", "Windows"), ("Macintosh", "Mac"), ("Linux", "Linux"),
)
_BROWSERS = (
    ("EdgA/", "Edge"), ("Edg/", "Edge"), ("SamsungBrowser/", "Samsung Internet"), ("OPR/", "Opera"),
    ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


def default_name(user_agent: str) -> str:
    """A name for a new passkey from the browser that made it: 「iPhone (Safari)」, else 「パスキー」."""
    platform = next((shown for marker, shown in _PLATFORMS if marker in user_agent), "")
    browser = next((shown for marker, shown in _BROWSERS if marker in user_agent), "")
    if platform and browser:
        return f"{platform} ({browser})"
    return platform or browser or "パスキー"


def keeps_a_way_in(*, passkeys_after: int, usable_secrets: int) -> bool:
    """A removal may go ahead only if the member can still sign in afterwards.

    ``usable_secrets`` counts the PIN and password that exist and are not locked.
    """
    return passkeys_after > 0 or usable_secrets > 0
