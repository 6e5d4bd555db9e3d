"""The one money parser (domain.money) every amount field uses: full-width works, the rest is explained."""

from __future__ import annotations

import pytest

from domain.money import AmountInputError, parse_yen
from domain.repayment import RepaymentError
from domain.transfers import TransferError


def read(text: str, **options) -> int:
    return parse_yen(text, label="ご返済額", field="amount", max_digits=10, **options)


@pytest.mark.parametrize(("typed", "value"), [
    ("1000", 1_000), ("1,000", 1_000), ("１０００", 1_000), ("１，０００", 1_000), ("１０，０００円", 10_000),
    ("￥５，０００", 5_000), ("¥ 5000", 5_000), ("\u3000３０００\u3000", 3_000), ("0", 0), ("０１０", 10),
])
def test_ascii_and_full_width_read_the_same(typed, value):
    assert read(typed) == value


@pytest.mark.parametrize(("typed", "words"), [
    ("", "ご返済額を入力してください"), ("\u3000", "ご返済額を入力してください"), ("円", "ご返済額を入力してください"),
    ("-100", "マイナスは使えません"), ("－１００", "マイナスは使えません"), ("\u2212100", "マイナスは使えません"),
    ("ー100", "マイナスは使えません"),
    ("10.5", "小数は使えません"), ("１０．５", "小数は使えません"), ("1,000.50", "小数は使えません"),
    ("1e3", "数字だけ"), ("abc", "数字だけ"), ("+100", "数字だけ"), ("1,00", "数字だけ"), ("10 000", "数字だけ"),
    ("NaN", "数字だけ"), ("١٢٣", "数字（0〜9）で入力"), ("百円", "数字（0〜9）で入力"),
    ("1\u200b0", "見えない文字"), ("10\n", "見えない文字"),
    ("9" * 11, "桁数が多すぎます"), ("9" * 1000, "桁数が多すぎます"),
])
def test_bad_input_gets_a_japanese_message(typed, words):
    with pytest.raises(AmountInputError) as caught:
        read(typed)
    assert words in caught.value.message and caught.value.field == "amount"


def test_blank_may_mean_a_value_and_each_area_gets_its_own_error():
    assert parse_yen("", label="ご利用ポイント", field="points", max_digits=10, unit_word="pt", blank=0) == 0
    assert parse_yen("１２ｐｔ", label="ご利用ポイント", field="points", max_digits=10, unit_word="pt") == 12
    with pytest.raises(RepaymentError):
        read("x", error=RepaymentError)
    with pytest.raises(TransferError) as caught:
        parse_yen("1.5", label="お借入れ金額", field="amount", max_digits=10, error=TransferError)
    assert caught.value.message.startswith("お借入れ金額は整数") and caught.value.field == "amount"
