"""Sign-in credential formats: card number, PIN, Web-ID and password.

Every identifier and secret goes through the same two steps before anything else looks at it:

1. ``unicodedata.normalize("NFKC", raw)``, so full-width ``１２３４`` and ``ＡＢＣ`` become ``1234`` and
   ``ABC`` (the seeds name full-width input as a top cause of failed sign-ins).
2. An ASCII-only check with an explicit ``[0-9]`` class. Never ``\\d``, ``str.isdigit()`` or ``int()``:
   all three accept Arabic-Indic ``١٢٣٤``, which NFKC leaves alone.

Passwords are normalised with NFKC too, identically when set and when checked, and never truncated.
This deviates on purpose from NIST SP 800-63B-4, which recommends NFC: NFC would keep ``１２３４``
distinct from ``1234`` and reintroduce the full-width failure the product exists to remove.

Control, format (zero-width, bidi) and other invisible characters are refused everywhere: they cannot
be typed on purpose and they make two different inputs look the same.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from domain.errors import DomainError

#: Unicode categories never accepted in any credential: controls (NUL, CR, LF, TAB), formats
#: (zero-width space/joiner, BOM, soft hyphen, bidi overrides), surrogates, private use, unassigned,
#: line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

#: Separators people type inside card numbers (after NFKC): space, hyphen-minus, the U+2010–U+2015
#: hyphens and dashes, U+2212 MINUS SIGN and U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK (what a
#: Japanese IME produces for "-" in kana mode). Full-width U+FF0D and half-width U+FF70 become "-"
#: and U+30FC under NFKC, so they are covered too.
_CARD_SEPARATORS = re.compile("[ \\-\u2010-\u2015\u2212\u30fc]")
_ASCII_DIGITS = re.compile("[0-9]+")
_ASCII_ALNUM = re.compile("[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class CredentialPolicy:
    """Format rules of product.md §1. ``web/settings.py`` builds one from its fields."""

    card_lengths: tuple[int, ...] = (10, 15, 16)
    pin_length: int = 4
    web_id_min: int = 8
    web_id_max: int = 32
    password_min: int = 8
    password_max: int = 64

    def card_lengths_text(self) -> str:
        """Human text for the allowed card lengths, e.g. ``10桁、15桁または16桁``."""
        parts = [f"{n}桁" for n in sorted(self.card_lengths)]
        if len(parts) == 1:
            return parts[0]
        return "、".join(parts[:-1]) + "または" + parts[-1]


class CredentialFormatError(DomainError):
    """Input that can never be a valid credential. Says in Japanese what the member should type.

    Attributes:
        field: the form field the message belongs to (``card_number``, ``pin``, ``login_id``,
            ``password``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class LoginIdentifier:
    """What the ID field of the Web-ID form named: a Web-ID or, in its place, a card number."""

    kind: Literal["web_id", "card"]
    value: str


def nfkc(raw: str) -> str:
    """NFKC-normalise ``raw``; the first step for every identifier and secret."""
    return unicodedata.normalize("NFKC", raw)


def has_forbidden_characters(text: str) -> bool:
    """True when ``text`` holds a control, format (zero-width, bidi) or other invisible character."""
    return any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text)


def _clean(raw: str, *, field: str, label: str) -> str:
    text = nfkc(raw)
    if not text:
        raise CredentialFormatError(field, f"{label}を入力してください。")
    if has_forbidden_characters(text):
        raise CredentialFormatError(
            field, f"{label}に使えない文字（改行・制御文字・見えない文字）が含まれています。"
        )
    return text


def _card_digits(text: str, policy: CredentialPolicy) -> str | None:
    digits = _CARD_SEPARATORS.sub("", text)
    if _ASCII_DIGITS.fullmatch(digits) and len(digits) in policy.card_lengths:
        return digits
    return None


def parse_card_number(raw: str, policy: CredentialPolicy) -> str:
    """Return the card number as ASCII digits only.

    Raises:
        CredentialFormatError: empty, invisible characters, anything but digits and separators, or
            a digit count not in ``policy.card_lengths``.
    """
    text = _clean(raw, field="card_number", label="カード番号")
    digits = _card_digits(text, policy)
    if digits is None:
        raise CredentialFormatError(
            "card_number",
            f"カード番号は{policy.card_lengths_text()}の数字で入力してください"
            "（ハイフンや空白は入れても構いません）。",
        )
    return digits


