"""Hooks run after payments are credited, for apps on the same layer (the bonus programme).

``payments`` and ``bonus`` sit on the same layer and do not import each other: an app registers a
callable here from its ``AppConfig.ready`` and every crediting path (card notifications, bank
registries, office cash, autopay) calls :func:`payments_credited_notify` inside its transaction, so a
hook's writes commit or roll back together with the credit. Hooks receive a list (registries credit
thousands of payments at once) and must be idempotent: a replayed credit may call them again.

Refund hooks (:func:`payments_refunded_notify`) run when a refund succeeds at the acquirer, so the
bonus programme takes back the points of the refunded part; what they did goes into the payment's
timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PaymentsCreditedHook = Callable[[Sequence[Any]], object]

_credited_hooks: list[PaymentsCreditedHook] = []


def payments_credited_hook_register(hook: PaymentsCreditedHook) -> None:
    if hook not in _credited_hooks:
        _credited_hooks.append(hook)


def payments_credited_notify(*, payments: Sequence[Any]) -> None:
    """Call every registered hook with credited Payment rows (saved, status succeeded)."""
    if not payments:
        return
    for hook in list(_credited_hooks):
        hook(payments)


# --- refunds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundNote:
    """What a refund hook did, for the payment's timeline (a PaymentEvent of ``kind``)."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


PaymentRefundedHook = Callable[..., "RefundNote | None"]

_refunded_hooks: list[PaymentRefundedHook] = []


def payments_refunded_hook_register(hook: PaymentRefundedHook) -> None:
    if hook not in _refunded_hooks:
        _refunded_hooks.append(hook)


def payments_refunded_notify(*, refund: Any, payment: Any) -> list[RefundNote]:
    """Call every refund hook as ``hook(refund=, payment=)`` inside the transaction that marks the
    refund succeeded (``payment.refunded_kopecks`` already includes it). That transition happens once
    per refund, so hooks run once; they must still be idempotent (keyed by the refund)."""
    notes = []
    for hook in list(_refunded_hooks):
        note = hook(refund=refund, payment=payment)
        if note is not None:
            notes.append(note)
    return notes
