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


@shared_task(ignore_result=True)
def payment_receipts_send(payment_ids: list[int]) -> None:
    """Receipts of payments credited within a moment of each other (one task per batch, see
    kabinet.payments.services._receipts). One failing receipt does not keep the others back."""
    import logging

    from kabinet.payments.receipts import receipt_email_send

    for payment_id in payment_ids:
        try:
            receipt_email_send(payment_id=payment_id)
        except Exception:
            if settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_TASK_EAGER_PROPAGATES:
                raise  # tests and the demo see the error itself
            logging.getLogger(__name__).exception("receipt of payment %s failed", payment_id)


# acks_late + reject_on_worker_lost: a worker that dies mid-import gets the task redelivered, and the
# run continues after the chunks already committed (kabinet.payments.registries.registry_import_run).
@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def registry_import_task(import_id: int) -> None:
    from kabinet.payments.registries import registry_import_run

    registry_import_run(import_id=import_id)


@shared_task(ignore_result=True)
def payment_receipts_unsent_task() -> int:
    from kabinet.payments.receipts import receipts_unsent_send

    return receipts_unsent_send()


app.conf.beat_schedule["payments-receipts-unsent"] = {
    "task": "kabinet.payments.tasks.payment_receipts_unsent_task",
    "schedule": 600.0,  # every 10 minutes
}


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
