"""Reads of the payments domain. A subscriber's payments are found through their account links."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kabinet.core.exceptions import NotFound
from kabinet.payments.models import Payment, PaymentEvent, Refund


def payment_list_for_user(*, user: Any) -> QuerySet[Payment]:
    """Payments to every personal account the user is linked to (whoever paid) and the payments the user
    made to other accounts, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Payment.objects.none()
    mine = Payment.objects.filter(Q(personal_account__links__user=user) | Q(user=user)).values("pk")
    return (
        Payment.objects.filter(pk__in=mine)
        .select_related("personal_account")
        .prefetch_related("refunds")
        .order_by("-created_at", "-id")
    )


def payment_get_for_user(*, user: Any, public_id: Any) -> Payment:
    payment = payment_list_for_user(user=user).filter(public_id=public_id).first()
    if payment is None:
        raise NotFound("Платёж не найден.")
    return payment


def payment_get_public(*, public_id: Any) -> Payment:
    """A payment by its unguessable public id (the status page and receipt link a payer was given)."""
    payment = Payment.objects.filter(public_id=public_id).select_related("personal_account").first()
    if payment is None:
        raise NotFound("Платёж не найден.")
    return payment


def payment_events(*, payment: Payment) -> QuerySet[PaymentEvent]:
    return payment.events.order_by("created_at", "id")


def refund_list_for_payment(*, payment: Payment) -> QuerySet[Refund]:
    return payment.refunds.order_by("created_at", "id")


def payment_steps(*, payment: Payment) -> list[dict[str, Any]]:
    """The four steps a payer follows, each with its time (None while not reached)."""
    events = {e.kind: e for e in payment_events(payment=payment)}
    steps = []
    for kind, label in (
        (PaymentEvent.Kind.ACCEPTED, "Платёж принят"),
        (PaymentEvent.Kind.PAID, "Оплачен банком"),
        (PaymentEvent.Kind.CREDITED, "Зачислен на лицевой счёт"),
        (PaymentEvent.Kind.SERVICE_RESTORED, "Услуги возобновлены"),
    ):
        event = events.get(kind)
        steps.append({"kind": str(kind), "label": label, "at": event.created_at if event else None})
    return steps
