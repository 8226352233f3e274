"""Delivery records. The dev outbox keeps every email and SMS the embedded default "sends"."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """An email or SMS captured instead of being delivered (embedded default and tests only)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "email"
        SMS = "sms", "sms"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=255, db_index=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()
    html = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}: {self.subject or self.body[:40]}"


class NotificationPreference(models.Model):
    """What a subscriber wants to hear about and through which channels (one row per user, created on
    first read by ``notification_preferences_get``). Service messages (codes, receipts, blocks) are sent
    whatever these say; the flags govern news and offers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    news_opt_in = models.BooleanField(_("новости и технические работы"), default=True)
    offers_opt_in = models.BooleanField(_("специальные предложения"), default=False)
    channel_email = models.BooleanField(_("электронная почта"), default=True)
    channel_sms = models.BooleanField(_("SMS"), default=True)
    channel_push = models.BooleanField(_("push-уведомления в приложении"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    FLAGS = ("news_opt_in", "offers_opt_in", "channel_email", "channel_sms", "channel_push")

    def __str__(self) -> str:
        return f"notification preferences of user #{self.user_id}"

    def as_dict(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in self.FLAGS}
