"""Codes that prove a member reads a mailbox: 6 digits, a short life, a few tries, single use.

Used when a signed-in member registers or changes an email address: the code goes to the **new**
address. The member is already signed in, so unlike sign-in recovery there is nothing to enumerate:
each way a code can fail gets its own clear message (wrong, expired, used, out of tries).
The stored form is an HMAC of the code (``code_digest``), never the code.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from domain.auth_policy import AuthPolicy


class CodeCheck(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    NO_TRIES = "no_tries"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class CodeState:
    """The stored row of one code, as the check sees it."""

    digest: str
    expires_at: datetime
    used_at: datetime | None
    tries: int  #: tries already spent, this one not included


def code_digest(key: bytes, ref: str, code: str) -> str:
    """HMAC-SHA256 of ``code`` bound to ``ref`` (the row it belongs to), hex."""
    return hmac.new(key, f"{ref}:{code}".encode(), hashlib.sha256).hexdigest()


def check_code(state: CodeState | None, entered_digest: str, *, now: datetime, policy: AuthPolicy) -> CodeCheck:
    """Judge one try. Order matters: a used or expired code says so even when the digits are right."""
    if state is None:
        return CodeCheck.MISSING
    if state.used_at is not None:
        return CodeCheck.USED
    if now >= state.expires_at:
        return CodeCheck.EXPIRED
    if state.tries >= policy.code_max_tries:
        return CodeCheck.NO_TRIES
    if not hmac.compare_digest(state.digest, entered_digest):
        return CodeCheck.WRONG
    return CodeCheck.OK


def tries_left(state: CodeState, policy: AuthPolicy) -> int:
    """Tries still allowed after the one just spent (``state.tries`` counts it)."""
    return max(0, policy.code_max_tries - state.tries)


def check_message(result: CodeCheck, *, left: int, policy: AuthPolicy) -> str:
    """What the member reads for a failed try, in Japanese."""
    minutes = policy.code_ttl_seconds // 60
    resend = "「コードを再送する」から新しいコードを受け取ってください。"
    if result is CodeCheck.WRONG and left > 0:
        return f"確認コードが違います。メールに記載の{policy.code_digits}桁の数字を入力してください（あと{left}回）。"
    if result in (CodeCheck.WRONG, CodeCheck.NO_TRIES):
        return f"確認コードを{policy.code_max_tries}回間違えたため、このコードは使えなくなりました。" + resend
    if result is CodeCheck.EXPIRED:
        return f"確認コードの有効期限（{minutes}分）が切れました。" + resend
    if result is CodeCheck.USED:
        return "この確認コードはすでに使われています。" + resend
    return "確認コードの送信からやり直してください。"
