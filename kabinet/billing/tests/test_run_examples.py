"""Worked examples of the billing run (see docs/billing.md for the rules)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kabinet.billing.models import (
    BillingRun,
    BillingRunChunk,
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    Subscription,
)
from kabinet.billing.run import billing_run
from kabinet.billing.services import personal_account_set_status, personal_account_unblock_if_paid
from kabinet.billing.tests.factories import (
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    SubscriptionOptionFactory,
    TariffFactory,
    personal_account_fund,
)
from kabinet.catalog.models import PriceVersion
from kabinet.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def revenue(kind: str = "internet") -> int:
    return LedgerAccount.objects.get(code=f"revenue:{kind}").balance_kopecks


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_a_month_of_daily_fees() -> None:
    # given: a mobile tariff at 8 ₽ a day on an account with 300 ₽
    tariff = TariffFactory.create(name="Мобильный 8", service_kind="mobile", period="day", price_kopecks=800)
    account = PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=30000)
    sub = SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    # when: every day of November is billed
    for day in days(dt.date(2026, 11, 1), dt.date(2026, 11, 30)):
        billing_run(run_date=day)
    # then: 30 charges of 8 ₽, one per day, with plain descriptions
    charges = LedgerTransfer.objects.filter(subscription=sub, kind="charge").order_by("value_date")
    assert charges.count() == 30
    assert {c.amount_kopecks for c in charges} == {800}
    assert charges[0].key == f"charge:{sub.pk}:2026-11-01"
    assert charges[24].description == "Абонентская плата по тарифу «Мобильный 8» за 25.11.2026"
    assert balance(account) == 30000 - 30 * 800
    assert revenue("mobile") == 30 * 800
    assert BillingRun.objects.filter(status="finished").count() == 30


def test_monthly_fee_on_the_first_and_prorated_on_connect() -> None:
    # given: home internet at 415 ₽ a month; one subscriber since October, one connected on 16 November
    tariff = TariffFactory.create(name="Домашний 100", period="month", price_kopecks=41500)
    old = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(balance_kopecks=100000),
        tariff=tariff,
        started_on=dt.date(2026, 10, 5),
    )
    new = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(balance_kopecks=100000),
        tariff=tariff,
        started_on=dt.date(2026, 11, 16),
    )
    # when: the whole of November is billed
    for day in days(dt.date(2026, 11, 1), dt.date(2026, 11, 30)):
        billing_run(run_date=day)
    # then: the full fee on the first for the old one; 15 of 30 days for the new one, on its connect day
    old_charge = LedgerTransfer.objects.get(subscription=old)
    assert (old_charge.key, old_charge.amount_kopecks) == (f"charge:{old.pk}:2026-11", 41500)
    assert old_charge.value_date == dt.date(2026, 11, 1)
    assert old_charge.description == "Абонентская плата по тарифу «Домашний 100» за ноябрь 2026"
    new_charge = LedgerTransfer.objects.get(subscription=new)
    assert (new_charge.key, new_charge.amount_kopecks) == (f"charge:{new.pk}:2026-11", 41500 * 15 // 30)
    assert new_charge.value_date == dt.date(2026, 11, 16)
    assert new_charge.description == (
        "Абонентская плата по тарифу «Домашний 100» за ноябрь 2026 (с 16.11.2026)"
    )
    assert balance(new.personal_account) == 100000 - 20750
    # and: December is charged in full on the first
    billing_run(run_date=dt.date(2026, 12, 1))
    assert LedgerTransfer.objects.get(key=f"charge:{new.pk}:2026-12").amount_kopecks == 41500


def test_disconnect_mid_month_returns_the_unused_days() -> None:
    # given: 600 ₽ a month, charged on 1 November (30 days), disconnected with 10 November the last day
    tariff = TariffFactory.create(name="Домашний 300", period="month", price_kopecks=60000)
    account = PersonalAccountFactory.create(balance_kopecks=100000)
    sub = SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 10, 1))
    billing_run(run_date=dt.date(2026, 11, 1))
    Subscription.objects.filter(pk=sub.pk).update(status="ended", ended_on=dt.date(2026, 11, 10))
    # when
    for day in days(dt.date(2026, 11, 2), dt.date(2026, 12, 1)):
        billing_run(run_date=day)
    # then: 20 unused days of 30 come back the next day; nothing is charged for December
    refund = LedgerTransfer.objects.get(key=f"refund:{sub.pk}:2026-11")
    assert refund.amount_kopecks == 60000 * 20 // 30
    assert refund.value_date == dt.date(2026, 11, 11)
    assert refund.kind == "reversal"
    assert refund.description == (
        "Перерасчёт абонентской платы по тарифу «Домашний 300» за ноябрь 2026: не использовано с 11.11.2026"
    )
    assert balance(account) == 100000 - 60000 + 40000
    assert not LedgerTransfer.objects.filter(key=f"charge:{sub.pk}:2026-12").exists()
    assert revenue() == 20000


def test_mid_month_tariff_change_as_end_and_new_subscription() -> None:
    # given: 400 ₽ a month until 10 November, then 700 ₽ a month from 11 November (30-day month)
    cheap = TariffFactory.create(name="Домашний 100", period="month", price_kopecks=40000)
    fast = TariffFactory.create(name="Домашний 500", period="month", price_kopecks=70000)
    account = PersonalAccountFactory.create(balance_kopecks=200000)
    old = SubscriptionFactory.create(personal_account=account, tariff=cheap, started_on=dt.date(2026, 9, 1))
    billing_run(run_date=dt.date(2026, 11, 1))
    Subscription.objects.filter(pk=old.pk).update(status="ended", ended_on=dt.date(2026, 11, 10))
    new = SubscriptionFactory.create(personal_account=account, tariff=fast, started_on=dt.date(2026, 11, 11))
    # when
    for day in days(dt.date(2026, 11, 2), dt.date(2026, 11, 30)):
        billing_run(run_date=day)
    # then: 10 days of the old price and 20 days of the new one
    assert LedgerTransfer.objects.get(key=f"refund:{old.pk}:2026-11").amount_kopecks == 40000 * 20 // 30
    assert LedgerTransfer.objects.get(key=f"charge:{new.pk}:2026-11").amount_kopecks == 70000 * 20 // 30
    assert balance(account) == 200000 - 40000 + 26666 - 46666


def test_scheduled_tariff_change_applies_on_the_first() -> None:
    # given: a change to a dearer tariff scheduled from 1 December
    cheap = TariffFactory.create(name="Домашний 100", period="month", price_kopecks=41500)
    fast = TariffFactory.create(name="Домашний 500", period="month", price_kopecks=69000)
    sub = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(balance_kopecks=200000),
        tariff=cheap,
        started_on=dt.date(2026, 10, 1),
    )
    Subscription.objects.filter(pk=sub.pk).update(next_tariff=fast, next_tariff_from=dt.date(2026, 12, 1))
    # when
    billing_run(run_date=dt.date(2026, 11, 1))
    billing_run(run_date=dt.date(2026, 11, 30))
    billing_run(run_date=dt.date(2026, 12, 1))
    # then: November on the old tariff, December on the new one, the schedule is cleared
    sub.refresh_from_db()
    assert (sub.tariff_id, sub.price_kopecks, sub.next_tariff_id, sub.next_tariff_from) == (
        fast.pk,
        69000,
        None,
        None,
    )
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11").amount_kopecks == 41500
    december = LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-12")
    assert december.amount_kopecks == 69000
    assert december.description == "Абонентская плата по тарифу «Домашний 500» за декабрь 2026"


def test_daily_to_monthly_scheduled_change_switches_the_period() -> None:
    daily = TariffFactory.create(period="day", price_kopecks=1000, service_kind="mobile")
    monthly = TariffFactory.create(period="month", price_kopecks=30000, service_kind="mobile")
    sub = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=100000),
        tariff=daily,
        started_on=dt.date(2026, 11, 1),
    )
    Subscription.objects.filter(pk=sub.pk).update(next_tariff=monthly, next_tariff_from=dt.date(2026, 12, 1))
    billing_run(run_date=dt.date(2026, 11, 30))
    billing_run(run_date=dt.date(2026, 12, 1))
    billing_run(run_date=dt.date(2026, 12, 2))
    assert sorted(LedgerTransfer.objects.filter(subscription=sub).values_list("key", "amount_kopecks")) == [
        (f"charge:{sub.pk}:2026-11-30", 1000),
        (f"charge:{sub.pk}:2026-12", 30000),
    ]


def test_new_price_version_refreshes_the_snapshot_when_it_takes_effect() -> None:
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    sub = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=100000),
        tariff=tariff,
        started_on=dt.date(2026, 11, 1),
    )
    PriceVersion.objects.create(tariff=tariff, price_kopecks=900, effective_from=dt.date(2026, 11, 20))
    billing_run(run_date=dt.date(2026, 11, 19))
    billing_run(run_date=dt.date(2026, 11, 20))
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11-19").amount_kopecks == 800
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11-20").amount_kopecks == 900
    sub.refresh_from_db()
    assert sub.price_kopecks == 900


def test_debtor_is_blocked_and_unblocked_after_payment() -> None:
    # given: 20 ₽ left, 8 ₽ a day, a credit limit of 5 ₽
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    account = PersonalAccountFactory.create(
        service_kind="mobile", balance_kopecks=2000, credit_limit_kopecks=500
    )
    sub = SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    # when: four days are billed
    results = [billing_run(run_date=day) for day in days(dt.date(2026, 11, 1), dt.date(2026, 11, 4))]
    # then: after day 3 the balance is -4 ₽, within the 5 ₽ limit; day 4 takes it to -12 ₽ and blocks
    account.refresh_from_db()
    sub.refresh_from_db()
    assert [r.blocked for r in results] == [0, 0, 0, 1]
    assert account.status == PersonalAccount.Status.BLOCKED_DEBT
    assert account.status_reason == "Недостаточно средств: баланс ниже кредитного лимита"
    assert sub.status == Subscription.Status.SUSPENDED
    assert balance(account) == 2000 - 4 * 800
    assert (
        AuditEvent.objects.filter(
            action="personal_account.status", target_id=str(account.pk), new={"status": "blocked_debt"}
        ).count()
        == 1
    )
    # and: no fees while blocked
    billing_run(run_date=dt.date(2026, 11, 5))
    assert balance(account) == 2000 - 4 * 800
    # when: a payment brings the balance back
    personal_account_fund(personal_account=account, amount_kopecks=5000)
    assert personal_account_unblock_if_paid(personal_account=account) is True
    # then: service and charging resume
    account.refresh_from_db()
    sub.refresh_from_db()
    assert (account.status, sub.status) == ("active", "active")
    billing_run(run_date=dt.date(2026, 11, 6))
    assert LedgerTransfer.objects.filter(subscription=sub, kind="charge").count() == 5


def test_unblock_refused_while_still_below_the_limit() -> None:
    account = PersonalAccountFactory.create(balance_kopecks=-1000, status="blocked_debt")
    assert personal_account_unblock_if_paid(personal_account=account) is False
    account.refresh_from_db()
    assert account.status == "blocked_debt"


def test_voluntary_block_account_pays_no_tariff_fee() -> None:
    # given: the block fee is the subscriptions domain's job (the default)
    tariff = TariffFactory.create(
        period="day", price_kopecks=800, service_kind="mobile", voluntary_block_fee_kopecks=100
    )
    account = PersonalAccountFactory.create(
        service_kind="mobile", balance_kopecks=10000, status="blocked_voluntary"
    )
    SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    # when
    billing_run(run_date=dt.date(2026, 11, 2))
    # then
    assert balance(account) == 10000
    assert LedgerTransfer.objects.filter(kind="charge").count() == 0


def test_voluntary_block_fee_charged_by_the_run_when_configured(settings) -> None:
    settings.BILLING_RUN_VOLUNTARY_BLOCK_FEE = True
    tariff = TariffFactory.create(
        name="Мобильный 8",
        period="day",
        price_kopecks=800,
        service_kind="mobile",
        voluntary_block_fee_kopecks=100,
    )
    account = PersonalAccountFactory.create(
        service_kind="mobile", balance_kopecks=10000, status="blocked_voluntary"
    )
    sub = SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    billing_run(run_date=dt.date(2026, 11, 2))
    transfer = LedgerTransfer.objects.get(subscription=sub)
    assert (transfer.key, transfer.amount_kopecks) == (f"charge:block:{sub.pk}:2026-11-02", 100)
    assert transfer.description == "Плата за добровольную блокировку по тарифу «Мобильный 8» за 02.11.2026"
    assert balance(account) == 9900


def test_options_are_billed_like_tariffs() -> None:
    tariff = TariffFactory.create(period="month", price_kopecks=41500)
    account = PersonalAccountFactory.create(balance_kopecks=100000)
    sub = SubscriptionFactory.create(personal_account=account, tariff=tariff, started_on=dt.date(2026, 10, 1))
    monthly = SubscriptionOptionFactory.create(
        subscription=sub,
        option=OptionFactory.create(name="Статический IP", price_kopecks=15000),
        started_on=dt.date(2026, 11, 11),
    )
    daily = SubscriptionOptionFactory.create(
        subscription=sub,
        option=OptionFactory.create(name="Турбо", period="day", price_kopecks=300),
        started_on=dt.date(2026, 11, 1),
    )
    for day in days(dt.date(2026, 11, 1), dt.date(2026, 11, 12)):
        billing_run(run_date=day)
    assert (
        LedgerTransfer.objects.get(key=f"charge:opt:{monthly.pk}:2026-11").amount_kopecks == 15000 * 20 // 30
    )
    assert LedgerTransfer.objects.filter(key__startswith=f"charge:opt:{daily.pk}:").count() == 12
    assert balance(account) == 100000 - 41500 - 10000 - 12 * 300


def test_replaying_a_date_moves_nothing_and_skips_every_chunk(settings) -> None:
    settings.BILLING_CHUNK_SIZE = 2
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    for _ in range(5):
        SubscriptionFactory.create(
            personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=10000),
            tariff=tariff,
            started_on=dt.date(2026, 11, 1),
        )
    first = billing_run(run_date=dt.date(2026, 11, 3))
    transfers = LedgerTransfer.objects.count()
    balances = list(LedgerAccount.objects.order_by("pk").values_list("balance_kopecks", flat=True))
    # when
    again = billing_run(run_date=dt.date(2026, 11, 3))
    # then
    assert first.charges == 5
    assert (again.charges, again.total_kopecks, again.chunks_skipped) == (0, 0, again.chunks)
    assert LedgerTransfer.objects.count() == transfers
    assert list(LedgerAccount.objects.order_by("pk").values_list("balance_kopecks", flat=True)) == balances
    assert BillingRunChunk.objects.filter(run_date=dt.date(2026, 11, 3)).count() == first.chunks


def test_a_run_failing_midway_and_rerun_charges_each_subscription_once(settings) -> None:
    settings.BILLING_CHUNK_SIZE = 1
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    subs = [
        SubscriptionFactory.create(
            personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=10000),
            tariff=tariff,
            started_on=dt.date(2026, 11, 1),
        )
        for _ in range(4)
    ]
    with pytest.raises(RuntimeError):
        billing_run(run_date=dt.date(2026, 11, 3), fail_after_chunks=2)
    assert BillingRun.objects.get().status == "failed"
    assert LedgerTransfer.objects.filter(kind="charge").count() == 2
    # when
    rerun = billing_run(run_date=dt.date(2026, 11, 3))
    # then
    assert rerun.charges == 2
    for sub in subs:
        assert LedgerTransfer.objects.filter(subscription=sub, kind="charge").count() == 1


def test_monthly_fee_is_not_charged_mid_month_without_a_reason() -> None:
    # given: a subscriber since October whose November fee was not charged on the 1st (no run that day)
    tariff = TariffFactory.create(period="month", price_kopecks=41500)
    sub = SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(balance_kopecks=100000),
        tariff=tariff,
        started_on=dt.date(2026, 10, 1),
    )
    # when
    billing_run(run_date=dt.date(2026, 11, 15))
    # then: only the run of the 1st (or a connection, or a resumption this month) charges the month
    assert not LedgerTransfer.objects.filter(subscription=sub).exists()


def test_account_unblocked_mid_month_pays_the_rest_of_the_month() -> None:
    # given: blocked for debt since October, so nothing was charged on 1 November
    tariff = TariffFactory.create(name="Домашний 100", period="month", price_kopecks=60000)
    with time_machine.travel(dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)):
        account = PersonalAccountFactory.create(balance_kopecks=-5000)
        sub = SubscriptionFactory.create(
            personal_account=account, tariff=tariff, started_on=dt.date(2026, 9, 1)
        )
        personal_account_set_status(personal_account=account, status="blocked_debt", reason="долг")
    billing_run(run_date=dt.date(2026, 11, 1))
    assert not LedgerTransfer.objects.filter(subscription=sub).exists()
    # when: a payment on 11 November restores service, and the run of that day comes
    with time_machine.travel(dt.datetime(2026, 11, 11, 9, 0, tzinfo=dt.UTC)):
        personal_account_fund(personal_account=account, amount_kopecks=50000)
        assert personal_account_unblock_if_paid(personal_account=account) is True
    billing_run(run_date=dt.date(2026, 11, 11))
    billing_run(run_date=dt.date(2026, 11, 12))
    # then: 20 of 30 days, once
    charge = LedgerTransfer.objects.get(subscription=sub)
    assert (charge.key, charge.amount_kopecks, charge.value_date) == (
        f"charge:{sub.pk}:2026-11",
        60000 * 20 // 30,
        dt.date(2026, 11, 11),
    )
    assert charge.description == "Абонентская плата по тарифу «Домашний 100» за ноябрь 2026 (с 11.11.2026)"