def parse_pin(raw: str, policy: CredentialPolicy) -> str:
    """Return the PIN as exactly ``policy.pin_length`` ASCII digits; nothing is stripped.

    Raises:
        CredentialFormatError: empty, invisible characters, or not exactly that many ``[0-9]``.
    """
    text = _clean(raw, field="pin", label="暗証番号")
    if len(text) != policy.pin_length or not _ASCII_DIGITS.fullmatch(text):
        raise CredentialFormatError(
            "pin", f"暗証番号は{policy.pin_length}桁の数字で入力してください。"
        )
    return text


def _web_id_message(policy: CredentialPolicy) -> str:
    return (
        f"ログインIDは{policy.web_id_min}〜{policy.web_id_max}文字の半角英数字です"
        "（ログインIDの代わりにカード番号でもログインできます）。"
    )


def parse_login_id(raw: str, policy: CredentialPolicy) -> LoginIdentifier:
    """Read the ID field of the Web-ID form: a card number is accepted in place of the Web-ID.

    A card-number shape wins: Web-IDs of that shape are refused when set (:func:`parse_new_web_id`),
    so one input can never name two members.

    Raises:
        CredentialFormatError: neither a Web-ID nor a card number.
    """
    text = _clean(raw, field="login_id", label="ログインID")
    card = _card_digits(text, policy)
    if card is not None:
        return LoginIdentifier("card", card)
    if policy.web_id_min <= len(text) <= policy.web_id_max and _ASCII_ALNUM.fullmatch(text):
        return LoginIdentifier("web_id", text)
    raise CredentialFormatError("login_id", _web_id_message(policy))


def parse_new_web_id(raw: str, policy: CredentialPolicy) -> str:
    """Validate a Web-ID a member is setting. Case is kept (Web-IDs are case-sensitive).

    Raises:
        CredentialFormatError: wrong length or characters, or the shape of a card number.
    """
    text = _clean(raw, field="web_id", label="ログインID")
    if not (policy.web_id_min <= len(text) <= policy.web_id_max and _ASCII_ALNUM.fullmatch(text)):
        raise CredentialFormatError("web_id", _web_id_message(policy))
    if _card_digits(text, policy) is not None:
        raise CredentialFormatError(
            "web_id", "カード番号と同じ形の数字だけのIDは使えません。英字を含めてください。"
        )
    return text


def web_id_key(web_id: str) -> str:
    """The uniqueness key of a Web-ID: ``Member01`` and ``member01`` may not both exist.

    Sign-in compares the exact Web-ID (case-sensitive); registration refuses a case variant of a
    taken one, so two members can never be told apart by case alone.
    """
    return web_id.lower()


def parse_password(raw: str, policy: CredentialPolicy) -> str:
    """Return the NFKC form of a password, the exact string that is hashed or verified.

    Any printable character is allowed (no composition rules, ASVS 6.2.5); length is counted in
    code points after NFKC and nothing is ever truncated (ASVS 6.2.8).

    Raises:
        CredentialFormatError: empty, invisible characters, or outside the length bounds.
    """
    text = _clean(raw, field="password", label="パスワード")
    if not policy.password_min <= len(text) <= policy.password_max:
        raise CredentialFormatError(
            "password",
            f"パスワードは{policy.password_min}〜{policy.password_max}文字で入力してください。",
        )
    return text


def mask_card_number(digits: str) -> str:
    """The card number as it may appear in logs, mail and screens: last 4 digits only."""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


_DATE = re.compile("([0-9]{4})[-/.]?([0-9]{1,2})[-/.]?([0-9]{1,2})")


def parse_birth_date(raw: str, *, today: date) -> date:
    """Read a date of birth: ``1990-04-01`` (the date picker), ``1990/4/1`` or ``19900401``.

    Raises:
        CredentialFormatError: not a real calendar date, or not in the past.
    """
    text = _clean(raw, field="birth_date", label="生年月日")
    match = _DATE.fullmatch(text.strip(" "))
    message = "生年月日は 1990-04-01 のように、年・月・日で入力してください。"
    if not match:
        raise CredentialFormatError("birth_date", message)
    try:
        born = date(*(int(part) for part in match.groups()))  # ASCII digits only, matched above
    except ValueError:
        raise CredentialFormatError("birth_date", message) from None
    if born >= today or born.year < 1900:
        raise CredentialFormatError("birth_date", message)
    return born
