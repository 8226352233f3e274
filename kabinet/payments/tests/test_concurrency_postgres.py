"""Concurrent notifications on PostgreSQL: ten at once for one payment credit it exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.payments.models import Payment, PaymentEvent
from kabinet.payments.services import payment_initiate, payment_notification_handle
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def _notify_concurrently(body: dict, n: int = 10) -> list[str]:
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            payment = payment_notification_handle(body=body)
            with lock:
                results.append(payment.status if payment else "none")
        except Exception as exc:  # collected and asserted below
            with lock:
                results.append(f"error: {exc!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("event", ["payment.waiting_for_capture", "payment.succeeded"])
def test_ten_concurrent_notifications_credit_once(acquirer, settings, event) -> None:
    # given: a confirmed payment whose own notifications are dropped
    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "drop"
    account: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    payment = payment_initiate(personal_account=account, amount="700", idempotency_key="pg-1")
    payer_confirms(payment)
    if event == "payment.succeeded":
        from kabinet.payments.acquirer.client import acquirer_client

        acquirer_client().payment_capture(
            payment_id=payment.acquirer_payment_id or "", amount_kopecks=70000, idempotence_key="pre"
        )
    body = {"type": "notification", "event": event, "object": {"id": payment.acquirer_payment_id}}
    # when
    results = _notify_concurrently(body)
    # then
    assert results == ["succeeded"] * 10
    assert LedgerTransfer.objects.filter(key=f"payment:{payment.public_id}").count() == 1
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 70000
    assert PaymentEvent.objects.filter(payment=payment, kind="credited").count() == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED


def test_two_payments_from_one_card_at_once_capture_only_one(acquirer, settings) -> None:
    # given: two payments authorised by the same card, their notifications not yet delivered
    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "drop"
    account: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    first = payment_initiate(personal_account=account, amount="100", idempotency_key="card-1")
    second = payment_initiate(personal_account=account, amount="200", idempotency_key="card-2")
    payer_confirms(first)
    payer_confirms(second)
    bodies = [
        {
            "type": "notification",
            "event": "payment.waiting_for_capture",
            "object": {"id": p.acquirer_payment_id},
        }
        for p in (first, second)
    ]
    # when: both notifications (five copies each) arrive at once
    barrier = threading.Barrier(10)
    errors: list[str] = []

    def worker(body: dict) -> None:
        try:
            barrier.wait()
            payment_notification_handle(body=body)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(bodies[i % 2],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then: exactly one is captured and credited, the other cancelled with the same-card reason
    assert errors == []
    statuses = sorted(Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    assert statuses == ["canceled", "succeeded"]
    canceled = Payment.objects.get(pk__in=[first.pk, second.pk], status="canceled")
    assert canceled.cancel_reason.startswith("С одной карты можно платить не чаще одного раза в 30 минут.")
    credited = Payment.objects.get(pk__in=[first.pk, second.pk], status="succeeded")
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == credited.amount_kopecks
