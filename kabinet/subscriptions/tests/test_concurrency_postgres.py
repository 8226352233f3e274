"""Concurrent requests on PostgreSQL: eligibility is checked and written under the account lock, so
eight simultaneous attempts succeed once and move money once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from kabinet.billing.models import LedgerTransfer, PersonalAccount, Subscription
from kabinet.billing.tests.factories import SubscriptionFactory
from kabinet.core.exceptions import DomainError
from kabinet.subscriptions.models import ConsentRecord, PromisedPayment, PromisedPaymentRule, VoluntaryBlock
from kabinet.subscriptions.services import (
    NOW,
    promised_payment_take,
    subscription_change_tariff,
    subscription_connect,
    voluntary_block_start,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_tariff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def _concurrently(call: Callable[[], object], n: int = 8) -> list[str]:
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            call()
            outcome = "ok"
        except DomainError as exc:
            outcome = exc.code
        except Exception as exc:  # collected and asserted below
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_eight_promised_payments_at_once_give_one(subscriber, travel) -> None:
    # given
    PromisedPaymentRule.objects.create(
        name="Обещанный платёж",
        max_amount_kopecks=50000,
        term_days=5,
        interval_days=30,
        min_account_age_days=0,
    )
    account = account_for(subscriber, service_kind="internet")
    SubscriptionFactory(personal_account=account, tariff=make_tariff(), started_on=dt.date(2026, 10, 1))
    travel(dt.date(2026, 11, 10))
    # when
    results = _concurrently(
        lambda: promised_payment_take(
            actor=subscriber, personal_account=account, consent_given=True, consent_text="Да"
        )
    )
    # then
    assert results == ["ok"] + ["promised_payment_refused"] * 7
    assert PromisedPayment.objects.count() == 1
    assert LedgerTransfer.objects.filter(key__startswith="promised:").count() == 1
    assert ConsentRecord.objects.count() == 1
    assert balance(account) == 50000


def test_eight_tariff_changes_at_once_change_once(subscriber, travel) -> None:
    # given
    basic = make_tariff(name="Домашний 100", price_kopecks=41500)
    fast = make_tariff(name="Домашний 300", price_kopecks=59000)
    basic.switchable_to.set([fast])
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=basic, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 20))
    # when
    results = _concurrently(
        lambda: subscription_change_tariff(
            actor=subscriber,
            subscription=sub,
            new_tariff=fast,
            when=NOW,
            consent_given=True,
            consent_text="Да",
        )
    )
    # then
    assert results == ["ok"] + ["subscription_not_active"] * 7
    assert Subscription.objects.filter(personal_account=account, status="active").count() == 1
    assert balance(account) == 100000 - 41500 + 15216 - 21633


def test_eight_voluntary_blocks_at_once_start_one(subscriber, travel) -> None:
    # given
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    subscription_connect(
        actor=subscriber,
        personal_account=account,
        tariff=make_tariff(),
        consent_given=True,
        consent_text="Да",
    )
    # when
    results = _concurrently(
        lambda: voluntary_block_start(actor=subscriber, personal_account=account, days=10)
    )
    # then
    assert results == ["ok"] + ["voluntary_block_refused"] * 7
    assert VoluntaryBlock.objects.count() == 1
    assert PersonalAccount.objects.get(pk=account.pk).status == PersonalAccount.Status.BLOCKED_VOLUNTARY
