"""The sandbox acquirer's notification delivery: retried with a growing countdown, like a real acquirer."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.celery import app


@shared_task(ignore_result=True)
def sandbox_notification_send(notification_id: int) -> None:
    from kabinet.sandbox_acquirer.models import SandboxNotification
    from kabinet.sandbox_acquirer.services import sandbox_notification_deliver

    if sandbox_notification_deliver(notification_id=notification_id):
        return
    attempts = SandboxNotification.objects.values_list("attempts", flat=True).get(pk=notification_id)
    if attempts >= settings.SANDBOX_ACQUIRER_NOTIFY_ATTEMPTS or settings.CELERY_TASK_ALWAYS_EAGER:
        # Eager Celery cannot wait between retries: the periodic flush retries instead.
        return
    sandbox_notification_send.apply_async(args=[notification_id], countdown=min(10 * 2**attempts, 3600))


@shared_task(ignore_result=True)
def sandbox_notifications_flush() -> int:
    """Send notifications that are due (delayed ones, failed ones waiting for a retry)."""
    from kabinet.sandbox_acquirer.models import SandboxNotification
    from kabinet.sandbox_acquirer.services import sandbox_notification_deliver, sandbox_notifications_due

    sent = 0
    for pk in sandbox_notifications_due():
        attempts = SandboxNotification.objects.values_list("attempts", flat=True).get(pk=pk)
        if attempts < settings.SANDBOX_ACQUIRER_NOTIFY_ATTEMPTS and sandbox_notification_deliver(
            notification_id=pk
        ):
            sent += 1
    return sent


app.conf.beat_schedule["sandbox-acquirer-notifications"] = {
    "task": "kabinet.sandbox_acquirer.tasks.sandbox_notifications_flush",
    "schedule": 30.0,
}
