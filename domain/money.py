"""Reading an amount of money (or points) a member typed: one parser for every money field.

Full-width input just works (product.md §11): the text is NFKC-normalised first, so ``１０，０００``,
``￥５，０００`` and ``３０００円`` read as 10,000, 5,000 and 3,000. What remains must be ASCII digits with
optional ``,`` grouping (an optional leading ``¥`` and a trailing unit word such as 円 or pt are
dropped). Everything else gets a Japanese message naming the field and saying what to type instead:
empty, a sign, a decimal point, an exponent, other scripts' digits (``١٢٣``, which ``int()`` would
accept), control or invisible characters, and more digits than ``max_digits``. ``int()`` only ever sees
``[0-9]+``.

    amount = parse_yen("１０，０００円", label="ご返済額", field="amount", max_digits=10, error=RepaymentError)

``error`` builds the caller's own exception from ``(message, field)`` (``RepaymentError``,
``TransferError``), so each area keeps catching its own error type.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

from domain.errors import DomainError

_GROUPED = re.compile("[0-9]{1,3}(?:,[0-9]{3})+")
_PLAIN = re.compile("[0-9]+")
_DECIMAL = re.compile("[0-9,]*\\.[0-9]+")
#: minus signs and the dashes people type for one (after NFKC: U+FF0D is already "-")
_MINUS = ("-", "\u2212", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u30fc", "\uff70")
_YEN = ("¥", "\\")  #: NFKC turns the full-width ￥ into ¥


class AmountInputError(DomainError):
    """What ``parse_yen`` raises when no ``error`` factory is given."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def parse_yen(raw: str, *, label: str, field: str, max_digits: int, unit_word: str = "円",
              blank: int | None = None, error: Callable[[str, str], DomainError] = AmountInputError) -> int:
    """Read a whole, non-negative number typed by a member (see the module doc).

    ``label`` names the field in messages (ご返済額, お借入れ金額, ご利用ポイント); ``unit_word`` may
    follow the number; ``blank`` is what an empty field means (None: empty is an error).

    Raises:
        whatever ``error(message, field)`` builds, with a message that says what to type instead.
    """
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in raw):
        raise error(f"{label}に使えない文字（改行・制御文字・見えない文字）が含まれています。", field)
    if len(raw) > 4 * max_digits + 16:  # far too long for any amount: refused before normalising
        raise error(f"{label}の桁数が多すぎます。", field)
    text = unicodedata.normalize("NFKC", raw).strip(" \t")
    if unit_word == "円" and text.startswith(_YEN):
        text = text[1:].lstrip(" ")
    if unit_word and text.endswith(unit_word):
        text = text[: -len(unit_word)].rstrip(" ")
    if not text:
        if blank is None:
            raise error(f"{label}を入力してください。", field)
        return blank
    if text.startswith(_MINUS):
        raise error(f"{label}にマイナスは使えません。0より大きい数を入力してください。", field)
    if len(text) > max_digits + max_digits // 3:
        raise error(f"{label}の桁数が多すぎます。", field)
    if not text.isascii():
        raise error(f"{label}は数字（0〜9）で入力してください（全角数字も使えます）。", field)
    if _DECIMAL.fullmatch(text):
        raise error(f"{label}は整数で入力してください（小数は使えません）。", field)
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not _PLAIN.fullmatch(text):
        raise error(f"{label}は数字だけで入力してください（小数点・記号・「e」は使えません）。", field)
    if len(text.lstrip("0")) > max_digits:
        raise error(f"{label}の桁数が多すぎます。", field)
    return int(text)
