"""Periodic jobs of «Летай Бонус»: expire points past their date; enrol users who are not members."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from config.celery import app


@shared_task(ignore_result=True)
def bonus_expire_task() -> int:
    from kabinet.bonus.services import bonus_expire

    return bonus_expire()


@shared_task(ignore_result=True)
def bonus_enroll_missing_task() -> int:
    from kabinet.bonus.services import bonus_enroll_missing

    return bonus_enroll_missing()


app.conf.beat_schedule["bonus-expire-daily"] = {
    "task": "kabinet.bonus.tasks.bonus_expire_task",
    "schedule": crontab(hour=3, minute=30),
}
app.conf.beat_schedule["bonus-enroll-missing"] = {
    "task": "kabinet.bonus.tasks.bonus_enroll_missing_task",
    "schedule": 15 * 60.0,
}
