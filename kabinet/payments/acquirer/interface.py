"""Dataclasses exchanged with the acquirer client. Nothing outside ``kabinet.payments.acquirer`` sees the
wire format: services get these objects, parsed and with amounts in kopecks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from kabinet.core.money import decimal_to_kopecks


class AcquirerError(Exception):
    """The acquirer refused a request (4xx) or answered something we cannot use."""

    def __init__(self, message: str, *, code: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class AcquirerUnavailable(AcquirerError):
    """Network failure, timeout or 5xx: the outcome is unknown; retry with the same idempotence key."""


@dataclass(frozen=True)
class CardInfo:
    first6: str
    last4: str
    card_type: str  # the acquirer's brand name: Mir, Visa, MasterCard, Maestro, ...
    issuer_country: str
    expiry_month: str = ""
    expiry_year: str = ""
    issuer_name: str = ""
    product_code: str = ""  # card class
    product_name: str = ""

    @property
    def mask(self) -> str:
        return f"{self.first6}******{self.last4}"

    @property
    def brand(self) -> str:
        """Our brand code: MIR, VISA, MASTERCARD, MAESTRO (or the acquirer's name upper-cased)."""
        return {"MIR": "MIR", "VISA": "VISA", "MASTERCARD": "MASTERCARD", "MAESTRO": "MAESTRO"}.get(
            self.card_type.upper().replace(" ", ""), self.card_type.upper()
        )

    @property
    def fingerprint(self) -> str:
        """A stable id of the card from what the acquirer reports (BIN, last digits, expiry, brand)."""
        raw = f"{self.first6}:{self.last4}:{self.expiry_month}:{self.expiry_year}:{self.card_type}".lower()
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class AcquirerPayment:
    id: str
    status: str  # pending | waiting_for_capture | succeeded | canceled
    paid: bool
    amount_kopecks: int
    currency: str
    metadata: dict[str, Any] = field(default_factory=dict)
    confirmation_url: str = ""
    payment_method_type: str = ""
    payment_method_id: str = ""
    card: CardInfo | None = None
    cancellation_party: str = ""
    cancellation_reason: str = ""
    captured_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcquirerPayment:
        try:
            amount = data["amount"]
            method = data.get("payment_method") or {}
            card_data = method.get("card") or None
            card = None
            if card_data:
                product = card_data.get("card_product") or {}
                card = CardInfo(
                    first6=str(card_data.get("first6", "")),
                    last4=str(card_data.get("last4", "")),
                    card_type=str(card_data.get("card_type", "")),
                    issuer_country=str(card_data.get("issuer_country", "")).upper(),
                    expiry_month=str(card_data.get("expiry_month", "")),
                    expiry_year=str(card_data.get("expiry_year", "")),
                    issuer_name=str(card_data.get("issuer_name", "")),
                    product_code=str(product.get("code", "")),
                    product_name=str(product.get("name", "")),
                )
            cancellation = data.get("cancellation_details") or {}
            return cls(
                id=str(data["id"]),
                status=str(data["status"]),
                paid=bool(data.get("paid", False)),
                amount_kopecks=decimal_to_kopecks(amount["value"]),
                currency=str(amount["currency"]),
                metadata=dict(data.get("metadata") or {}),
                confirmation_url=str((data.get("confirmation") or {}).get("confirmation_url", "")),
                payment_method_type=str(method.get("type", "")),
                payment_method_id=str(method.get("id", "")),
                card=card,
                cancellation_party=str(cancellation.get("party", "")),
                cancellation_reason=str(cancellation.get("reason", "")),
                captured_at=str(data.get("captured_at", "")),
                raw=data,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AcquirerError(f"Unexpected payment object from the acquirer: {exc!r}") from exc


@dataclass(frozen=True)
class AcquirerRefund:
    id: str
    payment_id: str
    status: str  # pending | succeeded | canceled
    amount_kopecks: int
    currency: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AcquirerRefund:
        try:
            return cls(
                id=str(data["id"]),
                payment_id=str(data["payment_id"]),
                status=str(data["status"]),
                amount_kopecks=decimal_to_kopecks(data["amount"]["value"]),
                currency=str(data["amount"]["currency"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AcquirerError(f"Unexpected refund object from the acquirer: {exc!r}") from exc


@dataclass(frozen=True)
class AcquirerNotification:
    """An incoming notification: only WHICH object changed is used; its state is always re-fetched."""

    event: str  # payment.succeeded | payment.waiting_for_capture | payment.canceled | refund.succeeded
    object_id: str
    # For refund events, the payment the refund belongs to (as claimed by the body; re-fetched too).
    payment_id: str = ""

    @property
    def is_payment(self) -> bool:
        return self.event.startswith("payment.")

    @property
    def is_refund(self) -> bool:
        return self.event.startswith("refund.")


KNOWN_EVENTS = frozenset(
    {
        "payment.succeeded",
        "payment.waiting_for_capture",
        "payment.canceled",
        "refund.succeeded",
    }
)


def notification_parse(body: Any) -> AcquirerNotification:
    """Parse a notification body ({"type": "notification", "event": ..., "object": {...}})."""
    if not isinstance(body, dict) or body.get("type") != "notification":
        raise AcquirerError("Not a notification")
    event = body.get("event")
    obj = body.get("object")
    if event not in KNOWN_EVENTS or not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise AcquirerError(f"Unknown notification event {event!r}")
    object_id = obj["id"][:64]
    payment_id = str(obj.get("payment_id", ""))[:64] if event.startswith("refund.") else object_id
    return AcquirerNotification(event=event, object_id=object_id, payment_id=payment_id)
