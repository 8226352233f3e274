"""/api/v1/cabinet: services and switches, tariff change with Idempotency-Key replay, errors."""

from __future__ import annotations

import json

import pytest

from kabinet.billing.models import LedgerTransfer, Subscription, SubscriptionOption
from kabinet.portal.models import IdempotencyRecord
from kabinet.portal.tests.conftest import logged_in
from kabinet.subscriptions.models import ConsentRecord

pytestmark = pytest.mark.django_db


def _post(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_services_lists_switches_allowed_by_the_catalog(owner, owner_account, catalog):
    # when
    response = logged_in(owner).get(f"/api/v1/cabinet/accounts/{owner_account.pk}/services")
    # then
    assert response.status_code == 200
    [tab] = response.json()
    assert tab["code"] == "internet"
    [sub] = tab["subscriptions"]
    assert sub["tariff"]["name"] == "Домашний 100"
    assert [t["name"] for t in sub["switch_to"]] == ["Домашний 300"]
    assert [(o["name"], o["enabled"], o["price_kopecks"]) for o in sub["options"]] == [
        ("Статический IP", False, 15000)
    ]


def test_dashboard_api_has_the_forecast(owner, owner_account):
    # when
    [account] = logged_in(owner).get("/api/v1/cabinet/dashboard").json()
    # then
    assert account["number"] == owner_account.number
    assert account["balance_kopecks"] == 100000
    assert account["next_charge_kopecks"] == 41500
    assert account["tariffs"] == ["Домашний 100"]


def test_tariff_change_with_idempotency_key_is_done_once_and_replayed(owner, owner_account, catalog):
    # given
    client = logged_in(owner)
    sub = owner_account.subscriptions.get()
    path = f"/api/v1/cabinet/accounts/{owner_account.pk}/subscriptions/{sub.pk}/tariff-change"
    body = {"tariff_id": catalog["home300"].pk, "when": "now", "consent": True}
    transfers = LedgerTransfer.objects.count()
    # when
    first = _post(client, path, body, HTTP_IDEMPOTENCY_KEY="change-1")
    replay = _post(client, path, body, HTTP_IDEMPOTENCY_KEY="change-1")
    reused = _post(client, path, {**body, "when": "next_period"}, HTTP_IDEMPOTENCY_KEY="change-1")
    # then
    assert first.status_code == 200
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert (
        Subscription.objects.filter(personal_account=owner_account, status="active").get().tariff
        == catalog["home300"]
    )
    assert ConsentRecord.objects.filter(personal_account=owner_account).count() == 1
    moved = LedgerTransfer.objects.count() - transfers
    assert moved >= 1
    # a second change without a key would be refused anyway: the same tariff is already on
    assert IdempotencyRecord.objects.filter(user=owner, key="change-1").count() == 1


def test_a_refused_request_is_not_stored_and_can_be_retried(owner, owner_account, catalog):
    # given
    client = logged_in(owner)
    sub = owner_account.subscriptions.get()
    path = f"/api/v1/cabinet/accounts/{owner_account.pk}/subscriptions/{sub.pk}/options/{catalog['static_ip'].pk}/enable"
    # when: no consent
    refused = _post(client, path, {"consent": False}, HTTP_IDEMPOTENCY_KEY="opt-1")
    # then
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "consent_required",
        "message": "Подтвердите согласие с изменением и его стоимостью.",
        "field": "consent",
    }
    assert not SubscriptionOption.objects.filter(subscription=sub).exists()
    assert not IdempotencyRecord.objects.filter(key="opt-1").exists()
    # when: retried with consent and another key
    done = _post(client, path, {"consent": True}, HTTP_IDEMPOTENCY_KEY="opt-2")
    assert done.status_code == 200
    assert done.json()["enabled"] is True


@pytest.mark.parametrize(
    ("tariff_key", "when", "code"),
    [
        ("archived", "now", "tariff_archived"),
        ("tv", "now", "wrong_service"),
        ("home300", "someday", "domain_error"),
    ],
)
def test_tariff_change_bad_input_moves_no_money(owner, owner_account, catalog, tariff_key, when, code):
    # given
    sub = owner_account.subscriptions.get()
    transfers = LedgerTransfer.objects.count()
    # when
    response = _post(
        logged_in(owner),
        f"/api/v1/cabinet/accounts/{owner_account.pk}/subscriptions/{sub.pk}/tariff-change",
        {"tariff_id": catalog[tariff_key].pk, "when": when, "consent": True},
    )
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert LedgerTransfer.objects.count() == transfers
    sub.refresh_from_db()
    assert (sub.tariff_id, sub.status, sub.next_tariff_id) == (catalog["home100"].pk, "active", None)


def test_tariff_quote_shows_price_before_confirming(owner, owner_account, catalog):
    # given
    sub = owner_account.subscriptions.get()
    # when
    quote = (
        logged_in(owner)
        .get(
            f"/api/v1/cabinet/accounts/{owner_account.pk}/subscriptions/{sub.pk}/tariff-quote",
            {"tariff_id": catalog["home300"].pk, "when": "next_period"},
        )
        .json()
    )
    # then
    assert quote["new_price_kopecks"] == 59000
    assert quote["total_kopecks"] == 0
    assert "Домашний 300" in quote["consent_text"]
    assert ConsentRecord.objects.count() == 0


def test_attach_by_sms_code_and_detach_through_the_api(owner, other):
    # given: another customer's account whose contract phone gets the code
    import datetime as dt
    import re

    from kabinet.billing.models import PersonalAccountLink
    from kabinet.billing.tests.factories import PersonalAccountFactory
    from kabinet.customers.models import Contract
    from kabinet.notifications.models import OutboxMessage

    contract = Contract.objects.create(
        customer=other.customer, number="Д-77", signed_at=dt.date(2025, 1, 1), phone="+79170000077"
    )
    account = PersonalAccountFactory(customer=other.customer, contract=contract)
    client = logged_in(owner)
    # when
    sent = _post(client, "/api/v1/cabinet/attach/code", {"number": account.number})
    message = OutboxMessage.objects.get(channel="sms", to="+79170000077")
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    wrong = _post(client, "/api/v1/cabinet/attach/confirm", {"number": account.number, "code": "12345x"})
    attached = _post(
        client, "/api/v1/cabinet/attach/confirm", {"number": account.number, "code": match.group(1)}
    )
    # then
    assert sent.status_code == 200
    assert wrong.status_code == 400
    assert attached.json() == {"id": account.pk, "number": account.number, "method": "sms_code"}
    # when: detach
    detached = client.delete(f"/api/v1/cabinet/accounts/{account.pk}/link")
    again = client.delete(f"/api/v1/cabinet/accounts/{account.pk}/link")
    # then
    assert detached.status_code == 200
    assert again.status_code == 404
    assert not PersonalAccountLink.objects.filter(user=owner, personal_account=account).exists()
    assert PersonalAccountLink.objects.filter(user=other, personal_account=account).exists()


def test_attach_api_refuses_a_bad_check_digit_and_anonymous(owner):
    from django.test import Client

    # when
    bad = _post(logged_in(owner), "/api/v1/cabinet/attach/code", {"number": "1234567890"})
    anonymous = _post(Client(), "/api/v1/cabinet/attach/code", {"number": "1234567890"})
    # then
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_account_number"
    assert anonymous.status_code == 401
