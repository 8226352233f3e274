"""Periodic jobs of the subscriptions domain (Celery; eager in the embedded default).

Beat runs them shortly after midnight Europe/Moscow: prices first (so the billing run charges the new
price snapshot), then voluntary blocks and promised payments.
"""

from __future__ import annotations

from celery import current_app, shared_task
from celery.schedules import crontab

from kabinet.subscriptions.services import (
    promised_payment_expire,
    subscription_prices_apply,
    voluntary_blocks_process,
)


@shared_task(name="kabinet.subscriptions.tasks.prices_apply")
def prices_apply_task() -> int:
    return subscription_prices_apply()


@shared_task(name="kabinet.subscriptions.tasks.voluntary_blocks")
def voluntary_blocks_task() -> dict[str, int]:
    return voluntary_blocks_process()


@shared_task(name="kabinet.subscriptions.tasks.promised_payments_expire")
def promised_payments_expire_task() -> int:
    return promised_payment_expire()


current_app.conf.beat_schedule.update(
    {
        "subscriptions-prices-apply": {
            "task": "kabinet.subscriptions.tasks.prices_apply",
            "schedule": crontab(hour=0, minute=1),
        },
        "subscriptions-voluntary-blocks": {
            "task": "kabinet.subscriptions.tasks.voluntary_blocks",
            "schedule": crontab(hour=0, minute=20),
        },
        "subscriptions-promised-payments-expire": {
            "task": "kabinet.subscriptions.tasks.promised_payments_expire",
            "schedule": crontab(hour=0, minute=25),
        },
    }
)
