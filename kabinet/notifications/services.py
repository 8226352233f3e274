"""Writes on notification settings: a subscriber's news/offers opt-in and delivery channels."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kabinet.core.audit import audit_log
from kabinet.notifications.models import NotificationPreference


def notification_preferences_get(*, user: Any) -> NotificationPreference:
    """The user's preferences; the row with the defaults is created on first use."""
    prefs, _created = NotificationPreference.objects.get_or_create(user=user)
    return prefs


def notification_preferences_update(
    *,
    user: Any,
    news_opt_in: bool | None = None,
    offers_opt_in: bool | None = None,
    channel_email: bool | None = None,
    channel_sms: bool | None = None,
    channel_push: bool | None = None,
) -> NotificationPreference:
    """Change the given flags (``None`` keeps a flag as it is); audited when something changed."""
    wanted = {
        "news_opt_in": news_opt_in,
        "offers_opt_in": offers_opt_in,
        "channel_email": channel_email,
        "channel_sms": channel_sms,
        "channel_push": channel_push,
    }
    with transaction.atomic():
        notification_preferences_get(user=user)
        prefs = NotificationPreference.objects.select_for_update().get(user=user)
        old = prefs.as_dict()
        changed = {k: bool(v) for k, v in wanted.items() if v is not None and bool(v) != old[k]}
        if changed:
            for name, value in changed.items():
                setattr(prefs, name, value)
            prefs.save(update_fields=[*changed, "updated_at"])
            audit_log(
                actor=user,
                action="notifications.preferences_update",
                target=prefs,
                old={k: old[k] for k in changed},
                new=changed,
            )
    return prefs
