"""Periodic portal jobs (Celery). The beat schedule is declared here, in code."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from config.celery import app
from kabinet.portal.services import idempotency_records_purge


@shared_task(name="kabinet.portal.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Delete API Idempotency-Key records and form tokens older than the retention window."""
    return idempotency_records_purge(older_than_days=settings.PORTAL_IDEMPOTENCY_RETENTION_DAYS)


app.conf.beat_schedule["portal-purge-idempotency-records"] = {
    "task": "kabinet.portal.tasks.purge_idempotency_records",
    # Every night at 03:41 (Europe/Moscow, CELERY_TIMEZONE): quiet, apart from the identity purge at 03:17.
    "schedule": crontab(hour=3, minute=41),
}
