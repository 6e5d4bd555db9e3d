"""Credential formats (security.md §7 items 11–16 at the domain level)."""

from datetime import date

import pytest

from domain.credentials import (
    CredentialFormatError,
    CredentialPolicy,
    LoginIdentifier,
    mask_card_number,
    parse_birth_date,
    parse_card_number,
    parse_login_id,
    parse_new_web_id,
    parse_password,
    parse_pin,
    web_id_key,
)

POLICY = CredentialPolicy()


# --- PIN: items 11, 12, 13 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "pin"),
    [
        ("1234", "1234"),
        ("0000", "0000"),  # leading zeros are kept: the PIN is a string, never int()
        ("１２３４", "1234"),  # item 11: full-width is accepted (NFKC), the documented choice
        ("０９８７", "0987"),
    ],
)
def test_pin_accepted(raw, pin):
    assert parse_pin(raw, POLICY) == pin


@pytest.mark.parametrize(
    "raw",
    [
        "١٢٣٤",  # item 12: Arabic-Indic digits match \d and int() but are refused
        "۱۲۳۴",  # Extended Arabic-Indic (Persian)
        "१२३४",  # Devanagari
        "1234\u200b",  # item 13: zero-width space
        "\u200b1234",
        "12\u200d34",
        "\ufeff1234",
        " 1234",  # nothing is stripped
        "1234 ",
        "12 34",
        "123",
        "12345",
        "12\x0034",  # NUL
        "1234\x00",
        "1\n234",
        "1" * 10_240,  # a 10 KB PIN
        "1e3",
        "+123",
        "-123",
        "１２３",
        "12.3",
        "",
        "abcd",
    ],
)
def test_pin_refused(raw):
    with pytest.raises(CredentialFormatError) as err:
        parse_pin(raw, POLICY)
    assert err.value.field == "pin"
    assert "暗証番号" in err.value.message


def test_pin_refusal_proves_no_isdigit_or_int():
    """Arabic-Indic digits pass every lenient check; the parser must not be one of them."""
    raw = "١٢٣٤"
    assert raw.isdigit() and int(raw) == 1234
    with pytest.raises(CredentialFormatError):
        parse_pin(raw, POLICY)


def test_pin_length_is_the_policy_number():
    six = CredentialPolicy(pin_length=6)
    assert parse_pin("123456", six) == "123456"
    with pytest.raises(CredentialFormatError, match="6桁"):
        parse_pin("1234", six)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "暗証番号を入力してください。"),
        ("12\x0034", "使えない文字"),
        ("1234\u200b", "使えない文字"),
        ("١٢٣٤", "暗証番号は4桁の数字で入力してください。"),
    ],
)
def test_pin_messages_are_clear_japanese(raw, message):
    with pytest.raises(CredentialFormatError) as err:
        parse_pin(raw, POLICY)
    assert message in err.value.message


# --- card number: item 14 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("1234567890", "1234567890"),  # 10
        ("123456789012345", "123456789012345"),  # 15
        ("1234567890123456", "1234567890123456"),  # 16
        ("1234-5678-90", "1234567890"),
        ("1234 5678 9012 3456", "1234567890123456"),
        ("1234　5678　9012　3456", "1234567890123456"),  # ideographic space
        ("１２３４５６７８９０", "1234567890"),  # full-width
        ("１２３４－５６７８－９０", "1234567890"),  # full-width hyphen U+FF0D
        ("1234\u22125678\u221290", "1234567890"),  # U+2212 MINUS SIGN
        ("1234ー5678ー90", "1234567890"),  # U+30FC from a kana IME
        ("1234ｰ5678ｰ90", "1234567890"),  # half-width U+FF70
        ("1234\u20105678\u201390", "1234567890"),  # hyphen, en dash
        ("1234\u20145678\u201590", "1234567890"),  # em dash, horizontal bar
        ("0012345678", "0012345678"),  # leading zeros kept
    ],
)
def test_card_number_accepted(raw, digits):
    assert parse_card_number(raw, POLICY) == digits


@pytest.mark.parametrize(
    "raw",
    [
        "1" * 9,
        "1" * 11,
        "1" * 14,
        "1" * 17,
        "١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic, 10 of them
        "12345678\u200b90",
        "12345678\x0090",
        "1234567890\n",
        "1234567890\t",
        "+1234567890",
        "1234567890.0",
        "1234_5678_90",
        "1234/5678/90",
        "ABCD567890",
        "-" * 10,
        "",
        "1" * 10_240,
    ],
)
def test_card_number_refused(raw):
    with pytest.raises(CredentialFormatError) as err:
        parse_card_number(raw, POLICY)
    assert err.value.field == "card_number"
    assert "カード番号" in err.value.message


def test_card_number_message_names_the_lengths():
    with pytest.raises(CredentialFormatError) as err:
        parse_card_number("123", POLICY)
    assert "10桁、15桁または16桁" in err.value.message


def test_card_number_has_no_luhn_rule():
    """The policy is digits and length only (documented): a Luhn-invalid number is accepted."""
    assert parse_card_number("1234567890123457", POLICY) == "1234567890123457"
    assert parse_card_number("1234567890123456", POLICY) == "1234567890123456"


