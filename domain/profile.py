"""Address, workplace and email as a member types them on a phone: 郵便番号, 住所, 勤務先名, 勤務先電話番号.

Every field is NFKC-normalised first, so full-width input (``１００－０００１``, ``東京都千代田区丸の内１－１``)
just works. Digits are then checked against ``[0-9]`` only: Arabic-Indic ``١٢٣`` (left alone by NFKC) is
refused. NFKC does not map U+2212 MINUS SIGN or U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK (what a
Japanese IME often gives for "-") to a hyphen, so postcodes and phone numbers remove those explicitly.
In free text (住所, 勤務先名) ``ー`` is a real character (``センター``) and is kept.

Control, format (zero-width, bidi) and other invisible characters are refused everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.credentials import has_forbidden_characters, nfkc
from domain.errors import FieldError

#: hyphen-like separators people type between digit groups (after NFKC: U+FF0D is already "-")
_SEPARATORS = re.compile("[ \\-\u2010-\u2015\u2212\u30fc\uff70]")
_PHONE_EXTRA = re.compile("[()]")
_ASCII_DIGITS = re.compile("[0-9]+")
_SPACES = re.compile("[ \u3000]+")
_EMAIL_LOCAL = re.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_EMAIL_LABEL = re.compile("[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class ProfilePolicy:
    """Lengths of product.md §8; ``web/settings.py`` builds one from its fields."""

    postcode_digits: int = 7
    address_max: int = 100
    workplace_name_max: int = 60
    phone_min_digits: int = 10
    phone_max_digits: int = 11
    email_max: int = 254
    #: raw input longer than this is refused before any other work (a 10 KB paste)
    raw_max: int = 400


class ProfileError(FieldError):
    """A field that cannot be stored; ``field`` names the form field the message belongs to."""


@dataclass(frozen=True, slots=True)
class Profile:
    """What is stored: postcode as 7 ASCII digits, phone as ASCII digits, text NFKC-normalised."""

    postcode: str
    address: str
    workplace_name: str
    workplace_phone: str


def _text(raw: str, *, field: str, label: str, policy: ProfilePolicy) -> str:
    if len(raw) > policy.raw_max:
        raise ProfileError(field, f"{label}が長すぎます。")
    text = _SPACES.sub(" ", nfkc(raw)).strip(" ")
    if has_forbidden_characters(text):
        raise ProfileError(field, f"{label}に使えない文字（改行・制御文字・見えない文字）が含まれています。")
    return text


def parse_postcode(raw: str, policy: ProfilePolicy) -> str:
    """``〒100-0001``, ``１００－０００１``, ``100ー0001`` → ``1000001``.

    Raises:
        ProfileError: empty, or not exactly ``policy.postcode_digits`` ASCII digits once separators are gone.
    """
    text = _text(raw, field="postcode", label="郵便番号", policy=policy)
    if not text:
        raise ProfileError("postcode", "郵便番号を入力してください。")
    digits = _SEPARATORS.sub("", text.removeprefix("〒"))
    if len(digits) != policy.postcode_digits or not _ASCII_DIGITS.fullmatch(digits):
        raise ProfileError("postcode", f"郵便番号は{policy.postcode_digits}桁の数字で入力してください（例：100-0001）。")
    return digits


def format_postcode(digits: str) -> str:
    """``1000001`` → ``100-0001`` (the way it is printed in Japan)."""
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else digits


def parse_address(raw: str, policy: ProfilePolicy) -> str:
    """住所: required free text (都道府県から建物名・部屋番号まで), NFKC, spaces collapsed.

    Raises:
        ProfileError: empty, too long, or invisible characters.
    """
    text = _text(raw, field="address", label="住所", policy=policy)
    if not text:
        raise ProfileError("address", "住所を入力してください。")
    if len(text) > policy.address_max:
        raise ProfileError("address", f"住所は{policy.address_max}文字以内で入力してください。")
    return text


def parse_phone(raw: str, policy: ProfilePolicy, *, field: str = "workplace_phone", label: str = "電話番号") -> str:
    """A Japanese phone number, ``03-1234-5678``, ``０９０ー１２３４ー５６７８``, ``(03)1234-5678`` → ASCII digits.

    Domestic format only: a leading 0 and 10 or 11 digits in all (固定電話・0120 are 10, 携帯・050・0800 are 11).

    Raises:
        ProfileError: empty, wrong digit count, no leading 0, or anything but digits and separators.
    """
    text = _text(raw, field=field, label=label, policy=policy)
    if not text:
        raise ProfileError(field, f"{label}を入力してください。")
    digits = _PHONE_EXTRA.sub("", _SEPARATORS.sub("", text))
    if (
        not _ASCII_DIGITS.fullmatch(digits)
        or not digits.startswith("0")
        or not policy.phone_min_digits <= len(digits) <= policy.phone_max_digits
    ):
        raise ProfileError(
            field,
            f"{label}は0から始まる{policy.phone_min_digits}〜{policy.phone_max_digits}桁の数字で"
            "入力してください（例：03-1234-5678）。",
        )
    return digits


def parse_workplace(name_raw: str, phone_raw: str, policy: ProfilePolicy) -> tuple[str, str]:
    """勤務先名 and 勤務先電話番号: both, or neither (no workplace). Returns ``(name, phone digits)``.

    Raises:
        ProfileError: one without the other, a name too long, or a bad phone number.
    """
    name = _text(name_raw, field="workplace_name", label="勤務先名", policy=policy)
    phone_text = _text(phone_raw, field="workplace_phone", label="勤務先電話番号", policy=policy)
    if len(name) > policy.workplace_name_max:
        raise ProfileError("workplace_name", f"勤務先名は{policy.workplace_name_max}文字以内で入力してください。")
    if not name and not phone_text:
        return "", ""
    if not name:
        raise ProfileError("workplace_name", "勤務先電話番号を入力した場合は、勤務先名も入力してください。")
    if not phone_text:
        raise ProfileError("workplace_phone", "勤務先名を入力した場合は、勤務先電話番号も入力してください。")
    return name, parse_phone(phone_text, policy, field="workplace_phone", label="勤務先電話番号")


def parse_profile(postcode: str, address: str, workplace_name: str, workplace_phone: str,
                  policy: ProfilePolicy) -> Profile:
    """Validate the whole address-and-workplace form; the first bad field raises :class:`ProfileError`."""
    name, phone = parse_workplace(workplace_name, workplace_phone, policy)
    return Profile(parse_postcode(postcode, policy), parse_address(address, policy), name, phone)


def parse_email(raw: str, policy: ProfilePolicy) -> str:
    """An email address as typed (full-width ``ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ`` allowed) → ASCII, domain lower-cased.

    Internationalised addresses are refused: the mail path is plain ASCII SMTP.

    Raises:
        ProfileError: empty, too long, or not ``local@domain.tld`` in ASCII.
    """
    text = _text(raw, field="email", label="メールアドレス", policy=policy).replace(" ", "")
    message = "メールアドレスを正しく入力してください（例：taro@example.jp）。"
    if not text:
        raise ProfileError("email", "メールアドレスを入力してください。")
    if len(text) > policy.email_max:
        raise ProfileError("email", f"メールアドレスは{policy.email_max}文字以内で入力してください。")
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or not local
        or len(local) > 64
        or not _EMAIL_LOCAL.fullmatch(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or len(labels) < 2
        or not all(_EMAIL_LABEL.fullmatch(label) and len(label) <= 63 for label in labels)
        or labels[-1].isdigit()
    ):
        raise ProfileError("email", message)
    return f"{local}@{domain.lower()}"


def mask_email(address: str) -> str:
    """``taro@example.jp`` → ``t***@example.jp``: enough to recognise, not enough to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
