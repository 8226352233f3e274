"""The billing run together with the subscriptions services: money moves once, whoever moves it first."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.billing.run import billing_run
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory, TariffFactory
from kabinet.billing.verify import ledger_verify
from kabinet.subscriptions.services import subscription_change_tariff

pytestmark = pytest.mark.django_db


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_tariff_change_now_mid_month_then_the_run_charges_nothing_twice() -> None:
    # given: 400 ₽ a month since September, billed on 1 November; 700 ₽ a month allowed as a change
    cheap = TariffFactory.create(name="Домашний 100", period="month", price_kopecks=40000)
    fast = TariffFactory.create(name="Домашний 500", period="month", price_kopecks=70000)
    cheap.switchable_to.add(fast)
    account = PersonalAccountFactory.create(balance_kopecks=200000)
    old = SubscriptionFactory.create(personal_account=account, tariff=cheap, started_on=dt.date(2026, 9, 1))
    billing_run(run_date=dt.date(2026, 11, 1))
    # when: the subscriber switches on 11 November (Moscow), and the runs go on to 1 December
    with time_machine.travel(dt.datetime(2026, 11, 11, 9, 0, tzinfo=dt.UTC)):
        new = subscription_change_tariff(
            actor=None,
            subscription=old,
            new_tariff=fast,
            when="now",
            consent_given=True,
            consent_text="Согласен со сменой тарифа",
        )
    for day in days(dt.date(2026, 11, 11), dt.date(2026, 12, 1)):
        billing_run(run_date=day)
    # then: November is 10 days of the old price and 20 of the new one, each transfer once
    old_moves = sorted(LedgerTransfer.objects.filter(subscription=old).values_list("key", "amount_kopecks"))
    assert old_moves == [(f"charge:{old.pk}:2026-11", 40000), (f"refund:{old.pk}:2026-11", 40000 * 20 // 30)]
    new_moves = sorted(LedgerTransfer.objects.filter(subscription=new).values_list("key", "amount_kopecks"))
    assert new_moves == [(f"charge:{new.pk}:2026-11", 70000 * 20 // 30), (f"charge:{new.pk}:2026-12", 70000)]
    balance = LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks
    assert balance == 200000 - 40000 + 26666 - 46666 - 70000
    assert ledger_verify().ok
