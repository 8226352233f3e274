"""Property: a connect, disconnect or tariff change done through the services leaves the account with
exactly the balance the billing run alone would have produced for the same days of service."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kabinet.billing.models import BillingRunChunk, PersonalAccount, Subscription
from kabinet.billing.run import billing_run
from kabinet.billing.tests.factories import SubscriptionFactory
from kabinet.subscriptions.services import (
    NOW,
    subscription_change_tariff,
    subscription_connect,
    subscription_disconnect,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_tariff

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)
FUNDS = 10_000_000


def _at(day: int) -> time_machine.travel:
    return time_machine.travel(dt.datetime(2026, 11, day, 9, 0, tzinfo=dt.UTC), tick=False)


def _run(days: list[dt.date]) -> None:
    for day in sorted(set(days)):
        # Each example is a fresh operator day for its new accounts: forget the done markers that an
        # earlier example's run of the same date left (the run would skip the whole chunk).
        BillingRunChunk.objects.all().delete()
        billing_run(run_date=day)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.integers(min_value=1, max_value=200_000), start=st.integers(1, 30), length=st.integers(0, 29))
def test_connect_and_disconnect_match_the_run(subscriber, price: int, start: int, length: int) -> None:
    end = min(start + length, 30)
    tariff = make_tariff(price_kopecks=price)
    # given: the services way
    ours = account_for(subscriber, service_kind="internet", balance_kopecks=FUNDS)
    with _at(start):
        sub = subscription_connect(
            actor=subscriber, personal_account=ours, tariff=tariff, consent_given=True, consent_text="Да"
        )
    with _at(end):
        subscription_disconnect(actor=subscriber, subscription=sub)
    # and: the run-only way, the same days of service
    theirs: PersonalAccount = account_for(subscriber, service_kind="internet", balance_kopecks=FUNDS)
    only_run: Subscription = SubscriptionFactory(  # type: ignore[assignment]
        personal_account=theirs, tariff=tariff, started_on=NOV.replace(day=start)
    )
    # when
    _run([NOV.replace(day=start)])
    Subscription.objects.filter(pk=only_run.pk).update(status="ended", ended_on=NOV.replace(day=end))
    _run([NOV.replace(day=min(end + 1, 30)), dt.date(2026, 12, 1)])
    # then
    assert balance(ours) == balance(theirs)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old_price=st.integers(min_value=1, max_value=200_000),
    new_price=st.integers(min_value=1, max_value=200_000),
    start=st.integers(1, 29),
    gap=st.integers(1, 29),
)
def test_change_now_matches_the_run(subscriber, old_price: int, new_price: int, start: int, gap: int) -> None:
    change = min(start + gap, 30)
    old, new = make_tariff(price_kopecks=old_price), make_tariff(price_kopecks=new_price)
    old.switchable_to.set([new])
    # given: the services way
    ours = account_for(subscriber, service_kind="internet", balance_kopecks=FUNDS)
    with _at(start):
        sub = subscription_connect(
            actor=subscriber, personal_account=ours, tariff=old, consent_given=True, consent_text="Да"
        )
    with _at(change):
        subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=new,
            when=NOW,
            consent_given=True,
            consent_text="Да",
        )
    # and: the run-only way: the old tariff until the day before, the new one from the change day
    theirs: PersonalAccount = account_for(subscriber, service_kind="internet", balance_kopecks=FUNDS)
    first: Subscription = SubscriptionFactory(  # type: ignore[assignment]
        personal_account=theirs, tariff=old, started_on=NOV.replace(day=start)
    )
    # when
    _run([NOV.replace(day=start)])
    Subscription.objects.filter(pk=first.pk).update(status="ended", ended_on=NOV.replace(day=change - 1))
    SubscriptionFactory(personal_account=theirs, tariff=new, started_on=NOV.replace(day=change))
    _run([NOV.replace(day=change), NOV.replace(day=min(change + 1, 30))])
    # then
    assert balance(ours) == balance(theirs)
