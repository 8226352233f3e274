"""Billing run as Celery tasks on the ``billing`` queue (eager, in-process, in the embedded default).

``billing_run_dispatch`` prepares the date, records a ``BillingRun`` and sends one ``billing_chunk``
task per chunk of personal accounts (a group). Every chunk task is idempotent (its done marker), so a
task redelivered after a worker died (``acks_late``) or a whole dispatch repeated moves money once. The
last chunk to finish closes the run (``billing_run_finalize``). Beat starts the nightly run shortly after
midnight Europe/Moscow (``CELERY_TIMEZONE``), after the subscriptions domain's price job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import group, shared_task
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from config.celery import app
from kabinet.billing.models import BillingRun
from kabinet.billing.run import (
    billing_chunk_process,
    billing_run_chunk_done,
    billing_run_finalize,
    billing_run_record_error,
    billing_run_start,
)

BILLING_QUEUE = "billing"


@shared_task(
    name="kabinet.billing.tasks.billing_chunk",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def billing_chunk(self: Any, run_id: int, run_date: str, chunk_start: int, chunk_end: int) -> dict[str, Any]:
    """Charge one chunk (one transaction); close the run when it was the last chunk."""
    try:
        result = billing_chunk_process(
            run_date=dt.date.fromisoformat(run_date),
            chunk_start=chunk_start,
            chunk_end=chunk_end,
            run_id=run_id,
        )
    except OperationalError:
        raise
    except Exception as exc:
        billing_run_record_error(run_id=run_id, error=f"chunk {chunk_start}: {type(exc).__name__}: {exc}")
        raise
    billing_run_chunk_done(run_id=run_id, result=result)
    billing_run_finalize(run_id=run_id)
    return result.as_dict()


def billing_run_dispatch(
    *, run_date: dt.date, workers: int = 1, chunk_size: int | None = None, triggered_by: str = "celery"
) -> BillingRun:
    """Start a run whose chunks are Celery tasks on the ``billing`` queue; returns at once (unless eager)."""
    run, chunks = billing_run_start(
        run_date=run_date, workers=workers, chunk_size=chunk_size, triggered_by=triggered_by
    )
    if not chunks:
        return billing_run_finalize(run_id=run.pk)
    group(billing_chunk.si(run.pk, run_date.isoformat(), start, end) for start, end in chunks).apply_async(
        queue=BILLING_QUEUE
    )
    run.refresh_from_db()
    return run


@shared_task(name="kabinet.billing.tasks.billing_run_daily", ignore_result=True)
def billing_run_daily(run_date: str | None = None) -> int:
    """The nightly run for today (Europe/Moscow), started by beat."""
    day = dt.date.fromisoformat(run_date) if run_date else timezone.localdate()
    return billing_run_dispatch(run_date=day, triggered_by="beat").pk


def _run_at() -> tuple[int, int]:
    hour, minute = (int(part) for part in str(getattr(settings, "BILLING_RUN_AT", "00:30")).split(":"))
    return hour, minute


_hour, _minute = _run_at()
app.conf.beat_schedule["billing-run-daily"] = {
    "task": "kabinet.billing.tasks.billing_run_daily",
    # Shortly after midnight Europe/Moscow (CELERY_TIMEZONE), after subscriptions' prices (00:01) and
    # voluntary blocks (00:20), so the run charges today's snapshots and statuses.
    "schedule": crontab(hour=_hour, minute=_minute),
    "options": {"queue": BILLING_QUEUE},
}
