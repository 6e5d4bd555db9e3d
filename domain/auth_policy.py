"""Account-protection rules: lockout, per-IP throttle, one-time codes and step-up.

Only the pure decisions live here; the atomic counters they read are rows (or Redis keys) that
``db/`` updates with one conditional statement each, so the numbers hold across processes.
``now`` is always a parameter.
"""

from __future__ import annotations

import ipaddress
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from domain.credentials import CredentialFormatError, nfkc

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Numbers of product.md §1; ``web/settings.py`` builds one from its ``KAIIN_*`` fields."""

    #: consecutive failures of one knowledge factor (PIN or password) that lock it
    lockout_threshold: int = 3
    #: sign-in attempts (card and Web-ID forms together) one IP may make per window
    login_throttle_max: int = 10
    login_throttle_window_seconds: int = 60
    #: recovery and step-up code requests/entries one IP may make per window
    recover_throttle_max: int = 10
    recover_throttle_window_seconds: int = 600
    #: passkey sign-in challenges one IP may ask for per window (each is a stored row and a new session;
    #: the sign-in page asks once per view for autofill, and again after a cancelled or failed attempt)
    passkey_options_throttle_max: int = 30
    passkey_options_throttle_window_seconds: int = 60
    #: one-time codes sent by email (recovery and step-up)
    code_digits: int = 6
    code_ttl_seconds: int = 600
    code_max_tries: int = 5
    #: how long a step-up lasts
    step_up_seconds: int = 600


# --- lockout ---------------------------------------------------------------------------------


def is_locked(failures: int, policy: AuthPolicy) -> bool:
    """A factor with this many consecutive failures is locked."""
    return failures >= policy.lockout_threshold


def failure_message(policy: AuthPolicy) -> str:
    """The one answer to every failed sign-in: unknown, wrong, locked and suspended alike."""
    return (
        "入力された内容ではログインできませんでした。"
        f"{policy.lockout_threshold}回続けて間違えるとロックされます。"
    )


#: what a member can do when a factor is locked; shown under every failure (no oracle: it is
#: shown whether or not anything is locked)
LOCKED_HELP = (
    "ロックされた場合：パスワードは「ログインID・パスワードをお忘れの方」から再設定できます。"
    "暗証番号は再発行のお手続き（お客様サービスセンター・自動契約機）が必要です。"
    "パスキーを登録済みの方は、ロック中もパスキーでログインできます。"
)


# --- per-IP throttle --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    allowed: bool
    #: seconds until the window ends (the ``Retry-After`` value when not allowed)
    retry_after: int
    #: this request's number in its window, and the most a window allows
    count: int
    limit: int

    @property
    def first_refusal(self) -> bool:
        """The request that crossed the limit: the one worth an alert (once per address and window)."""
        return self.count == self.limit + 1


def throttle_window_start(now: datetime, window_seconds: int) -> datetime:
    """Start of the fixed window holding ``now`` (windows are aligned to the Unix epoch)."""
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=elapsed - elapsed % window_seconds)


def throttle_decision(
    count: int, *, window_start: datetime, now: datetime, limit: int, window_seconds: int
) -> ThrottleDecision:
    """``count`` is this request's number in its window, the request itself included."""
    left = window_start + timedelta(seconds=window_seconds) - now
    retry_after = max(1, math.ceil(left.total_seconds()))
    return ThrottleDecision(allowed=count <= limit, retry_after=retry_after, count=count, limit=limit)


def client_ip(peer: str, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The address a throttle should count: ``X-Forwarded-For`` only as far as proxies are trusted.

    Walks the header from the right (the hop nearest to us) while the current hop is a configured
    proxy, so a client cannot pick its own address by sending the header itself (ASVS 15.3.4).
    """
    networks, names = [], set()
    for proxy in trusted_proxies:
        try:
            networks.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError:
            names.add(proxy)  # a peer that is not an address (a unix socket name, a test client)

    def trusted(address: str) -> bool:
        if address in names:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in networks)

    current = peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    while trusted(current) and hops:
        candidate = hops.pop()
        try:
            current = str(ipaddress.ip_address(candidate))
        except ValueError:
            break  # garbage from beyond the trusted proxy: count the last trusted hop
    return current


# --- one-time codes (recovery, step-up) -------------------------------------------------------


def new_code(policy: AuthPolicy) -> str:
    """A uniformly random code of ``policy.code_digits`` ASCII digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**policy.code_digits):0{policy.code_digits}d}"


def code_expires_at(issued_at: datetime, policy: AuthPolicy) -> datetime:
    return issued_at + timedelta(seconds=policy.code_ttl_seconds)


def code_usable(
    *, expires_at: datetime, used_at: datetime | None, tries: int, now: datetime, policy: AuthPolicy
) -> bool:
    """A code can still be tried: unexpired, unused and with tries left."""
    return used_at is None and now < expires_at and tries < policy.code_max_tries


def parse_code(raw: str, policy: AuthPolicy) -> str:
    """Read a one-time code as typed (full-width digits allowed, spaces around ignored).

    Raises:
        CredentialFormatError: not exactly ``policy.code_digits`` ASCII digits.
    """
    text = nfkc(raw).strip(" ")
    if len(text) != policy.code_digits or not re.fullmatch("[0-9]+", text):
        raise CredentialFormatError(
            "code", f"確認コードはメールでお送りした{policy.code_digits}桁の数字です。"
        )
    return text


CODE_FAILED_MESSAGE = (
    "確認コードが正しくないか、有効期限が切れています。"
    "もう一度コードを送信してください。"
)


# --- step-up ----------------------------------------------------------------------------------


def step_up_valid_until(stepped_up_at: datetime, policy: AuthPolicy) -> datetime:
    return stepped_up_at + timedelta(seconds=policy.step_up_seconds)


def is_stepped_up(stepped_up_at: datetime | None, now: datetime, policy: AuthPolicy) -> bool:
    """True while a step-up taken at ``stepped_up_at`` still covers ``now``."""
    if stepped_up_at is None or stepped_up_at > now:
        return False
    return now < step_up_valid_until(stepped_up_at, policy)
