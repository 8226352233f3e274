"""Bank registries on PostgreSQL: the same file imported by several processes at once credits once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.db.models import Sum

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.payments.models import Payment
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
