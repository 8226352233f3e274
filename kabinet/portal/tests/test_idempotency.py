"""Form tokens and Idempotency-Key records (kabinet.portal.services)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from kabinet.core.exceptions import DomainError
from kabinet.portal.models import IdempotencyRecord
from kabinet.portal.services import (
    DoubleSubmit,
    form_token_claim,
    form_token_release,
    idempotency_records_purge,
    idempotent_call,
)
from kabinet.portal.tasks import purge_idempotency_records

pytestmark = pytest.mark.django_db


def test_a_form_token_is_claimed_once_and_freed_after_a_refusal(owner):
    # given
    record = form_token_claim(user=owner, token="abc")
    # when / then
    with pytest.raises(DoubleSubmit):
        form_token_claim(user=owner, token="abc")
    form_token_release(record=record)
    assert form_token_claim(user=owner, token="abc").key == "abc"


def test_a_missing_form_token_is_refused_in_russian(owner):
    with pytest.raises(DomainError) as exc:
        form_token_claim(user=owner, token="")
    assert exc.value.message == "Форма устарела. Обновите страницу и повторите действие."


def test_the_same_key_of_another_user_is_independent(owner, other):
    # given
    calls = []

    def call():
        calls.append(1)
        return 200, {"n": len(calls)}

    # when
    first = idempotent_call(user=owner, scope="api:x", key="k", payload={}, call=call)
    again = idempotent_call(user=owner, scope="api:x", key="k", payload={}, call=call)
    others = idempotent_call(user=other, scope="api:x", key="k", payload={}, call=call)
    # then
    assert first == again == (200, {"n": 1})
    assert others == (200, {"n": 2})


def test_a_failed_call_leaves_no_record(owner):
    def call():
        raise DomainError("Нельзя.")

    with pytest.raises(DomainError):
        idempotent_call(user=owner, scope="api:x", key="k2", payload={}, call=call)
    assert not IdempotencyRecord.objects.filter(key="k2").exists()


def test_purge_deletes_only_old_records(owner):
    # given
    old = form_token_claim(user=owner, token="old")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    form_token_claim(user=owner, token="new")
    # when
    deleted = idempotency_records_purge(older_than_days=30)
    # then
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def _aged(record: IdempotencyRecord, *, days: float) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def _api_record(user, key: str) -> IdempotencyRecord:
    idempotent_call(user=user, scope="api:x", key=key, payload={}, call=lambda: (200, {}))
    return IdempotencyRecord.objects.get(scope="api:x", key=key)


def test_the_nightly_task_purges_records_past_the_retention_window_and_keeps_fresh_ones(owner, settings):
    # given a 7-day window, an old and a fresh record of each kind
    settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS = 7
    _aged(form_token_claim(user=owner, token="old-form"), days=7.1)
    _aged(_api_record(owner, "old-api"), days=8)
    _aged(form_token_claim(user=owner, token="fresh-form"), days=6.9)
    _api_record(owner, "fresh-api")
    # when
    deleted = purge_idempotency_records.delay().get()
    # then
    assert deleted == 2
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh-api", "fresh-form"]


def test_the_retention_window_comes_from_settings(owner, settings):
    # given
    settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS = 2
    _aged(form_token_claim(user=owner, token="three-days"), days=3)
    _aged(form_token_claim(user=owner, token="one-day"), days=1)
    # when
    deleted = purge_idempotency_records.delay().get()
    # then
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["one-day"]


def test_the_default_retention_window_is_seven_days():
    assert django_settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS == 7


def test_the_purge_task_is_in_the_daily_beat_schedule():
    # when
    entry = app.conf.beat_schedule["portal-purge-idempotency-records"]
    # then
    assert entry["task"] == "kabinet.portal.tasks.purge_idempotency_records"
    assert entry["schedule"] == crontab(hour=3, minute=41)


def test_the_management_command_purges_with_the_given_window(owner):
    # given
    _aged(form_token_claim(user=owner, token="old"), days=11)
    _aged(form_token_claim(user=owner, token="newer"), days=9)
    out = StringIO()
    # when
    call_command("idempotency", "purge", "--days", "10", stdout=out)
    # then
    assert out.getvalue().strip() == "Удалено записей идемпотентности старше 10 дн.: 1"
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["newer"]
