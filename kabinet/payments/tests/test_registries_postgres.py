"""Bank registries on PostgreSQL: the same file imported by several processes at once credits once; a
chunk that deadlocks with a concurrent writer is retried."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.payments.models import Payment, RegistryImport
from kabinet.payments.registries import registry_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_four_concurrent_imports_of_one_file_credit_each_line_once() -> None:
    # given 300 lines over 30 accounts
    accounts: list[PersonalAccount] = [PersonalAccountFactory() for _ in range(30)]  # type: ignore[misc]
    rows = ["bank;date;transaction_id;account;amount;payer"]
    rows += [f"Сбербанк;25.11.2026;P{i};{accounts[i % 30].number};{i + 1};Х" for i in range(300)]
    data = ("\n".join(rows) + "\n").encode()
    barrier = threading.Barrier(4)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            summary = registry_import(data=data, file_name="same.csv", chunk_size=50)
            with lock:
                results.append((summary.credited, summary.duplicates, summary.to_review))
        except Exception as exc:  # asserted below
            with lock:
                results.append(f"error: {exc!r}")
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert not [r for r in results if isinstance(r, str)], results
    assert sum(r[0] for r in results) == 300  # type: ignore[index]
    assert all(r[0] + r[1] == 300 and r[2] == 0 for r in results)  # type: ignore[index]
    assert Payment.objects.filter(method="bank_registry").count() == 300
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 300
    expected = sum(range(1, 301)) * 100
    assert (
        sum(LedgerAccount.objects.get(pk=a.ledger_account_id).balance_kopecks for a in accounts) == expected
    )
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0


def test_chunk_that_deadlocks_with_a_concurrent_writer_is_retried_and_credits_once() -> None:
    # given two accounts and a registry crediting both (one chunk locks their ledger rows in pk order)
    first: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    second: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    data = (
        "bank;date;transaction_id;account;amount;payer\n"
        f"Сбербанк;25.11.2026;DL1;{first.number};100;Х\n"
        f"Сбербанк;25.11.2026;DL2;{second.number};200;Х\n"
    ).encode()
    low, high = sorted([first.ledger_account_id, second.ledger_account_id])
    holds_high = threading.Event()
    errors: list[str] = []

    def other_writer() -> None:
        # Locks the same two ledger rows in the opposite order (as a writer that does not follow the
        # pk order would); it never detects the deadlock itself (long deadlock_timeout), so PostgreSQL
        # aborts the registry's chunk.
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '30s'")
                cursor.execute("SELECT id FROM billing_ledgeraccount WHERE id = %s FOR UPDATE", [high])
                holds_high.set()
                for _ in range(500):  # until the import waits for our row (blocked by this backend)
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                    )
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.01)
                else:
                    errors.append("the import never waited")
                cursor.execute("SELECT id FROM billing_ledgeraccount WHERE id = %s FOR UPDATE", [low])
                cursor.execute(
                    "UPDATE billing_ledgeraccount SET balance_kopecks = balance_kopecks WHERE id IN (%s, %s)",
                    [low, high],
                )
        except Exception as exc:  # asserted below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holds_high.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '200ms'")
    try:
        # when
        summary = registry_import(data=data, file_name="deadlock.csv")
    finally:
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET deadlock_timeout")
    # then the chunk met the deadlock, was retried once and credited each line once
    assert errors == []
    record = RegistryImport.objects.get(pk=summary.registry_import.pk)
    assert (record.status, record.chunk_retries) == ("done", 1)
    assert (summary.credited, summary.duplicates, summary.to_review) == (2, 0, 0)
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 2
    assert LedgerAccount.objects.get(pk=first.ledger_account_id).balance_kopecks == 10000
    assert LedgerAccount.objects.get(pk=second.ledger_account_id).balance_kopecks == 20000
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0
