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


def _handle_all_at_once(bodies: list[dict]) -> list[str]:
    """Each body handled in a thread of its own, all released together; the errors raised."""
    barrier = threading.Barrier(len(bodies))
    errors: list[str] = []

    def worker(body: dict) -> None:
        try:
            barrier.wait()
            payment_notification_handle(body=body)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


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
    errors = _handle_all_at_once([bodies[i % 2] for i in range(10)])
    # then: exactly one is captured and credited, the other cancelled with the same-card reason
    assert errors == []
    statuses = sorted(Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    assert statuses == ["canceled", "succeeded"]
    canceled = Payment.objects.get(pk__in=[first.pk, second.pk], status="canceled")
    assert canceled.cancel_reason.startswith("С одной карты можно платить не чаще одного раза в 30 минут.")
    credited = Payment.objects.get(pk__in=[first.pk, second.pk], status="succeeded")
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == credited.amount_kopecks


def test_many_payments_notified_at_once_are_each_credited_once(acquirer, settings) -> None:
    # given: twelve authorised payments on three accounts, from one card (the same-card rule is off, so
    # all of them are captured), their own notifications dropped
    from kabinet.payments.rules import payment_rules_get

    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "drop"
    rules = payment_rules_get()
    rules.same_card_interval_minutes = 0
    rules.save()
    accounts: list[PersonalAccount] = [PersonalAccountFactory() for _ in range(3)]  # type: ignore[misc]
    payments = []
    for n in range(12):
        payment = payment_initiate(
            personal_account=accounts[n % 3], amount=str(100 + n), idempotency_key=f"many-{n}"
        )
        payer_confirms(payment)
        payments.append(payment)
    # when: every notification arrives twice, all at once (the decisions and credits of a process are
    # taken together by whichever threads meet)
    bodies = [
        {
            "type": "notification",
            "event": "payment.waiting_for_capture",
            "object": {"id": p.acquirer_payment_id},
        }
        for p in payments
    ] * 2
    errors = _handle_all_at_once(bodies)
    # then: each payment credited exactly once; each account holds exactly its payments
    assert errors == []
    assert (
        list(Payment.objects.filter(pk__in=[p.pk for p in payments]).values_list("status", flat=True))
        == ["succeeded"] * 12
    )
    keys = [f"payment:{p.public_id}" for p in payments]
    assert LedgerTransfer.objects.filter(key__in=keys).count() == 12
    assert PaymentEvent.objects.filter(payment__in=payments, kind="credited").count() == 12
    assert PaymentEvent.objects.filter(payment__in=payments, kind="paid").count() == 12
    for i, account in enumerate(accounts):
        expected = sum((100 + n) * 100 for n in range(i, 12, 3))
        assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == expected
