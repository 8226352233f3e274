import pytest

from kabinet.core.money import MoneyInputError, decimal_to_kopecks, format_kopecks, rubles_to_kopecks


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [
        ("157", 15700),
        ("157,50", 15750),
        ("157.5", 15750),
        ("1 500", 150000),
        ("15000", 1500000),
        (" 1 ", 100),
    ],
)
def test_rubles_to_kopecks_accepts_plain_amounts(text: str, kopecks: int) -> None:
    assert rubles_to_kopecks(text) == kopecks


@pytest.mark.parametrize("text", ["", "0", "-5", "1e3", "abc", "1.234", "0,00", "12..5"])
def test_rubles_to_kopecks_refuses_bad_input(text: str) -> None:
    with pytest.raises(MoneyInputError):
        rubles_to_kopecks(text)


def test_whole_rubles_rule_refuses_kopecks() -> None:
    with pytest.raises(MoneyInputError, match="целых рублях"):
        rubles_to_kopecks("157.50", whole_rubles=True)
    assert rubles_to_kopecks("157", whole_rubles=True) == 15700


def test_format_kopecks() -> None:
    assert format_kopecks(1234550) == "12\u202f345,50\u00a0₽"
    assert format_kopecks(-41500) == "−415\u00a0₽"
    assert format_kopecks(800, sign=True) == "+8\u00a0₽"


def test_decimal_to_kopecks_refuses_fractions_of_kopeck() -> None:
    assert decimal_to_kopecks("157.00") == 15700
    with pytest.raises(MoneyInputError):
        decimal_to_kopecks("1.001")
