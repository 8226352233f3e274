"""Authorization matrix for every portal page and /api/v1/cabinet endpoint that takes an object id:
anonymous, another subscriber, staff (without a link to the account) and the owner. Refused cases also
assert that nothing changed."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from kabinet.billing.models import LedgerTransfer, PersonalAccountLink, Subscription, SubscriptionOption
from kabinet.billing.tests.factories import SubscriptionOptionFactory
from kabinet.portal.tests.conftest import logged_in
from kabinet.subscriptions.models import ConsentRecord, PromisedPayment, VoluntaryBlock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner, owner_account, catalog):
    sub = owner_account.subscriptions.get()
    # Old enough for a promised payment; a change scheduled far ahead (cancellable).
    Subscription.objects.filter(pk=sub.pk).update(
        started_on="2026-01-01", next_tariff=catalog["home300"], next_tariff_from="2099-01-01"
    )
    SubscriptionOptionFactory(subscription=sub, option=catalog["static_ip"])
    return {"a": owner_account.pk, "s": sub.pk, "o": catalog["static_ip"].pk, "t": catalog["home300"].pk}


def _state(account_id: int) -> tuple:
    return (
        LedgerTransfer.objects.count(),
        ConsentRecord.objects.count(),
        PersonalAccountLink.objects.filter(personal_account_id=account_id).count(),
        list(
            Subscription.objects.filter(personal_account_id=account_id).values_list(
                "status", "tariff_id", "next_tariff_id"
            )
        ),
        list(SubscriptionOption.objects.values_list("status", flat=True)),
        VoluntaryBlock.objects.count(),
        PromisedPayment.objects.count(),
    )


PAGES_GET = [
    ("portal:account", ("a",), {}),
    ("portal:history", ("a",), {}),
    ("portal:history_export", ("a", "csv"), {}),
    ("portal:history_export", ("a", "pdf"), {}),
    ("portal:consents", ("a",), {}),
    ("portal:voluntary_block", ("a",), {}),
    ("portal:promised_payment", ("a",), {}),
    ("portal:tariff_change", ("a", "s"), {"tariff": "t", "when": "next_period"}),
    ("portal:subscription_off", ("a", "s"), {}),
]

# Refused for everyone but the owner; for the owner it is refused too here (a service is already on),
# see test_service_pages for connecting after switching off.
PAGES_POST_REFUSED_ONLY: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    ("portal:connect", ("a",), {"tariff": "t", "consent": "on"})
]

PAGES_POST = [
    ("portal:detach", ("a",), {}),
    ("portal:tariff_change", ("a", "s"), {"tariff": "t", "when": "now", "consent": "on"}),
    ("portal:tariff_change_cancel", ("a", "s"), {}),
    ("portal:option_switch", ("a", "s", "o"), {"action": "disable"}),
    ("portal:voluntary_block", ("a",), {"days": "7", "consent": "on"}),
    ("portal:promised_payment", ("a",), {"consent": "on"}),
    ("portal:subscription_off", ("a", "s"), {"confirm": "on"}),
]


def _resolve(values, world):
    return [world[v] if v in world else v for v in values]


def _data(data, world):
    return {k: (world[v] if v in world else v) for k, v in data.items()}


def _clients(who, owner, other, staff):
    return {
        "anonymous": Client(),
        "other": logged_in(other),
        "staff": logged_in(staff),
        "owner": logged_in(owner),
    }[who]


@pytest.mark.parametrize(("name", "args", "params"), PAGES_GET)
@pytest.mark.parametrize("who", ["anonymous", "other", "staff", "owner"])
def test_page_get_matrix(world, owner, other, staff, who, name, args, params):
    # given
    client = _clients(who, owner, other, staff)
    url = reverse(name, args=_resolve(args, world))
    # when
    response = client.get(url, _data(params, world))
    # then
    expected = {"anonymous": 302, "other": 404, "staff": 404, "owner": 200}[who]
    assert response.status_code == expected
    if who == "anonymous":
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("name", "args", "data"), PAGES_POST + PAGES_POST_REFUSED_ONLY)
@pytest.mark.parametrize("who", ["anonymous", "other", "staff"])
def test_page_post_refused_and_nothing_changes(world, owner, other, staff, who, name, args, data):
    # given
    client = _clients(who, owner, other, staff)
    before = _state(world["a"])
    # when
    response = client.post(
        reverse(name, args=_resolve(args, world)), {**_data(data, world), "form_token": f"tok-{who}-{name}"}
    )
    # then
    assert response.status_code == (302 if who == "anonymous" else 404)
    assert _state(world["a"]) == before


@pytest.mark.parametrize(("name", "args", "data"), PAGES_POST)
def test_page_post_by_the_owner_changes_something(world, owner, other, staff, name, args, data):
    # given
    client = logged_in(owner)
    before = _state(world["a"])
    # when
    response = client.post(
        reverse(name, args=_resolve(args, world)), {**_data(data, world), "form_token": f"tok-owner-{name}"}
    )
    # then
    assert response.status_code == 302
    assert _state(world["a"]) != before


API = "/api/v1/cabinet/accounts/{a}"
API_GET = [
    API + "/services",
    API + "/subscriptions/{s}/tariff-quote?tariff_id={t}&when=next_period",
    API + "/consents",
    API + "/voluntary-block",
    API + "/promised-payment",
]
API_POST = [
    (API + "/subscriptions/{s}/tariff-change", {"tariff_id": "t", "when": "now", "consent": True}),
    (API + "/subscriptions/{s}/cancel-change", {}),
    (API + "/subscriptions/{s}/options/{o}/disable", {}),
    (API + "/subscriptions/{s}/options/{o}/enable", {"consent": True}),
    (API + "/voluntary-block", {"days": 7, "consent": True}),
    (API + "/voluntary-block/end", {}),
    (API + "/promised-payment", {"consent": True}),
]


@pytest.mark.parametrize("path", API_GET)
@pytest.mark.parametrize("who", ["anonymous", "other", "staff", "owner"])
def test_api_get_matrix(world, owner, other, staff, who, path):
    # given
    client = _clients(who, owner, other, staff)
    # when
    response = client.get(path.format(**world))
    # then
    expected = {"anonymous": 401, "other": 404, "staff": 404, "owner": 200}[who]
    assert response.status_code == expected
    if who != "owner":
        assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(("path", "body"), API_POST)
@pytest.mark.parametrize("who", ["anonymous", "other", "staff"])
def test_api_post_refused_and_nothing_changes(world, owner, other, staff, who, path, body):
    # given
    client = _clients(who, owner, other, staff)
    before = _state(world["a"])
    # when
    response = client.post(
        path.format(**world),
        json.dumps(_data(body, world)),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    # then
    assert response.status_code == (401 if who == "anonymous" else 404)
    assert _state(world["a"]) == before


def test_api_forged_subscription_of_another_account_is_404(world, owner, other, other_account):
    # given: the owner's account id with the other subscriber's subscription id
    foreign_sub = other_account.subscriptions.get()
    before = _state(other_account.pk)
    # when
    response = logged_in(owner).post(
        f"/api/v1/cabinet/accounts/{world['a']}/subscriptions/{foreign_sub.pk}/cancel-change",
        "{}",
        content_type="application/json",
    )
    # then
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Услуга не найдена."
    assert _state(other_account.pk) == before


def test_page_forged_subscription_of_another_account_is_404(world, owner, other_account, catalog):
    # given: the owner's account id with the other subscriber's subscription id
    foreign_sub = other_account.subscriptions.get()
    before = _state(other_account.pk)
    client = logged_in(owner)
    # when
    get = client.get(
        reverse("portal:tariff_change", args=[world["a"], foreign_sub.pk]),
        {"tariff": catalog["home300"].pk, "when": "next_period"},
    )
    post = client.post(
        reverse("portal:option_switch", args=[world["a"], foreign_sub.pk, catalog["static_ip"].pk]),
        {"action": "enable", "consent": "1", "form_token": "forged"},
    )
    # then
    assert (get.status_code, post.status_code) == (404, 404)
    assert _state(other_account.pk) == before


@pytest.mark.parametrize("who", ["anonymous", "other", "staff"])
def test_api_detach_of_someone_elses_account_is_refused(world, owner, other, staff, who):
    # given
    client = _clients(who, owner, other, staff)
    before = _state(world["a"])
    # when
    response = client.delete(f"/api/v1/cabinet/accounts/{world['a']}/link")
    # then
    assert response.status_code == (401 if who == "anonymous" else 404)
    assert _state(world["a"]) == before
