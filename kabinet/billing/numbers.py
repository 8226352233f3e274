"""Personal account numbers: 9 digits and a Luhn check digit, so a mistyped number is caught."""

from __future__ import annotations

import re
import secrets

NUMBER_LENGTH = 10


def luhn_check_digit(base: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(base)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def personal_account_number_from_base(base: int) -> str:
    text = f"{base:09d}"
    return text + luhn_check_digit(text)


def personal_account_number_random() -> str:
    return personal_account_number_from_base(100_000_000 + secrets.randbelow(900_000_000))


def personal_account_number_clean(text: str) -> str:
    """Strip spaces and dashes people type; does not validate."""
    return re.sub(r"[\s\-]", "", text or "")


def personal_account_number_is_valid(text: str) -> bool:
    number = personal_account_number_clean(text)
    return len(number) == NUMBER_LENGTH and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]
