"""Idempotency for the portal's writes: page form tokens (double submit) and API Idempotency-Key.

A page form carries a one-time ``form_token``; ``form_token_claim`` records it before the action runs, so
a second submit of the same form (a double click, a browser resend) is refused without doing anything.
If the action itself is refused, ``form_token_release`` frees the token so the person can fix and retry.

An API request with an ``Idempotency-Key`` header runs ``idempotent_call``: the first response (status and
body) is stored and replayed for every repeat with the same key; the same key with a different body is
refused. Only successful responses are stored: a refused request changed nothing and may be retried.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kabinet.core.exceptions import Conflict, DomainError
from kabinet.portal.models import IdempotencyRecord

FORM_SCOPE = "form"
MAX_KEY_LENGTH = 128


class DoubleSubmit(Conflict):
    code = "double_submit"


def form_token_new() -> str:
    return secrets.token_urlsafe(24)


def form_token_claim(*, user: Any, token: str) -> IdempotencyRecord:
    token = (token or "").strip()
    if not token or len(token) > MAX_KEY_LENGTH:
        raise DomainError(_("Форма устарела. Обновите страницу и повторите действие."), code="form_expired")
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, scope=FORM_SCOPE, key=token, status_code=200)
    except IntegrityError:
        raise DoubleSubmit(
            _("Этот запрос уже выполнен: повторная отправка формы ничего не изменила.")
        ) from None


def form_token_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def _request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def idempotent_call(
    *, user: Any, scope: str, key: str | None, payload: Any, call: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``call`` (returning status and JSON body) once per (user, scope, key); replay it afterwards."""
    if not key:
        return call()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            _("Заголовок Idempotency-Key должен быть непустой строкой до 128 символов."),
            code="invalid_idempotency_key",
        )
    request_hash = _request_hash(payload)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, scope=scope, key=key, request_hash=request_hash
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:  # pragma: no cover - released between the insert and the read
            return idempotent_call(user=user, scope=scope, key=key, payload=payload, call=call)
        if existing.request_hash != request_hash:
            raise Conflict(
                _("Ключ Idempotency-Key уже использован для другого запроса."), code="idempotency_key_reused"
            ) from None
        if existing.status_code is None:
            raise Conflict(
                _("Запрос с этим ключом Idempotency-Key ещё выполняется, повторите позже."),
                code="idempotency_in_progress",
            ) from None
        return existing.status_code, existing.response
    try:
        status, body = call()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response=body)
    return status, body


def idempotency_records_purge(*, older_than_days: int | None = None) -> int:
    """Delete idempotency records older than this (a replay that late is not a double submit).

    The default window is ``PORTAL_IDEMPOTENCY_RETENTION_DAYS`` (7 days); the nightly task
    ``kabinet.portal.tasks.purge_idempotency_records`` runs it.
    """
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    days = settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
