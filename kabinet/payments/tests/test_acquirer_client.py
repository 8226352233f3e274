"""The YooKassa v3 protocol client against the sandbox acquirer: over Django's test client transport and
over real HTTP (live_server)."""

from __future__ import annotations

import pytest

from kabinet.payments.acquirer import client as client_module
from kabinet.payments.acquirer.client import AcquirerClient
from kabinet.payments.acquirer.interface import (
    AcquirerError,
    AcquirerPayment,
    AcquirerUnavailable,
    notification_parse,
)
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.sandbox_acquirer.models import SandboxPayment

pytestmark = pytest.mark.django_db


def _client(base: str = "http://testserver", secret: str = "test_sandbox_secret_key") -> AcquirerClient:
    return AcquirerClient(base_url=f"{base}/sandbox-acquirer/api/v3", shop_id="100500", secret_key=secret)


def _create(client: AcquirerClient, key: str = "idem-1", kopecks: int = 15700) -> AcquirerPayment:
    return client.payment_create(
        amount_kopecks=kopecks,
        return_url="http://testserver/pay/status/x/",
        description="Оплата",
        metadata={"payment_id": "abc"},
        idempotence_key=key,
    )


def test_create_is_two_stage_with_redirect_confirmation(acquirer) -> None:
    payment = _create(_client())
    assert payment.status == "pending"
    assert payment.paid is False
    assert payment.amount_kopecks == 15700
    assert payment.currency == "RUB"
    assert payment.metadata == {"payment_id": "abc"}
    assert payment.confirmation_url == f"http://testserver/sandbox-acquirer/checkout/{payment.id}/"
    assert SandboxPayment.objects.get(pk=payment.id).capture is False
    assert acquirer.calls == [("POST", "/sandbox-acquirer/api/v3/payments")]


def test_same_idempotence_key_returns_the_same_payment(acquirer) -> None:
    client = _client()
    first = _create(client, key="same")
    second = _create(client, key="same")
    assert first.id == second.id
    assert SandboxPayment.objects.count() == 1
    with pytest.raises(AcquirerError) as exc:
        _create(client, key="same", kopecks=100)
    assert exc.value.status == 400


def test_wrong_credentials_are_refused(acquirer) -> None:
    with pytest.raises(AcquirerError) as exc:
        _create(_client(secret="wrong"))
    assert (exc.value.status, exc.value.code) == (401, "invalid_credentials")
    assert not SandboxPayment.objects.exists()


def test_capture_and_cancel_need_the_right_state(acquirer) -> None:
    client = _client()
    payment = _create(client)
    with pytest.raises(AcquirerError):
        client.payment_capture(payment_id=payment.id, amount_kopecks=15700, idempotence_key="c1")
    canceled = client.payment_cancel(payment_id=payment.id, idempotence_key="x1")
    assert canceled.status == "canceled"
    assert canceled.cancellation_party == "merchant"
    assert canceled.cancellation_reason == "canceled_by_merchant"
    assert client.payment_get(payment_id=payment.id).status == "canceled"


def test_confirmed_payment_reports_the_card_and_can_be_captured_and_refunded(acquirer) -> None:
    from kabinet.payments.models import Payment
    from kabinet.payments.tests.acquirer_fixtures import payer_confirms

    client = _client()
    remote = _create(client)
    payer_confirms(Payment(confirmation_url=remote.confirmation_url), card="5555 5555 5555 4444")
    held = client.payment_get(payment_id=remote.id)
    assert held.status == "waiting_for_capture"
    assert held.paid is True
    assert held.card is not None
    assert (held.card.first6, held.card.last4, held.card.card_type) == ("555555", "4444", "MasterCard")
    assert (held.card.issuer_country, held.card.product_code) == ("RU", "gold")
    assert held.card.mask == "555555******4444"
    assert len(held.card.fingerprint) == 64
    captured = client.payment_capture(payment_id=remote.id, amount_kopecks=15700, idempotence_key="cap")
    again = client.payment_capture(payment_id=remote.id, amount_kopecks=15700, idempotence_key="cap")
    assert captured.status == again.status == "succeeded"
    refund = client.refund_create(
        payment_id=remote.id, amount_kopecks=700, description="r", idempotence_key="r1"
    )
    assert (refund.status, refund.amount_kopecks, refund.payment_id) == ("succeeded", 700, remote.id)
    assert client.refund_get(refund_id=refund.id) == refund
    with pytest.raises(AcquirerError):
        client.refund_create(
            payment_id=remote.id, amount_kopecks=15001, description="r", idempotence_key="r2"
        )


def test_unreachable_acquirer_is_unavailable_not_refused() -> None:
    client = AcquirerClient(base_url="http://127.0.0.1:9/v3", shop_id="1", secret_key="x", timeout=(0.5, 0.5))
    with pytest.raises(AcquirerUnavailable):
        client.payment_get(payment_id="x")


def test_notification_parsing() -> None:
    parsed = notification_parse(
        {"type": "notification", "event": "refund.succeeded", "object": {"id": "r1", "payment_id": "p1"}}
    )
    assert (parsed.event, parsed.object_id, parsed.payment_id, parsed.is_refund) == (
        "refund.succeeded",
        "r1",
        "p1",
        True,
    )
    for bad in [None, {}, {"type": "notification", "event": "payment.hacked", "object": {"id": "1"}}]:
        with pytest.raises(AcquirerError):
            notification_parse(bad)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("transport", ["keep-alive connections", "requests session"])
def test_client_over_real_http(live_server, settings, transport) -> None:
    # given: the sandbox served by a real HTTP server; the client's own connection pool (production)
    # or a caller's requests session (closed at the end)
    import requests

    session = requests.Session() if transport == "requests session" else None
    client = AcquirerClient(
        base_url=f"{live_server.url}/sandbox-acquirer/api/v3",
        shop_id="100500",
        secret_key="test_sandbox_secret_key",
        session=session,
    )
    # when
    payment = client.payment_create(
        amount_kopecks=100,
        return_url=f"{live_server.url}/pay/",
        description="HTTP",
        metadata={"payment_id": "live"},
        idempotence_key="live-1",
    )
    # then
    assert payment.confirmation_url.startswith(f"{live_server.url}/sandbox-acquirer/checkout/")
    assert client.payment_get(payment_id=payment.id).status == "pending"
    assert client.payment_cancel(payment_id=payment.id, idempotence_key="live-c").status == "canceled"
    with pytest.raises(AcquirerError) as refused:  # a 4xx answer with the acquirer's error body
        client.payment_capture(payment_id=payment.id, amount_kopecks=100, idempotence_key="live-cap")
    assert refused.value.status == 400
    # close the keep-alive connections, so the live server's threads (and their database
    # connections) end before the test database is dropped
    if session is not None:
        session.close()
    else:
        client_module._pool.clear()
