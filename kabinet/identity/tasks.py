"""Periodic identity jobs (Celery). The beat schedule is declared here, in code."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from config.celery import app
from kabinet.identity.services import phone_codes_purge_old, registration_purge_expired


@shared_task(name="kabinet.identity.tasks.purge_expired_registrations")
def purge_expired_registrations() -> int:
    """Remove email registrations whose 7-day confirmation link expired unused (and old phone codes)."""
    phone_codes_purge_old()
    return registration_purge_expired()


app.conf.beat_schedule["identity-purge-expired-registrations"] = {
    "task": "kabinet.identity.tasks.purge_expired_registrations",
    # Every night at 03:17 (Europe/Moscow, CELERY_TIMEZONE): a quiet hour, off the round minute.
    "schedule": crontab(hour=3, minute=17),
}
