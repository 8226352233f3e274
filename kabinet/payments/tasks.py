"""Celery tasks of the payments domain: receipts after crediting, bank registry imports queued from the
back office, periodic reconciliation."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.celery import app


@shared_task(ignore_result=True)
def payment_receipt_send(payment_id: int) -> None:
    from kabinet.payments.receipts import receipt_email_send

    receipt_email_send(payment_id=payment_id)


# acks_late + reject_on_worker_lost: a worker that dies mid-import gets the task redelivered, and the
# run continues after the chunks already committed (kabinet.payments.registries.registry_import_run).
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def registry_import_task(import_id: int) -> None:
    from kabinet.payments.registries import registry_import_run

    registry_import_run(import_id=import_id)


@shared_task(ignore_result=True)
def payments_reconcile_task() -> dict[str, int]:
    from kabinet.payments.services import payments_reconcile

    return payments_reconcile()


app.conf.beat_schedule["payments-reconcile"] = {
    "task": "kabinet.payments.tasks.payments_reconcile_task",
    "schedule": float(settings.PAYMENTS_RECONCILE_EVERY_SECONDS),
}


# Autopay (helper PAY-B): the task lives in kabinet.payments.autopay; every hour.
from kabinet.payments.autopay import autopay_run_due_task  # noqa: E402,F401

app.conf.beat_schedule["payments-autopay"] = {
    "task": "kabinet.payments.autopay.autopay_run_due_task",
    "schedule": 3600.0,
}
