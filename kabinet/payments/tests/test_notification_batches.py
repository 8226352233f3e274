"""Notifications decided and credited in batches (kabinet.core.group_commit): the batch functions given
several payments at once behave as that many notifications one after another."""

from __future__ import annotations

import dataclasses

import pytest
from django.utils import translation

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.models import AuditEvent
from kabinet.notifications.models import OutboxMessage
from kabinet.payments.acquirer.client import acquirer_client
from kabinet.payments.acquirer.interface import AcquirerPayment
from kabinet.payments.models import Payment, PaymentEvent
from kabinet.payments.services import (
    _payments_credit_succeeded,
    _payments_decide_capture,
    payment_initiate,
)
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms

pytestmark = pytest.mark.django_db

MIR, VISA, MASTERCARD = "2200 0000 0000 0004", "4111 1111 1111 1111", "5555 5555 5555 4444"


def _authorised(account: PersonalAccount, key: str, amount: str, card: str = MIR) -> Payment:
    """A payment the payer confirmed at the sandbox, its notification not delivered yet."""
    payment = payment_initiate(
        personal_account=account, amount=amount, idempotency_key=key, receipt_email=f"{key}@example.ru"
    )
    payer_confirms(payment, card=card)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    return payment


def _remote(payment: Payment) -> AcquirerPayment:
    return acquirer_client().payment_get(payment_id=payment.acquirer_payment_id or "")


def _captured(payment: Payment) -> AcquirerPayment:
    return acquirer_client().payment_capture(
        payment_id=payment.acquirer_payment_id or "",
        amount_kopecks=payment.amount_kopecks,
        idempotence_key=f"c:{payment.pk}",
    )


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def test_a_batch_of_decisions_refuses_a_second_payment_from_one_card(acquirer) -> None:
    # given: two payments authorised by one card, a third by another card
    account: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    first = _authorised(account, "d-1", "100")
    second = _authorised(account, "d-2", "200")
    third = _authorised(account, "d-3", "300", card=VISA)
    # when: their notifications are decided in one batch (the first one twice), led by a thread that
    # last served an English page
    items = [(p.pk, _remote(p)) for p in (first, second, third, first)]
    with translation.override("en"):
        decisions = _payments_decide_capture(items)
    # then: as one after another: the card's second payment is refused, the replay repeats the decision
    assert [action for action, _payment in decisions] == ["capture", "cancel", "capture", "capture"]
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.status == third.status == Payment.Status.WAITING_FOR_CAPTURE
    assert first.card_mask == "220000******0004" and third.card_brand == "VISA"
    # the reason is kept in the operator's language
    assert second.cancel_reason.startswith("С одной карты можно платить не чаще одного раза в 30 минут.")
    assert first.paid_at is not None and second.paid_at is not None
    assert PaymentEvent.objects.filter(payment=first, kind="paid").count() == 1
    assert PaymentEvent.objects.filter(payment__in=[first, second, third], kind="paid").count() == 3
    # and a later batch finds the decisions taken
    again = _payments_decide_capture([(second.pk, _remote(second)), (first.pk, _remote(first))])
    assert [action for action, _payment in again] == ["cancel", "capture"]
    assert PaymentEvent.objects.filter(payment__in=[first, second, third], kind="paid").count() == 3


def test_a_batch_of_credits_credits_each_payment_once(acquirer, django_capture_on_commit_callbacks) -> None:
    # given: three captured payments on two accounts; the acquirer's object for the third lies about
    # its amount
    one: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    two: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    p1 = _authorised(one, "c-1", "100")
    p2 = _authorised(one, "c-2", "200", card=VISA)
    p3 = _authorised(two, "c-3", "300", card=MASTERCARD)
    r1, r2, r3 = _captured(p1), _captured(p2), _captured(p3)
    lie = dataclasses.replace(r3, amount_kopecks=3_000_000)
    audits = AuditEvent.objects.filter(action="payment.credited").count()
    # when: one batch credits them, p1's notification twice
    with django_capture_on_commit_callbacks(execute=True):
        results = _payments_credit_succeeded([(p1.pk, r1), (p2.pk, r2), (p1.pk, r1), (p3.pk, lie)])
    # then: p1 and p2 once each, nothing for the lie
    assert [p.pk for p in results] == [p1.pk, p2.pk, p1.pk, p3.pk]
    assert [p.status for p in results] == ["succeeded", "succeeded", "succeeded", "pending"]
    assert _balance(one) == 30000 and _balance(two) == 0
    assert (
        LedgerTransfer.objects.filter(key__in=[f"payment:{p.public_id}" for p in (p1, p2, p3)]).count() == 2
    )
    assert PaymentEvent.objects.filter(payment__in=[p1, p2, p3], kind="credited").count() == 2
    assert AuditEvent.objects.filter(action="payment.credited").count() == audits + 2
    p2.refresh_from_db()
    assert (p2.card_brand, p2.transfer_id is not None, p2.credited_at is not None) == ("VISA", True, True)
    # each credited payment's receipt is emailed after the commit
    receipts = OutboxMessage.objects.filter(channel="email", to__in=["c-1@example.ru", "c-2@example.ru"])
    assert receipts.count() == 2
    # when: the true object comes with a replay of p2
    results = _payments_credit_succeeded([(p3.pk, r3), (p2.pk, r2)])
    # then: p3 is credited, p2 not again
    assert [p.status for p in results] == ["succeeded", "succeeded"]
    assert _balance(one) == 30000 and _balance(two) == 30000
    assert (
        LedgerTransfer.objects.filter(key__in=[f"payment:{p.public_id}" for p in (p1, p2, p3)]).count() == 3
    )
