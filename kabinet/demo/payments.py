"""Demo hints for card payments: nothing to create (the sandbox acquirer takes real test payments on
the running server); returns how to try it."""

from __future__ import annotations

from kabinet.payments.rules import payment_rules_get


def load_payments() -> list[str]:
    payment_rules_get()  # the operator's default rules row
    return [
        "card payment without login: /pay/ (personal account number, amount, e-mail, agree to the Terms)",
        "  sandbox test cards: МИР 2200 0000 0000 0004, VISA 4111 1111 1111 1111, "
        "Mastercard 5555 5555 5555 4444, Maestro 6759 6498 2643 8453 (any future expiry, CVC 123);",
        "  declined 4000 0000 0000 0002, no funds 2200 0000 0000 0012, foreign 4000 0566 5566 5556;",
        "  the bank's SMS code goes to +7 900 000-00-00 in the dev outbox (/dev/outbox/)",
    ]
