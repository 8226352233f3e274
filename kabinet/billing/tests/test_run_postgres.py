"""PostgreSQL-only: the billing run under concurrency, killed midway and replayed.

Transactional tests (real commits), so a subprocess and threads see the same data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from kabinet.billing.models import BillingRunChunk, LedgerAccount, LedgerTransfer
from kabinet.billing.run import billing_run
from kabinet.billing.services import ADJUSTMENTS, ledger_account_system, ledger_transfer_post
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory, TariffFactory
from kabinet.billing.verify import ledger_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")


def _daily_accounts(count: int, *, balance: int = 100000) -> list:
    tariff = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
    subs = []
    for _ in range(count):
        account = PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=balance)
        subs.append(SubscriptionFactory.create(personal_account=account, tariff=tariff))
    return subs


def _balance(ledger_account_id: int) -> int:
    return LedgerAccount.objects.get(pk=ledger_account_id).balance_kopecks


def test_concurrent_run_and_adjustments_lose_nothing(settings) -> None:
    # given: 40 accounts billed one per chunk while staff credits the same accounts at the same time
    settings.BILLING_CHUNK_SIZE = 1
    subs = _daily_accounts(40)
    ledgers = [sub.personal_account.ledger_account for sub in subs]
    adjustments = ledger_account_system(code=ADJUSTMENTS)
    errors: list[BaseException] = []

    def adjust() -> None:
        try:
            for round_ in range(3):
                for index, ledger in enumerate(ledgers):
                    ledger_transfer_post(
                        key=f"concurrent-adj:{round_}:{index}",
                        debit=adjustments,
                        credit=ledger,
                        amount_kopecks=100,
                        kind="adjustment",
                        value_date=DAY,
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=adjust)
    # when
    thread.start()
    summary = billing_run(run_date=DAY, workers=2)
    thread.join()
    # then
    assert errors == []
    assert summary.charges == 40
    for ledger in ledgers:
        assert _balance(ledger.pk) == 100000 - 800 + 3 * 100
    report = ledger_verify()
    assert (report.mismatch_count, report.total_kopecks) == (0, 0)


def test_two_runs_of_the_same_date_at_once_charge_each_subscription_once(settings) -> None:
    settings.BILLING_CHUNK_SIZE = 2
    subs = _daily_accounts(30)
    results = []

    def run() -> None:
        results.append(billing_run(run_date=DAY, workers=2))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.charges for r in results) == 30
    assert sum(r.chunks_skipped for r in results) == results[0].chunks
    for sub in subs:
        assert LedgerTransfer.objects.filter(subscription=sub, kind="charge").count() == 1
    assert ledger_verify().ok


def test_a_run_killed_midway_and_rerun_charges_each_subscription_once(settings) -> None:
    # given: 150 accounts, one per chunk, billed by a separate process
    subs = _daily_accounts(150)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "BILLING_CHUNK_SIZE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    kabinet = Path(sys.executable).parent / "kabinet"
    proc = subprocess.Popen(
        [str(kabinet), "billing", "run", "--date", DAY.isoformat(), "--in-process", "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # when: it is killed (SIGKILL) once a few chunks are done
    deadline = time.monotonic() + 120
    while BillingRunChunk.objects.filter(run_date=DAY).count() < 5:
        assert proc.poll() is None, "the run finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = BillingRunChunk.objects.filter(run_date=DAY).count()
    charged_before = LedgerTransfer.objects.filter(kind="charge").count()
    assert 5 <= done_before < 150
    # every finished chunk is whole: its charge is there, and nothing else is
    assert charged_before == done_before
    assert ledger_verify().ok
    # and: the date is run again with the same chunks
    settings.BILLING_CHUNK_SIZE = 1
    summary = billing_run(run_date=DAY)
    # then
    assert summary.charges == 150 - charged_before
    assert summary.chunks_skipped == done_before
    for sub in subs:
        assert LedgerTransfer.objects.filter(subscription=sub, kind="charge").count() == 1
    assert ledger_verify().ok


def test_replaying_a_run_moves_nothing(settings) -> None:
    settings.BILLING_CHUNK_SIZE = 3
    _daily_accounts(10)
    billing_run(run_date=DAY)
    balances = dict(LedgerAccount.objects.values_list("pk", "balance_kopecks"))
    transfers = LedgerTransfer.objects.count()
    # when: the same date is run again, and once more with the markers gone (transfers decide alone)
    again = billing_run(run_date=DAY)
    BillingRunChunk.objects.filter(run_date=DAY).delete()
    without_markers = billing_run(run_date=DAY)
    # then
    assert (again.charges, without_markers.charges) == (0, 0)
    assert LedgerTransfer.objects.count() == transfers
    assert dict(LedgerAccount.objects.values_list("pk", "balance_kopecks")) == balances


def test_billing_run_dispatches_chunks_to_a_celery_worker_over_redis() -> None:
    # given: a real broker (Redis) and one worker on the `billing` queue
    import redis

    broker = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(broker).ping()
    except redis.RedisError:
        pytest.skip("needs Redis at REDIS_URL")
    subs = _daily_accounts(6)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BILLING_CHUNK_SIZE": "2",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    bin_dir = Path(sys.executable).parent
    worker = subprocess.Popen(
        [
            str(bin_dir / "celery"),
            "-A",
            "config.celery:app",
            "worker",
            "-Q",
            "billing",
            "-P",
            "solo",
            "-n",
            f"billing-test-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # when: the command sends the chunks to the queue and waits for the run to finish
        done = subprocess.run(
            [
                str(bin_dir / "kabinet"),
                "billing",
                "run",
                "--date",
                DAY.isoformat(),
                "--json",
                "--timeout",
                "120",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    # then
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["status"], summary["charges"], summary["chunks_skipped"]) == ("finished", 6, 0)
    for sub in subs:
        assert LedgerTransfer.objects.filter(subscription=sub, kind="charge").count() == 1
    assert ledger_verify().ok
