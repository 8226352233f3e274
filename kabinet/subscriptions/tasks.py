"""Periodic jobs of the subscriptions domain (Celery; eager in the embedded default).

Both run right after midnight Europe/Moscow, before the billing run: an expired voluntary block ends
(service is back that day, so the run charges the normal fee) and an active one pays its daily fee;
a promised
payment whose term ended is taken back (then the run's blocking policy sees the real balance).
"""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from config.celery import app
from kabinet.subscriptions.services import promised_payment_expire, voluntary_blocks_process


@shared_task(name="kabinet.subscriptions.tasks.voluntary_blocks")
def voluntary_blocks_task() -> dict[str, int]:
    return voluntary_blocks_process()


@shared_task(name="kabinet.subscriptions.tasks.promised_payments_expire")
def promised_payments_expire_task() -> int:
    return promised_payment_expire()


app.conf.beat_schedule["subscriptions-voluntary-blocks"] = {
    "task": "kabinet.subscriptions.tasks.voluntary_blocks",
    "schedule": crontab(hour=0, minute=0),
}
app.conf.beat_schedule["subscriptions-promised-payments-expire"] = {
    "task": "kabinet.subscriptions.tasks.promised_payments_expire",
    "schedule": crontab(hour=0, minute=1),
}
