"""Bank registries from the back office: stored, queued and imported by a Celery task; a chunk that meets
a deadlock or serialization failure is retried; a failed chunk leaves nothing half-credited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg.errors
import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.exceptions import DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments import registries
from kabinet.payments.models import Payment, RegistryFile, RegistryImport, RegistryLine
from kabinet.payments.registries import (
    registry_import_requeue,
    registry_import_run,
    registry_upload,
)

pytestmark = pytest.mark.django_db

HEADER = "bank;date;transaction_id;account;amount;payer\n"


def _pa() -> PersonalAccount:
    return PersonalAccountFactory()  # type: ignore[return-value]


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def _file(account: PersonalAccount, n: int, prefix: str = "T") -> bytes:
    rows = [f"Сбербанк;25.11.2026;{prefix}{i};{account.number};{i};Иванов\n" for i in range(1, n + 1)]
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="operator@letai.test", password="x", is_staff=True)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The retry's pause is a constant; the tests need not sleep.
    monkeypatch.setattr(registries, "CHUNK_RETRY_BACKOFF_SECONDS", 0)


@contextmanager
def _ledger_insert_fails(should_fail: Callable[[int], bool], cause: Exception) -> Iterator[list[int]]:
    """The database refuses inserts of ledger transfers (the n-th one, counting from 1, when
    ``should_fail(n)``) the way PostgreSQL reports a deadlock: an OperationalError whose cause carries
    the SQLSTATE. Yields the list of insert numbers that failed."""
    seen = {"inserts": 0}
    failed: list[int] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith('INSERT INTO "BILLING_LEDGERTRANSFER"'):
            seen["inserts"] += 1
            if should_fail(seen["inserts"]):
                failed.append(seen["inserts"])
                raise OperationalError(str(cause)) from cause
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield failed


def test_upload_is_stored_and_queued_then_the_task_imports_it(
    staff, django_capture_on_commit_callbacks
) -> None:
    # given
    account = _pa()
    data = _file(account, 3)
    # when the file is uploaded
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record = registry_upload(data=data, file_name="q.csv", actor=staff)
    # then it waits in the queue with its bytes; nothing is credited yet
    record.refresh_from_db()
    assert (record.status, record.source, record.actor, record.file_size) == (
        "queued",
        "upload",
        staff,
        len(data),
    )
    assert bytes(RegistryFile.objects.get(registry_import=record).data) == data
    assert _balance(account) == 0
    assert AuditEvent.objects.filter(action="payments.registry_upload", target_id=str(record.pk)).count() == 1
    assert len(callbacks) == 1
    # when the task runs (eager here, a worker in production)
    callbacks[0]()
    # then it is imported, the summary kept and the stored file dropped
    record.refresh_from_db()
    assert record.status == "done"
    assert (record.lines_total, record.credited_count, record.credited_kopecks) == (3, 3, 600)
    assert record.started_at is not None and record.finished_at is not None
    assert _balance(account) == 600
    assert not RegistryFile.objects.exists()


def test_reuploading_the_same_file_credits_nothing(staff, django_capture_on_commit_callbacks) -> None:
    account = _pa()
    data = _file(account, 2)
    with django_capture_on_commit_callbacks(execute=True):
        registry_upload(data=data, file_name="a.csv", actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        again = registry_upload(data=data, file_name="a.csv", actor=staff)
    again.refresh_from_db()
    assert (again.status, again.credited_count, again.duplicate_count) == ("done", 0, 2)
    assert _balance(account) == 300
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Файл пуст."),
        ("Сбербанк;25.11.2026;X;1;1;Х\n".encode(), "Первая строка файла должна быть заголовком"),
    ],
)
def test_upload_of_a_bad_file_is_refused_and_records_nothing(staff, data, message) -> None:
    with pytest.raises(DomainError, match=message):
        registry_upload(data=data, file_name="bad.csv", actor=staff)
    assert not RegistryImport.objects.exists()
    assert not RegistryFile.objects.exists()


def test_upload_by_a_subscriber_is_refused(db) -> None:
    user = User.objects.create_user(email="abonent@example.test", password="x")
    with pytest.raises(PermissionDenied):
        registry_upload(data=HEADER.encode(), file_name="x.csv", actor=user)
    assert not RegistryImport.objects.exists()


def test_a_second_delivery_of_the_task_imports_nothing_more(
    staff, django_capture_on_commit_callbacks
) -> None:
    account = _pa()
    with django_capture_on_commit_callbacks(execute=True):
        record = registry_upload(data=_file(account, 2), file_name="t.csv", actor=staff)
    # when the same task is delivered again
    registry_import_run(import_id=record.pk)
    # then
    record.refresh_from_db()
    assert (record.status, record.lines_total, record.credited_count) == ("done", 2, 2)
    assert RegistryLine.objects.count() == 2
    assert _balance(account) == 300


def test_deadlock_on_the_first_attempt_is_retried_and_credits_once(
    staff, django_capture_on_commit_callbacks
) -> None:
    # given 5 lines and a 6th repeating the 1st, imported in chunks of 2
    account = _pa()
    data = _file(account, 5) + f"Сбербанк;25.11.2026;T1;{account.number};1;Иванов\n".encode()
    with django_capture_on_commit_callbacks(execute=False):
        record = registry_upload(data=data, file_name="d.csv", actor=staff)
    # when the database reports a deadlock on the second chunk's ledger insert, once
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    with _ledger_insert_fails(lambda n: n == 2, deadlock) as failed:
        registry_import_run(import_id=record.pk, chunk_size=2)
    # then that chunk was rolled back and run again: every line credited once, none taken for a
    # repeat of itself, and the real repeat still named as one
    assert failed == [2]
    record.refresh_from_db()
    assert (record.status, record.chunk_retries) == ("done", 1)
    assert (record.lines_total, record.credited_count, record.duplicate_count) == (6, 5, 1)
    assert list(RegistryLine.objects.order_by("line_no").values_list("status", flat=True)) == [
        *["credited"] * 5,
        "duplicate",
    ]
    assert RegistryLine.objects.get(line_no=7).reason == "Повтор строки 2 этого файла."
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 5
    assert _balance(account) == 1500
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0


def test_serialization_failure_is_retried_a_bounded_number_of_times_then_the_import_fails(
    staff, django_capture_on_commit_callbacks
) -> None:
    account = _pa()
    with django_capture_on_commit_callbacks(execute=False):
        record = registry_upload(data=_file(account, 2), file_name="s.csv", actor=staff)
    # when every attempt meets a serialization failure
    failure = psycopg.errors.SerializationFailure("could not serialize access")
    with _ledger_insert_fails(lambda n: True, failure) as failed:
        registry_import_run(import_id=record.pk)
    # then it gives up after CHUNK_ATTEMPTS tries; nothing credited; the file kept for a rerun
    assert len(failed) == registries.CHUNK_ATTEMPTS
    record.refresh_from_db()
    assert record.status == "failed"
    assert record.chunk_retries == registries.CHUNK_ATTEMPTS - 1
    assert "could not serialize access" in record.error
    assert _balance(account) == 0
    assert not RegistryLine.objects.exists()
    assert RegistryFile.objects.filter(registry_import=record).exists()


def test_other_database_errors_are_not_retried(staff, django_capture_on_commit_callbacks) -> None:
    account = _pa()
    with django_capture_on_commit_callbacks(execute=False):
        record = registry_upload(data=_file(account, 2), file_name="f.csv", actor=staff)
    with _ledger_insert_fails(lambda n: True, psycopg.errors.DiskFull("could not extend file")) as failed:
        registry_import_run(import_id=record.pk)
    assert failed == [1]
    record.refresh_from_db()
    assert (record.status, record.chunk_retries) == ("failed", 0)
    assert record.error == "Внутренняя ошибка: could not extend file"


def test_failed_chunk_leaves_nothing_half_credited_and_a_rerun_continues(
    staff, django_capture_on_commit_callbacks
) -> None:
    # given 5 lines (the last repeats the first), chunks of 2
    account = _pa()
    data = _file(account, 4) + f"Сбербанк;25.11.2026;T1;{account.number};1;Иванов\n".encode()
    with django_capture_on_commit_callbacks(execute=False):
        record = registry_upload(data=data, file_name="h.csv", actor=staff)
    # when the second chunk's ledger insert fails (not a conflict: no retry)
    with _ledger_insert_fails(lambda n: n == 2, psycopg.errors.DiskFull("could not extend file")):
        registry_import_run(import_id=record.pk, chunk_size=2)
    # then the first chunk is in, the second left no trace at all (no transfer, payment or line)
    record.refresh_from_db()
    assert record.status == "failed"
    assert (record.lines_total, record.credited_count, record.credited_kopecks) == (2, 2, 300)
    assert sorted(RegistryLine.objects.values_list("line_no", flat=True)) == [2, 3]
    assert Payment.objects.count() == 2
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 2
    assert _balance(account) == 300
    # when staff run it again
    with django_capture_on_commit_callbacks(execute=True):
        registry_import_requeue(import_id=record.pk, actor=staff)
    # then it continues after the first chunk: every line once, the repeat recognised as such
    record.refresh_from_db()
    assert record.status == "done"
    assert (record.lines_total, record.credited_count, record.duplicate_count) == (5, 4, 1)
    assert RegistryLine.objects.get(line_no=6).reason == "Повтор строки 2 этого файла."
    assert _balance(account) == 1000
    assert LedgerTransfer.objects.filter(key__startswith="registry:").count() == 4
    assert AuditEvent.objects.filter(action="payments.registry_requeue", actor=staff).count() == 1


def test_only_a_failed_import_can_be_run_again(staff, django_capture_on_commit_callbacks) -> None:
    account = _pa()
    with django_capture_on_commit_callbacks(execute=True):
        record = registry_upload(data=_file(account, 1), file_name="o.csv", actor=staff)
    with pytest.raises(DomainError, match="только загрузку, которая завершилась ошибкой"):
        registry_import_requeue(import_id=record.pk, actor=staff)
