"""The services charge and refund under the billing run's own keys and rules, so running the billing
run afterwards moves no money twice (docs/services.md, docs/billing.md)."""

import datetime as dt

import pytest

from kabinet.billing.models import LedgerTransfer, PersonalAccount
from kabinet.billing.run import billing_run
from kabinet.subscriptions.models import VoluntaryBlock
from kabinet.subscriptions.services import (
    NOW,
    subscription_change_tariff,
    subscription_connect,
    subscription_disconnect,
    subscription_option_enable,
    voluntary_block_start,
    voluntary_blocks_process,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_option, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


def test_connect_mid_month_then_run_charges_once(subscriber, travel) -> None:
    # given
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 25))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    # when
    billing_run(run_date=dt.date(2026, 11, 25))
    billing_run(run_date=dt.date(2026, 11, 26))
    # then: 6 of 30 days, rounded down: 415 * 6 / 30 = 83 ₽ exactly
    charges = LedgerTransfer.objects.filter(subscription=sub, kind="charge")
    assert [(c.key, c.amount_kopecks) for c in charges] == [(f"charge:{sub.pk}:2026-11", 8300)]
    assert balance(account) == 100000 - 8300


def test_change_now_then_run_refunds_once(subscriber, travel) -> None:
    # given
    basic = make_tariff(name="Домашний 100", price_kopecks=41500)
    fast = make_tariff(name="Домашний 300", price_kopecks=59000)
    basic.switchable_to.set([fast])
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=basic, consent_given=True, consent_text="Да"
    )
    billing_run(run_date=dt.date(2026, 11, 1))
    travel(dt.date(2026, 11, 20))
    billing_run(run_date=dt.date(2026, 11, 20))
    # when
    new_sub = subscription_change_tariff(
        actor=subscriber, subscription=sub, new_tariff=fast, when=NOW, consent_given=True, consent_text="Да"
    )
    after_change = balance(account)
    for day in (20, 21, 22):
        billing_run(run_date=dt.date(2026, 11, day))
    # then
    assert after_change == 100000 - 41500 + 15216 - 21633
    assert balance(account) == after_change
    assert LedgerTransfer.objects.filter(key__startswith=f"refund:{sub.pk}:").count() == 1
    assert LedgerTransfer.objects.filter(key__startswith=f"charge:{new_sub.pk}:").count() == 1


def test_disconnect_then_run_refunds_once(subscriber, travel) -> None:
    # given
    tariff = make_tariff(name="Базовый ТВ", service_kind="tv", price_kopecks=11900)
    account = account_for(subscriber, service_kind="tv", balance_kopecks=50000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 10))
    # when: the last day of service is the 10th, 20 of 30 days are unused
    subscription_disconnect(actor=subscriber, subscription=sub)
    billing_run(run_date=dt.date(2026, 11, 11))
    billing_run(run_date=dt.date(2026, 12, 1))
    # then: 119 * 20 / 30 = 79.3333 -> 79.33
    refund = LedgerTransfer.objects.get(key=f"refund:{sub.pk}:2026-11")
    assert refund.amount_kopecks == 7933
    assert balance(account) == 50000 - 11900 + 7933
    assert LedgerTransfer.objects.filter(key__startswith=f"refund:{sub.pk}:").count() == 1


def test_monthly_option_enabled_mid_month_is_charged_once(subscriber, travel) -> None:
    # given
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 16))
    # when
    so = subscription_option_enable(
        actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Да"
    )
    billing_run(run_date=dt.date(2026, 11, 16))
    billing_run(run_date=dt.date(2026, 11, 17))
    # then: 15 of 30 days = 75 ₽
    assert [
        (t.key, t.amount_kopecks)
        for t in LedgerTransfer.objects.filter(key__startswith=f"charge:opt:{so.pk}:")
    ] == [(f"charge:opt:{so.pk}:2026-11", 7500)]


def test_voluntary_block_with_fee_and_its_expiry_before_the_run(subscriber, travel) -> None:
    # given: a daily mobile tariff with a 1 ₽/day block fee
    tariff = make_tariff(
        name="Летай Базовый",
        service_kind="mobile",
        period="day",
        price_kopecks=800,
        voluntary_block_fee_kopecks=100,
    )
    account = account_for(subscriber, service_kind="mobile", balance_kopecks=10000)
    travel(dt.date(2026, 11, 20))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    # when: a 3-day block from the 20th (the 20th, 21st and 22nd), then each night: expiry, then the run
    block = voluntary_block_start(
        actor=subscriber, personal_account=account, days=3, consent_given=True, consent_text="Да"
    )
    for day in (21, 22, 23, 24):
        travel(dt.date(2026, 11, day))
        voluntary_blocks_process()
        billing_run(run_date=dt.date(2026, 11, day))
    # then: the fee on the 20th, block fees on the 21st and 22nd, normal fees from the 23rd
    block.refresh_from_db()
    assert block.status == VoluntaryBlock.Status.ENDED
    assert block.ended_on == dt.date(2026, 11, 23)
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    keys = [k for k in transfer_keys() if not k.startswith("test-funding")]
    assert keys == [
        f"charge:{sub.pk}:2026-11-20",
        f"charge:{sub.pk}:2026-11-23",
        f"charge:{sub.pk}:2026-11-24",
        f"vblock-fee:{block.pk}:2026-11-21",
        f"vblock-fee:{block.pk}:2026-11-22",
    ]
    assert balance(account) == 10000 - 3 * 800 - 2 * 100
