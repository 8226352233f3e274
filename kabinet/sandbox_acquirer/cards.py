"""The sandbox acquirer's test cards. Any expiry date in the future and any 3-digit CVC work.

Documented on the hosted card page and in docs/payments.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCard:
    number: str
    card_type: str  # as the acquirer names brands: Mir, Visa, MasterCard, Maestro
    issuer_country: str
    product_code: str  # card class
    outcome: str  # success | general_decline | insufficient_funds
    notify: str  # send | delay | drop
    label: str

    @property
    def pretty(self) -> str:
        return " ".join(self.number[i : i + 4] for i in range(0, len(self.number), 4))


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("2200000000000004", "Mir", "RU", "classic", "success", "send", "МИР — успешная оплата"),
    TestCard("4111111111111111", "Visa", "RU", "classic", "success", "send", "VISA — успешная оплата"),
    TestCard(
        "5555555555554444", "MasterCard", "RU", "gold", "success", "send", "Mastercard — успешная оплата"
    ),
    TestCard("6759649826438453", "Maestro", "RU", "classic", "success", "send", "Maestro — успешная оплата"),
    TestCard("4000000000000002", "Visa", "RU", "classic", "general_decline", "send", "Банк отклоняет платёж"),
    TestCard(
        "2200000000000012", "Mir", "RU", "classic", "insufficient_funds", "send", "Недостаточно средств"
    ),
    TestCard(
        "4000056655665556", "Visa", "US", "classic", "success", "send", "Карта иностранного банка (США)"
    ),
    TestCard("2200000000000020", "Mir", "RU", "prepaid", "success", "send", "МИР, предоплаченная карта"),
    TestCard(
        "2200000000000038",
        "Mir",
        "RU",
        "classic",
        "success",
        "delay",
        "МИР — уведомление магазину с задержкой",
    ),
    TestCard(
        "2200000000000046", "Mir", "RU", "classic", "success", "drop", "МИР — уведомление магазину теряется"
    ),
)

CARD_PRODUCT_NAMES = {
    "classic": "Classic",
    "gold": "Gold",
    "platinum": "Platinum",
    "prepaid": "Prepaid",
    "corporate": "Corporate",
    "electron": "Electron",
}


def luhn_is_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_type_from_number(number: str) -> str:
    if number[:4] in {"2200", "2201", "2202", "2203", "2204"}:
        return "Mir"
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "MasterCard"
    if number[:2] in {"50", "56", "57", "58", "63", "67"} or number[:1] == "6":
        return "Maestro"
    return "Unknown"


def test_card_lookup(number: str) -> TestCard:
    """The test card with this number, or a successful Russian classic card of the number's brand."""
    for card in TEST_CARDS:
        if card.number == number:
            return card
    return TestCard(number, card_type_from_number(number), "RU", "classic", "success", "send", "")
