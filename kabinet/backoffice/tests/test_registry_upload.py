"""Back office, bank registries: an upload is queued and imported in the background; the import history
and the registry's page refresh themselves (htmx, with a plain link without JavaScript) until done."""

from __future__ import annotations

import psycopg.errors
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from kabinet.backoffice.tests.payments_helpers import HEADER
from kabinet.backoffice.tests.payments_helpers import balance_of as _balance
from kabinet.backoffice.tests.payments_helpers import make_account as _pa
from kabinet.identity.models import User
from kabinet.payments.models import RegistryFile, RegistryImport

pytestmark = pytest.mark.django_db


def test_upload_is_queued_and_history_polls_until_done(
    staff_client, django_capture_on_commit_callbacks
) -> None:
    # given
    account = _pa()
    data = (HEADER + f"Сбербанк;25.11.2026;U1;{account.number};250;Иванов\n").encode()
    list_url = reverse("backoffice:registry_list")
    # when uploaded (the task is held back, as if the worker had not picked it up yet)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post(list_url, {"file": SimpleUploadedFile("u.csv", data)})
    record = RegistryImport.objects.get()
    # then the request returns at once; the registry waits in the queue
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:registry_detail", args=[record.pk])
    assert record.status == "queued"
    assert _balance(account) == 0
    history = staff_client.get(list_url).content.decode()
    assert 'data-status="queued"' in history
    assert "В очереди" in history
    assert f'hx-get="{list_url}" hx-trigger="every 2s"' in history
    assert f'<a href="{list_url}">Обновить</a>' in history  # without JavaScript
    assert "django_htmx/htmx-2.min.js" in history
    detail_url = reverse("backoffice:registry_detail", args=[record.pk])
    detail = staff_client.get(detail_url).content.decode()
    assert f'hx-get="{detail_url}" hx-trigger="every 2s"' in detail
    # an htmx poll gets only the table
    poll = staff_client.get(list_url, headers={"HX-Request": "true"}).content.decode()
    assert poll.startswith('<div id="registry-imports" hx-get=')
    assert "<html" not in poll
    # when the worker runs the task
    for callback in callbacks:
        callback()
    # then the summary is there and polling stops
    poll = staff_client.get(list_url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-status="done"' in poll
    assert "hx-trigger" not in poll
    assert "Обновить" not in poll
    detail = staff_client.get(detail_url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in detail
    assert "250\u00a0₽" in detail
    assert _balance(account) == 25000
    assert not RegistryFile.objects.exists()


def test_failed_import_shows_the_reason_and_can_be_run_again(
    staff_client, staff, django_capture_on_commit_callbacks
) -> None:
    # given an upload whose import fails on a database error
    account = _pa()
    data = (HEADER + f"Сбербанк;25.11.2026;F1;{account.number};100;Иванов\n").encode()
    cause = psycopg.errors.DiskFull("could not extend file")

    def refuse_ledger_inserts(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith('INSERT INTO "BILLING_LEDGERTRANSFER"'):
            raise OperationalError(str(cause)) from cause
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_ledger_inserts), django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("backoffice:registry_list"), {"file": SimpleUploadedFile("f.csv", data)})
    record = RegistryImport.objects.get()
    assert record.status == "failed"
    # then the history and the registry's page say why, and offer to run it again
    history = staff_client.get(reverse("backoffice:registry_list")).content.decode()
    assert "Ошибка</span> Внутренняя ошибка: could not extend file" in history
    detail_url = reverse("backoffice:registry_detail", args=[record.pk])
    detail = staff_client.get(detail_url).content.decode()
    assert reverse("backoffice:registry_retry", args=[record.pk]) in detail
    assert "hx-trigger" not in detail
    # when run again
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("backoffice:registry_retry", args=[record.pk]))
    # then
    assert response["Location"] == detail_url
    record.refresh_from_db()
    assert (record.status, record.credited_count) == ("done", 1)
    assert _balance(account) == 10000
    # and a finished import cannot be rerun
    staff_client.post(reverse("backoffice:registry_retry", args=[record.pk]))
    page = staff_client.get(detail_url).content.decode()
    assert "Повторить можно только загрузку, которая завершилась ошибкой." in page


def test_subscriber_cannot_rerun_an_import(staff) -> None:
    record = RegistryImport.objects.create(file_name="x.csv", file_sha256="0", status="failed")
    RegistryFile.objects.create(registry_import=record, data=b"x")
    client = Client()
    client.force_login(User.objects.create_user(email="abonent@example.test", password="x"))
    response = client.post(reverse("backoffice:registry_retry", args=[record.pk]))
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == "failed"
