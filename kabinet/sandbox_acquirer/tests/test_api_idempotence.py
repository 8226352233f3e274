"""The sandbox acquirer's Idempotence-Key: a repeated POST gets the first response and changes nothing,
also when the repeats arrive at the same moment (PostgreSQL)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from kabinet.sandbox_acquirer.models import SandboxIdempotenceKey, SandboxNotification, SandboxPayment

API = "/sandbox-acquirer/api/v3"


def _auth() -> dict[str, str]:
    token = f"{settings.SANDBOX_ACQUIRER_SHOP_ID}:{settings.SANDBOX_ACQUIRER_SECRET_KEY}".encode()
    return {"Authorization": "Basic " + base64.b64encode(token).decode()}


def _post(path: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        API + path,
        json.dumps(body),
        content_type="application/json",
        headers={**_auth(), "Idempotence-Key": key},
    )
    return response.status_code, response.json()


def _authorised_payment() -> SandboxPayment:
    return SandboxPayment.objects.create(
        shop_id=settings.SANDBOX_ACQUIRER_SHOP_ID,
        status=SandboxPayment.Status.WAITING_FOR_CAPTURE,
        amount_kopecks=10_000,
        return_url="http://127.0.0.1/",
        paid=True,
        expires_at=timezone.now() + dt.timedelta(days=7),
        card_first6="220000",
        card_last4="0004",
        card_type="Mir",
        notify=SandboxPayment.Notify.DROP,
    )


CAPTURE_BODY = {"amount": {"value": "100.00", "currency": "RUB"}}


@pytest.mark.django_db
def test_a_repeated_capture_gets_the_first_response_and_captures_once() -> None:
    # given
    payment = _authorised_payment()
    first = _post(f"/payments/{payment.id}/capture", CAPTURE_BODY, "cap-1")
    # when
    again = _post(f"/payments/{payment.id}/capture", CAPTURE_BODY, "cap-1")
    # then
    assert first[0] == 200
    assert first[1]["status"] == "succeeded"
    assert again == first
    assert SandboxIdempotenceKey.objects.filter(key="cap-1").count() == 1
    assert SandboxNotification.objects.filter(object_id=payment.id, event="payment.succeeded").count() == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_request_is_refused() -> None:
    # given
    payment = _authorised_payment()
    _post(f"/payments/{payment.id}/capture", CAPTURE_BODY, "cap-2")
    # when
    status, body = _post(
        f"/payments/{payment.id}/capture", {"amount": {"value": "50.00", "currency": "RUB"}}, "cap-2"
    )
    # then
    assert status == 400
    assert body["code"] == "invalid_request"
    assert body["parameter"] == "Idempotence-Key"
    assert SandboxPayment.objects.get(pk=payment.pk).amount_kopecks == 10_000


def _at_once(n: int, call: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            result = call()
        except Exception as exc:  # collected and asserted by the test
            result = exc
        finally:
            connections.close_all()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_with_one_key_capture_once_and_answer_alike() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    # given
    payment = _authorised_payment()
    # when: eight captures with the same key at the same moment
    results = _at_once(8, lambda: _post(f"/payments/{payment.id}/capture", CAPTURE_BODY, "cap-pg"))
    # then
    assert len(results) == 8
    assert all(r == results[0] for r in results), results
    assert results[0][0] == 200
    assert results[0][1]["status"] == "succeeded"
    assert SandboxIdempotenceKey.objects.filter(key="cap-pg").count() == 1
    assert SandboxNotification.objects.filter(object_id=payment.id, event="payment.succeeded").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_create_one_payment() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    # given
    body = {
        "amount": {"value": "157.00", "currency": "RUB"},
        "capture": False,
        "confirmation": {"type": "redirect", "return_url": "http://127.0.0.1/back"},
        "metadata": {"payment_id": "p-1"},
    }
    # when
    results = _at_once(8, lambda: _post("/payments", body, "create-pg"))
    # then
    assert len(results) == 8
    assert all(r == results[0] for r in results), results
    assert results[0][0] == 200
    assert SandboxPayment.objects.count() == 1
    assert SandboxPayment.objects.get().id == results[0][1]["id"]


@pytest.mark.django_db
def test_captures_taken_together_answer_each_request_as_alone() -> None:
    from kabinet.sandbox_acquirer.services import (
        _CaptureAlone,
        _CaptureRequest,
        _captures_process,
        _request_hash,
    )

    # given: two authorised payments, and a third already captured with key "cap-old"
    first, second, third = _authorised_payment(), _authorised_payment(), _authorised_payment()
    old = _post(f"/payments/{third.id}/capture", CAPTURE_BODY, "cap-old")
    shop = settings.SANDBOX_ACQUIRER_SHOP_ID

    def request(payment: SandboxPayment, key: str, body: Any = CAPTURE_BODY) -> _CaptureRequest:
        path = f"{API}/payments/{payment.id}/capture"
        return _CaptureRequest(shop, payment.id, key, path, _request_hash(path, body), body)

    # when: one batch captures both, one of them for less, and repeats the old request
    results = _captures_process(
        [
            request(first, "cap-a"),
            request(second, "cap-b", {"amount": {"value": "60.00", "currency": "RUB"}}),
            request(third, "cap-old"),
        ]
    )
    # then: each answered as if alone; each captured once, its key and notification stored
    assert [status for status, _body in results] == [200, 200, 200]
    assert results[0][1]["status"] == "succeeded" and results[0][1]["amount"]["value"] == "100.00"
    assert results[1][1]["amount"]["value"] == "60.00"
    assert results[2] == old
    assert SandboxPayment.objects.get(pk=second.id).amount_kopecks == 6000
    assert SandboxPayment.objects.filter(pk__in=[first.id, second.id], status="succeeded").count() == 2
    assert SandboxIdempotenceKey.objects.get(key="cap-a").response == results[0][1]
    assert (
        SandboxNotification.objects.filter(
            object_id__in=[first.id, second.id], event="payment.succeeded"
        ).count()
        == 2
    )
    # a repeat of the first request now gets the stored response
    assert _post(f"/payments/{first.id}/capture", CAPTURE_BODY, "cap-a") == results[0]
    # a batch with a repeated key, or a request that fails, is left to run request by request
    with pytest.raises(_CaptureAlone):
        _captures_process([request(first, "cap-x"), request(second, "cap-x")])
    canceled = _authorised_payment()
    SandboxPayment.objects.filter(pk=canceled.id).update(status=SandboxPayment.Status.CANCELED)
    with pytest.raises(_CaptureAlone):
        _captures_process([request(_authorised_payment(), "cap-y"), request(canceled, "cap-z")])
    assert not SandboxIdempotenceKey.objects.filter(key__in=["cap-x", "cap-y", "cap-z"]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_of_many_payments_answer_each_and_capture_each_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    # given: six authorised payments and one canceled
    payments = [_authorised_payment() for _ in range(6)]
    canceled = _authorised_payment()
    SandboxPayment.objects.filter(pk=canceled.id).update(status=SandboxPayment.Status.CANCELED)
    calls = [(p.id, f"cap-{n}") for n, p in enumerate(payments)] * 2 + [(canceled.id, "cap-canceled")]
    barrier = threading.Barrier(len(calls))
    results: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    lock = threading.Lock()

    def worker(payment_id: str, key: str) -> None:
        try:
            barrier.wait()
            result = _post(f"/payments/{payment_id}/capture", CAPTURE_BODY, key)
        finally:
            connections.close_all()
        with lock:
            results.setdefault((payment_id, key), []).append(result)

    # when: all of them at once, each capture twice with its key
    threads = [threading.Thread(target=worker, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then: each payment captured once, both requests with its key got the same answer
    for n, payment in enumerate(payments):
        answers = results[(payment.id, f"cap-{n}")]
        assert len(answers) == 2 and answers[0] == answers[1]
        assert answers[0][0] == 200 and answers[0][1]["status"] == "succeeded"
    assert SandboxPayment.objects.filter(pk__in=[p.id for p in payments], status="succeeded").count() == 6
    assert SandboxIdempotenceKey.objects.filter(key__startswith="cap-").count() == 6
    assert SandboxNotification.objects.filter(event="payment.succeeded").count() == 6
    # and the canceled one got its own error, whichever batch it met
    [(status, body)] = results[(canceled.id, "cap-canceled")]
    assert status == 400 and "cannot capture" in body["description"]
