from __future__ import annotations

from typing import Any, Literal

from django.db.models import QuerySet

from kabinet.notifications.models import NotificationPreference, OutboxMessage

Topic = Literal["news", "offers"]
Channel = Literal["email", "sms", "push"]


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


def notification_allowed(*, user: Any, topic: Topic, channel: Channel) -> bool:
    """Whether a news or offers message may go to ``user`` through ``channel`` (service messages such as
    codes, receipts and block notices do not ask). Without a stored row the defaults apply."""
    prefs = NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)
    return bool(getattr(prefs, f"{topic}_opt_in") and getattr(prefs, f"channel_{channel}"))
