"""Card payments through the sandbox acquirer: initiate, confirm with card and SMS code, notifications,
capture/cancel under the operator's card rules, crediting exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.notifications.models import OutboxMessage
from kabinet.payments.models import Payment, PaymentEvent
from kabinet.payments.services import payment_initiate, payment_notification_handle, payments_reconcile
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms
from kabinet.sandbox_acquirer.models import SandboxNotification, SandboxPayment

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _account(**kwargs: object) -> PersonalAccount:
    return PersonalAccountFactory(**kwargs)  # type: ignore[return-value]


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def _start(
    account: PersonalAccount, amount: str = "157", key: str = "k-1", email: str = "payer@example.ru"
) -> Payment:
    return payment_initiate(personal_account=account, amount=amount, idempotency_key=key, receipt_email=email)


def test_card_payment_is_credited_once_with_timeline_and_receipt(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    # given
    account = _account(balance_kopecks=1000)
    payment = _start(account)
    # when
    response = payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/pay/status/{payment.public_id}/"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.card_mask == "220000******0004"
    assert payment.card_brand == "MIR"
    assert payment.card_issuer_country == "RU"
    assert _balance(account) == 1000 + 15700
    assert LedgerTransfer.objects.get(key=f"payment:{payment.public_id}").amount_kopecks == 15700
    assert ledger_account_system(code=CLEARING_ACQUIRER).balance_kopecks == -15700
    kinds = list(payment.events.values_list("kind", flat=True))
    assert kinds == ["accepted", "paid", "credited", "receipt_sent"]
    assert payment.paid_at is not None and payment.credited_at is not None
    assert SandboxPayment.objects.get(pk=payment.acquirer_payment_id).status == "succeeded"
    email = OutboxMessage.objects.get(channel="email", to="payer@example.ru")
    assert account.number in email.subject


def test_a_receipt_whose_task_never_ran_is_sent_by_the_periodic_search_once(
    acquirer, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from kabinet.payments import services
    from kabinet.payments.receipts import receipts_unsent_send

    # given: a credited payment whose receipt was never handed to Celery (the process died)
    monkeypatch.setattr(services._receipts, "submit_many", lambda payment_pks: None)
    payment = _start(_account())
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert not OutboxMessage.objects.filter(channel="email", to="payer@example.ru").exists()
    credited_at = payment.credited_at
    assert credited_at is not None
    # when / then: not while the normal path may still be sending it, then once
    assert receipts_unsent_send(now=credited_at + dt.timedelta(minutes=1)) == 0
    assert receipts_unsent_send(now=credited_at + dt.timedelta(minutes=5)) == 1
    assert receipts_unsent_send(now=credited_at + dt.timedelta(minutes=15)) == 0
    assert OutboxMessage.objects.filter(channel="email", to="payer@example.ru").count() == 1
    assert payment.events.filter(kind=PaymentEvent.Kind.RECEIPT_SENT).count() == 1


def _notification_body(payment: Payment, event: str = "payment.succeeded", **overrides: object) -> dict:
    obj: dict[str, Any] = {
        "id": payment.acquirer_payment_id,
        "status": event.split(".", 1)[1],
        "paid": True,
        "amount": {"value": f"{payment.amount_kopecks // 100}.00", "currency": "RUB"},
        "metadata": {"payment_id": str(payment.public_id)},
    }
    obj.update(overrides)
    return {"type": "notification", "event": event, "object": obj}


def test_the_same_notification_ten_times_credits_once(acquirer, client) -> None:
    # given: the payer confirmed, but the sandbox's own notifications were never delivered
    account = _account()
    payment = _start(account, amount="500")
    payer_confirms(payment)
    assert SandboxNotification.objects.filter(object_id=payment.acquirer_payment_id).count() == 1
    body = _notification_body(payment, "payment.waiting_for_capture")
    # when
    statuses = [
        client.post("/payments/notifications/yookassa/", body, content_type="application/json").status_code
        for _ in range(10)
    ]
    # then
    assert statuses == [200] * 10
    assert _balance(account) == 50000
    assert LedgerTransfer.objects.filter(key=f"payment:{payment.public_id}").count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.events.filter(kind=PaymentEvent.Kind.CREDITED).count() == 1
    assert payment.events.filter(kind=PaymentEvent.Kind.PAID).count() == 1


def test_a_notification_that_lies_about_status_and_amount_moves_nothing(acquirer, client) -> None:
    # given: a payment the payer never confirmed
    account = _account()
    payment = _start(account, amount="157")
    body = _notification_body(payment, "payment.succeeded", amount={"value": "15000.00", "currency": "RUB"})
    # when
    response = client.post("/payments/notifications/yookassa/", body, content_type="application/json")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "pending"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.transfer is None
    assert _balance(account) == 0
    assert not LedgerTransfer.objects.filter(kind=LedgerTransfer.Kind.PAYMENT).exists()


def test_a_notification_about_an_unknown_payment_is_ignored(acquirer, client) -> None:
    body = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": "nope", "status": "succeeded"},
    }
    response = client.post("/payments/notifications/yookassa/", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert not LedgerTransfer.objects.exists()


def test_a_malformed_notification_is_refused(acquirer, client) -> None:
    response = client.post(
        "/payments/notifications/yookassa/", {"event": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post("/payments/notifications/yookassa/", "not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("minutes", "second_status"), [(29, "canceled"), (31, "succeeded"), (30, "succeeded")]
)
def test_same_card_interval_rule(
    acquirer, django_capture_on_commit_callbacks, minutes, second_status
) -> None:
    # given: a first payment from the card at T0
    account = _account()
    with time_machine.travel(T0, tick=False):
        first = _start(account, amount="100", key="first")
        payer_confirms(first, capture_callbacks=django_capture_on_commit_callbacks)
    # when: a second order from the same card `minutes` later
    with time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False):
        second = _start(account, amount="200", key="second")
        payer_confirms(second, capture_callbacks=django_capture_on_commit_callbacks)
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Payment.Status.SUCCEEDED
    assert second.status == second_status
    assert SandboxPayment.objects.get(pk=second.acquirer_payment_id).status == second_status
    if second_status == "canceled":
        assert second.cancel_reason == (
            "С одной карты можно платить не чаще одного раза в 30 минут. Предыдущий платёж с карты "
            "220000******0004 был в 15:00; следующий возможен после 15:30. Деньги не списаны."
        )
        assert _balance(account) == 10000
        assert second.events.filter(kind="canceled").count() == 1
    else:
        assert _balance(account) == 30000


def test_another_card_is_not_limited_by_the_interval(acquirer, django_capture_on_commit_callbacks) -> None:
    account = _account()
    first = _start(account, amount="100", key="first")
    payer_confirms(first, capture_callbacks=django_capture_on_commit_callbacks)
    second = _start(account, amount="100", key="second")
    payer_confirms(second, card="4111 1111 1111 1111", capture_callbacks=django_capture_on_commit_callbacks)
    second.refresh_from_db()
    assert second.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 20000


@pytest.mark.parametrize(
    ("card", "brand", "mask"),
    [
        ("2200 0000 0000 0004", "MIR", "220000******0004"),
        ("4111 1111 1111 1111", "VISA", "411111******1111"),
        ("5555 5555 5555 4444", "MASTERCARD", "555555******4444"),
        ("6759 6498 2643 8453", "MAESTRO", "675964******8453"),
    ],
)
def test_each_brand_pays(acquirer, django_capture_on_commit_callbacks, card, brand, mask) -> None:
    account = _account()
    payment = _start(account)
    payer_confirms(payment, card=card, capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    assert (payment.status, payment.card_brand, payment.card_mask) == ("succeeded", brand, mask)
    assert _balance(account) == 15700


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("4000 0000 0000 0002", "Банк отклонил платёж."),
        ("2200 0000 0000 0012", "Недостаточно средств на карте."),
        (
            "4000 0566 5566 5556",
            "Карта выпущена не российским банком (US): оплата такими картами не принимается.",
        ),
    ],
)
def test_refused_cards_cancel_with_a_reason(
    acquirer, django_capture_on_commit_callbacks, card, reason
) -> None:
    account = _account()
    payment = _start(account)
    with django_capture_on_commit_callbacks(execute=True):
        payer_confirms(payment, card=card, capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert payment.cancel_reason == reason
    assert SandboxPayment.objects.get(pk=payment.acquirer_payment_id).status == "canceled"
    assert _balance(account) == 0


def test_blocked_card_class_is_cancelled_before_capture(acquirer, django_capture_on_commit_callbacks) -> None:
    from kabinet.payments.rules import payment_rules_get

    rules = payment_rules_get()
    rules.blocked_card_classes = "PREPAID"
    rules.save()
    account = _account()
    payment = _start(account)
    payer_confirms(payment, card="2200 0000 0000 0020", capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert payment.cancel_reason == "Карты класса «предоплаченные» не принимаются."
    assert _balance(account) == 0


def test_wrong_sms_code_three_times_cancels(acquirer, django_capture_on_commit_callbacks) -> None:
    from urllib.parse import urlsplit

    from django.test import Client

    account = _account()
    payment = _start(account)
    browser = Client()
    checkout = urlsplit(payment.confirmation_url).path
    secure = browser.post(checkout, {"number": "2200000000000004", "expiry": "12/30", "cvc": "123"})[
        "Location"
    ]
    first = browser.post(secure, {"code": "000000"})
    assert "Неверный код. Осталось попыток: 2." in first.content.decode()
    browser.post(secure, {"code": "000001"})
    with django_capture_on_commit_callbacks(execute=True):
        last = browser.post(secure, {"code": "000002"})
    assert last.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert payment.cancel_reason == "Не пройдена проверка 3-D Secure (неверный код из SMS)."


def test_dropped_notification_is_settled_by_reconciliation(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    # given: the test card whose notification the acquirer never sends
    account = _account()
    with time_machine.travel(T0, tick=False):
        payment = _start(account)
        payer_confirms(
            payment, card="2200 0000 0000 0046", capture_callbacks=django_capture_on_commit_callbacks
        )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert SandboxNotification.objects.get(object_id=payment.acquirer_payment_id).dropped is True
    # when: the periodic reconciliation runs 15 minutes later
    with time_machine.travel(T0 + dt.timedelta(minutes=15), tick=False):
        counts = payments_reconcile()
    # then
    payment.refresh_from_db()
    assert counts == {"checked": 1, "succeeded": 1, "canceled": 0, "still_open": 0, "errors": 0}
    assert payment.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 15700


def test_acquirer_timeout_leaves_payment_pending_and_reconciliation_settles_it(
    acquirer, client, django_capture_on_commit_callbacks
) -> None:
    # given: the payer confirmed; our notification handler's status fetch times out
    account = _account()
    with time_machine.travel(T0, tick=False):
        payment = _start(account)
        payer_confirms(payment)  # notification queued, not delivered yet
        acquirer.fail_next = 1
        acquirer.fail_paths = ("/api/v3/payments/",)
        response = client.post(
            "/payments/notifications/yookassa/",
            _notification_body(payment, "payment.waiting_for_capture"),
            content_type="application/json",
        )
    # then: the acquirer is asked to retry, nothing moved
    assert response.status_code == 503
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert _balance(account) == 0
    # when: reconciliation runs later
    with time_machine.travel(T0 + dt.timedelta(minutes=11), tick=False):
        counts = payments_reconcile()
    payment.refresh_from_db()
    assert counts["succeeded"] == 1
    assert payment.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 15700


def test_acquirer_timeout_while_creating_keeps_one_payment_and_retry_registers_it(acquirer) -> None:
    from kabinet.core.exceptions import DomainError

    account = _account()
    acquirer.fail_next = 1
    with pytest.raises(DomainError) as exc:
        _start(account, key="retry-me")
    assert exc.value.code == "acquirer_unavailable"
    payment = Payment.objects.get(idempotency_key="retry-me")
    assert payment.status == Payment.Status.CREATED
    # when: the same request is repeated
    again = _start(account, key="retry-me")
    # then
    assert again.pk == payment.pk
    assert again.status == Payment.Status.PENDING
    assert again.confirmation_url.startswith("http://testserver/sandbox-acquirer/checkout/")
    assert SandboxPayment.objects.count() == 1


def test_payment_to_an_account_blocked_for_debt_restores_service(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    account = _account(balance_kopecks=-10000, status=PersonalAccount.Status.BLOCKED_DEBT)
    payment = _start(account, amount="150")
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    assert payment.service_restored_at is not None
    assert list(payment.events.values_list("kind", flat=True))[:4] == [
        "accepted",
        "paid",
        "credited",
        "service_restored",
    ]


def test_too_small_payment_keeps_account_blocked(acquirer, django_capture_on_commit_callbacks) -> None:
    account = _account(balance_kopecks=-10000, status=PersonalAccount.Status.BLOCKED_DEBT)
    payment = _start(account, amount="50")
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    account.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert account.status == PersonalAccount.Status.BLOCKED_DEBT
    assert payment.service_restored_at is None


def test_capture_failure_shows_paid_and_reconciliation_captures(acquirer, client) -> None:
    # given: the status fetch works but the capture call times out
    account = _account()
    with time_machine.travel(T0, tick=False):
        payment = _start(account)
        payer_confirms(payment)
        acquirer.fail_next = 1
        acquirer.fail_paths = ("/capture",)
        response = client.post(
            "/payments/notifications/yookassa/",
            _notification_body(payment, "payment.waiting_for_capture"),
            content_type="application/json",
        )
    assert response.status_code == 503
    payment.refresh_from_db()
    assert payment.status == Payment.Status.WAITING_FOR_CAPTURE
    assert list(payment.events.values_list("kind", flat=True)) == ["accepted", "paid"]
    assert _balance(account) == 0
    # when
    with time_machine.travel(T0 + dt.timedelta(minutes=11), tick=False):
        payments_reconcile()
    # then
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert list(payment.events.values_list("kind", flat=True)) == ["accepted", "paid", "credited"]
    assert _balance(account) == 15700


def test_delayed_notification_is_sent_by_the_flush_when_due(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    from kabinet.sandbox_acquirer.tasks import sandbox_notifications_flush

    account = _account()
    with time_machine.travel(T0, tick=False):
        payment = _start(account)
        payer_confirms(
            payment, card="2200 0000 0000 0038", capture_callbacks=django_capture_on_commit_callbacks
        )
        assert sandbox_notifications_flush() == 0  # not due yet
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    with time_machine.travel(T0 + dt.timedelta(seconds=61), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            sent = sandbox_notifications_flush()
    payment.refresh_from_db()
    assert sent >= 1
    assert payment.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 15700


def test_reconciliation_is_scheduled_and_runs_as_a_task(acquirer, settings) -> None:
    import kabinet.sandbox_acquirer.tasks  # noqa: F401  (Celery's autodiscovery imports it in a worker/beat)
    from config.celery import app
    from kabinet.payments.tasks import payments_reconcile_task

    entry = app.conf.beat_schedule["payments-reconcile"]
    assert entry["task"] == "kabinet.payments.tasks.payments_reconcile_task"
    assert entry["schedule"] == float(settings.PAYMENTS_RECONCILE_EVERY_SECONDS)
    assert app.conf.beat_schedule["sandbox-acquirer-notifications"]["schedule"] == 30.0
    account = _account()
    with time_machine.travel(T0, tick=False):
        payment = _start(account)
        payer_confirms(payment, card="2200 0000 0000 0046")  # notification dropped
    with time_machine.travel(T0 + dt.timedelta(minutes=20), tick=False):
        counts = payments_reconcile_task.delay().get()
    assert counts["succeeded"] == 1
    assert _balance(account) == 15700


def test_an_idempotency_key_replayed_by_another_caller_gets_no_one_elses_payment(acquirer) -> None:
    # given: a subscriber started a payment with a key
    from kabinet.core.exceptions import Conflict
    from kabinet.identity.models import User

    account = _account()
    owner = User.objects.create_user(email="owner@example.ru", password="Abcdef12")
    other = User.objects.create_user(email="other@example.ru", password="Abcdef12")
    first = payment_initiate(personal_account=account, amount="157", idempotency_key="shared-key", user=owner)
    # when: the owner replays it, then someone else (logged in or not) sends the same key and details
    replay = payment_initiate(
        personal_account=account, amount="157", idempotency_key="shared-key", user=owner
    )
    with pytest.raises(Conflict):
        payment_initiate(personal_account=account, amount="157", idempotency_key="shared-key", user=other)
    with pytest.raises(Conflict):
        payment_initiate(personal_account=account, amount="157", idempotency_key="shared-key")
    # then
    assert replay.pk == first.pk
    assert Payment.objects.count() == 1


def test_a_notification_settles_a_payment_in_a_bounded_number_of_queries(
    acquirer, django_assert_max_num_queries
) -> None:
    # given: an authorised payment whose own notification was not delivered
    account = _account()
    payment = _start(account, amount="500")
    payer_confirms(payment)
    body = _notification_body(payment, "payment.waiting_for_capture")
    # when: our service, the sandbox's status fetch and its capture all run on this connection
    with django_assert_max_num_queries(NOTIFICATION_QUERIES_MAX[connection.vendor]):
        settled = payment_notification_handle(body=body)
    # then
    assert settled is not None
    assert settled.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 50000
    assert acquirer.calls[-2:] == [
        ("GET", f"/sandbox-acquirer/api/v3/payments/{payment.acquirer_payment_id}"),
        ("POST", f"/sandbox-acquirer/api/v3/payments/{payment.acquirer_payment_id}/capture"),
    ]


# Every statement, savepoints included, of the three requests (ours, the status fetch, the capture) as
# measured; before the notification path was trimmed they were 42 (SQLite) and 43 (PostgreSQL), then 38
# and 39 (2026-11-26, before the ledger stopped using savepoints inside a caller's transaction).
NOTIFICATION_QUERIES_MAX = {"sqlite": 36, "postgresql": 37}


def test_a_replay_for_a_credited_payment_asks_the_acquirer_and_writes_nothing(acquirer, client) -> None:
    # given: a payment credited by its first notification
    account = _account()
    payment = _start(account, amount="500")
    payer_confirms(payment)
    body = _notification_body(payment, "payment.waiting_for_capture")
    client.post("/payments/notifications/yookassa/", body, content_type="application/json")
    acquirer.calls.clear()
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/payments/notifications/yookassa/", body, content_type="application/json")
    # then: the state was fetched again, nothing was locked or written
    assert response.json() == {"status": "succeeded"}
    assert acquirer.calls == [("GET", f"/sandbox-acquirer/api/v3/payments/{payment.acquirer_payment_id}")]
    assert [q["sql"] for q in queries if not q["sql"].lstrip().startswith("SELECT")] == []
    assert len(queries) == 2  # our payment, the sandbox's payment
    assert LedgerTransfer.objects.filter(key=f"payment:{payment.public_id}").count() == 1
    assert _balance(account) == 50000


def test_a_refused_creation_keeps_its_reason_in_the_operators_language(acquirer, settings) -> None:
    from django.utils import translation

    from kabinet.core.exceptions import DomainError

    # given: the acquirer refuses to create payments (here: our credentials are wrong)
    settings.ACQUIRER_SECRET_KEY = "wrong"
    # when: a payer reading the site in English starts a payment
    with translation.override("en"), pytest.raises(DomainError) as refused:
        payment_initiate(personal_account=_account(), amount="157", idempotency_key="k-refused")
    # then: the payer reads why in English; the payment keeps the reason in Russian for everyone
    assert str(refused.value) == "The bank declined to create the payment. Try later."
    payment = Payment.objects.get(idempotency_key="k-refused")
    assert payment.status == Payment.Status.CANCELED
    assert payment.cancel_reason == "Банк отклонил создание платежа."
    assert payment.events.get(kind="canceled").message == "Банк отклонил создание платежа."