def test_mask_card_number_keeps_last_four():
    assert mask_card_number("1234567890123456") == "************3456"
    assert mask_card_number("1234567890") == "******7890"


# --- Web-ID: item 15 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abcd1234", LoginIdentifier("web_id", "abcd1234")),  # 8
        ("A" * 32, LoginIdentifier("web_id", "A" * 32)),  # 32
        ("ＡＢＣｄｅｆ１２", LoginIdentifier("web_id", "ABCdef12")),  # full-width
        ("Member01", LoginIdentifier("web_id", "Member01")),  # case kept
        ("12345678", LoginIdentifier("web_id", "12345678")),  # digits, not a card length
        ("1234567890", LoginIdentifier("card", "1234567890")),  # a card number in its place
        ("1234-5678-9012-3456", LoginIdentifier("card", "1234567890123456")),
        ("１２３４５６７８９０１２３４５", LoginIdentifier("card", "123456789012345")),
    ],
)
def test_login_id_accepted(raw, expected):
    assert parse_login_id(raw, POLICY) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "abcd123",  # 7
        "A" * 33,  # 33
        "аbcd1234",  # Cyrillic а (U+0430), a homoglyph of Latin a
        "abcd1234\u200b",
        "abcd 1234",
        "abcd_1234",
        "abcd-1234",
        "ａｂｃ",  # full-width but too short after NFKC
        "ユーザー名です１２",
        "abcd1234\x00",
        "",
        "a" * 10_240,
    ],
)
def test_login_id_refused(raw):
    with pytest.raises(CredentialFormatError) as err:
        parse_login_id(raw, POLICY)
    assert err.value.field == "login_id"
    assert "ログインID" in err.value.message


def test_new_web_id_refuses_card_shape_and_keeps_case():
    assert parse_new_web_id("Member01", POLICY) == "Member01"
    assert parse_new_web_id("12345678", POLICY) == "12345678"
    for card_shaped in ("1234567890", "123456789012345", "1234567890123456"):
        with pytest.raises(CredentialFormatError, match="カード番号"):
            parse_new_web_id(card_shaped, POLICY)
    with pytest.raises(CredentialFormatError):
        parse_new_web_id("аbcd1234", POLICY)


def test_case_variant_web_ids_share_a_uniqueness_key():
    """Item 15: registration refuses a case-variant duplicate; the key makes them collide."""
    assert web_id_key("Member01") == web_id_key("MEMBER01") == web_id_key("member01")
    assert web_id_key("Member01") != web_id_key("Member02")


# --- password: item 16 ------------------------------------------------------------------------


def test_password_full_width_and_ascii_are_the_same_password():
    """Item 16: NFKC at both ends, so the full-width and ASCII spellings verify alike."""
    set_with = parse_password("ＰａｓｓＷｏｒｄ１２３", POLICY)
    verify_with = parse_password("PassWord123", POLICY)
    assert set_with == verify_with == "PassWord123"


@pytest.mark.parametrize("position", [21, 64])
def test_password_is_never_truncated(position):
    """Item 16: passwords differing only at character 21 (or the 64th) stay different."""
    base = "x" * 64
    other = base[: position - 1] + "y" + base[position:]
    assert len(other) == 64
    assert parse_password(base, POLICY) != parse_password(other, POLICY)


def test_password_of_65_characters_is_refused_not_cut():
    with pytest.raises(CredentialFormatError, match="8〜64文字"):
        parse_password("x" * 65, POLICY)
    assert parse_password("x" * 64, POLICY) == "x" * 64


@pytest.mark.parametrize(
    "raw",
    ["short7!", "", "pass\x00word", "pass\u200bword1", "password\n", "パス\u202eワード12"],
)
def test_password_refused(raw):
    with pytest.raises(CredentialFormatError) as err:
        parse_password(raw, POLICY)
    assert err.value.field == "password"


@pytest.mark.parametrize(
    "raw", ["correct horse battery", "パスワード日本語です", "Ab1!Ab1!", "p@ss w0rd"]
)
def test_password_of_any_composition_is_accepted(raw):
    assert parse_password(raw, POLICY) == raw


def test_password_case_is_kept():
    assert parse_password("Password1", POLICY) != parse_password("password1", POLICY)


# --- date of birth (recovery) -----------------------------------------------------------------

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "raw", ["1990-04-01", "1990/4/1", "19900401", "１９９０－０４－０１", "1990.04.01"]
)
def test_birth_date_accepted(raw):
    assert parse_birth_date(raw, today=TODAY) == date(1990, 4, 1)


@pytest.mark.parametrize(
    "raw", ["", "1990-02-30", "2026-11-22", "2030-01-01", "1899-12-31", "١٩٩٠-٠٤-٠١", "1990-04-01\x00", "4/1/1990", "abc"]
)
def test_birth_date_refused(raw):
    with pytest.raises(CredentialFormatError) as err:
        parse_birth_date(raw, today=TODAY)
    assert err.value.field == "birth_date"
