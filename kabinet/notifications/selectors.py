from __future__ import annotations

from django.db.models import QuerySet

from kabinet.notifications.models import OutboxMessage


def outbox_list(
    *, last: int | None = None, channel: str | None = None, to: str | None = None
) -> QuerySet[OutboxMessage]:
    qs = OutboxMessage.objects.all().order_by("-sent_at", "-id")
    if channel:
        qs = qs.filter(channel=channel)
    if to:
        qs = qs.filter(to=to)
    if last:
        qs = qs[:last]
    return qs
