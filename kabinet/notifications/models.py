"""Delivery records. The dev outbox keeps every email and SMS the embedded default "sends"."""

from __future__ import annotations

from django.db import models


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
