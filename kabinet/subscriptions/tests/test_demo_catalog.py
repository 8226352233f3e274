import datetime as dt

import pytest
import time_machine

from kabinet.billing.models import (
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    Subscription,
    SubscriptionOption,
)
from kabinet.catalog.models import Bundle, Option, PriceVersion, Tariff
from kabinet.demo.catalog import load_catalog, load_customer_services
from kabinet.demo.identity import load_subscribers
from kabinet.subscriptions.selectors import subscription_current, subscription_switch_targets

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "tariffs": Tariff.objects.count(),
        "options": Option.objects.count(),
        "prices": PriceVersion.objects.count(),
        "bundles": Bundle.objects.count(),
        "accounts": PersonalAccount.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "options_on": SubscriptionOption.objects.count(),
        "transfers": LedgerTransfer.objects.count(),
    }


@time_machine.travel(dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC), tick=False)
def test_demo_loader_is_idempotent_and_balanced() -> None:
    # given
    load_subscribers()
    # when
    load_catalog()
    load_customer_services()
    first = _counts()
    balances = dict(LedgerAccount.objects.values_list("code", "balance_kopecks"))
    load_catalog()
    load_customer_services()
    # then
    assert _counts() == first
    assert dict(LedgerAccount.objects.values_list("code", "balance_kopecks")) == balances
    assert first["tariffs"] == 17
    assert first["accounts"] == 4
    assert first["subscriptions"] == 4
    assert sum(balances.values()) == 0
    internet = PersonalAccount.objects.get(number="1000001014")
    sub = subscription_current(personal_account=internet)
    assert sub is not None and sub.tariff.name == "Домашний 100"
    assert sub.price_kopecks == 37350  # 415 ₽ with the 10% «Интернет + ТВ» discount
    assert [t.name for t in subscription_switch_targets(subscription=sub)] == ["Домашний 300", "Домашний 500"]
    assert balances["pa:1000001014"] > 0
    # the reference operator's entry prices
    assert Tariff.objects.get(code="letai-base").price_on(dt.date(2026, 11, 25)) == 800
    assert Tariff.objects.get(code="home-100").price_on(dt.date(2026, 11, 25)) == 41500
    assert Tariff.objects.get(code="tv-basic").price_on(dt.date(2026, 11, 25)) == 11900


def test_demo_services_are_skipped_without_demo_users() -> None:
    load_catalog()
    assert load_customer_services() == []
    assert PersonalAccount.objects.count() == 0
