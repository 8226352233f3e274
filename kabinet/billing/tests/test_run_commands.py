"""The console commands and Celery tasks of the billing run."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kabinet.billing.models import BillingRun, LedgerAccount, LedgerTransfer, PersonalAccount, Subscription
from kabinet.billing.tasks import billing_run_dispatch
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory, TariffFactory
from kabinet.billing.verify import ledger_verify

pytestmark = pytest.mark.django_db


def test_billing_run_command_prints_the_summary() -> None:
    # given
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    for _ in range(3):
        SubscriptionFactory.create(
            personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=1000),
            tariff=tariff,
        )
    out = io.StringIO()
    # when
    call_command("billing", "run", "--date", "2026-11-25", stdout=out)
    # then
    text = out.getvalue()
    assert "Биллинг за 25.11.2026: завершён" in text
    assert "лицевых счетов списано: 3" in text
    assert "списаний: 3" in text
    assert "сумма: 24\u00a0₽" in text
    assert "заблокировано за неуплату: 0" in text
    run = BillingRun.objects.get()
    assert (run.status, run.charges_count, run.total_kopecks, run.accounts_count) == ("finished", 3, 2400, 3)
    assert run.finished_at is not None


def test_billing_run_command_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="ГГГГ-ММ-ДД"):
        call_command("billing", "run", "--date", "25.11.2026", stdout=io.StringIO())
    assert BillingRun.objects.count() == 0


def test_ledger_verify_passes_on_a_consistent_ledger() -> None:
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    SubscriptionFactory.create(
        personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=5000),
        tariff=tariff,
    )
    call_command("billing", "run", "--date", "2026-11-25", stdout=io.StringIO())
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "расхождений: 0" in out.getvalue()
    assert "Журнал сходится." in out.getvalue()


def test_ledger_verify_reports_a_tampered_balance_and_fails() -> None:
    # given: a cached balance changed behind the ledger's back
    account = PersonalAccountFactory.create(balance_kopecks=5000)
    LedgerAccount.objects.filter(pk=account.ledger_account_id).update(balance_kopecks=4000)
    out = io.StringIO()
    # when / then
    with pytest.raises(CommandError, match="1 балансов не совпадают"):
        call_command("ledger", "verify", stdout=out)
    assert f"pa:{account.number}: в кэше 4000 коп., по проводкам 5000 коп. (разница -1000)" in out.getvalue()
    report = ledger_verify()
    assert (report.ok, report.mismatch_count, report.total_kopecks) == (False, 1, -1000)


def test_bench_data_creates_a_consistent_synthetic_operator() -> None:
    # when
    call_command("bench_data", "--accounts", "300", "--seed", "7", stdout=io.StringIO())
    # then
    assert PersonalAccount.objects.count() == 300
    subs = Subscription.objects.count()
    assert 300 < subs < 600
    assert PersonalAccount.objects.exclude(status="active").exists()
    assert set(Subscription.objects.values_list("period", flat=True)) == {"day", "month"}
    assert ledger_verify().ok
    # and: it bills like real data
    call_command("billing", "run", "--date", "2026-12-01", stdout=io.StringIO())
    assert ledger_verify().ok
    assert LedgerTransfer.objects.filter(kind="charge").count() > 0


def test_bench_data_hyphenated_command_name() -> None:
    call_command("bench-data", "--accounts", "5", stdout=io.StringIO())
    assert PersonalAccount.objects.count() == 5


def test_dispatch_in_the_embedded_default_runs_the_chunks_eagerly(settings) -> None:
    settings.BILLING_CHUNK_SIZE = 1
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    for _ in range(3):
        SubscriptionFactory.create(
            personal_account=PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=1000),
            tariff=tariff,
        )
    run = billing_run_dispatch(run_date=dt.date(2026, 11, 25))
    run.refresh_from_db()
    assert (run.status, run.charges_count, run.chunks_done, run.triggered_by) == ("finished", 3, 3, "celery")


def test_nightly_run_is_in_the_beat_schedule() -> None:
    from config.celery import app

    entry = app.conf.beat_schedule["billing-run-daily"]
    assert entry["task"] == "kabinet.billing.tasks.billing_run_daily"
    assert entry["schedule"].hour == {0}
    assert entry["schedule"].minute == {30}
    assert entry["options"] == {"queue": "billing"}
