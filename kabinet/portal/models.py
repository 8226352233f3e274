"""Portal-level records: idempotency of POSTs (API Idempotency-Key headers and page form tokens)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a request with a given key, replayed for every repeat of that key.

    ``scope`` is "api:<operation>" for an API Idempotency-Key or "form" for a page form token; a key is
    unique per user and scope. ``request_hash`` catches a key reused with a different body.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="uniq_idempotency_user_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
