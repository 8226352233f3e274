"""Form tokens and Idempotency-Key records (kabinet.portal.services)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kabinet.core.exceptions import DomainError
from kabinet.portal.models import IdempotencyRecord
from kabinet.portal.services import (
    DoubleSubmit,
    form_token_claim,
    form_token_release,
    idempotency_records_purge,
    idempotent_call,
)

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
