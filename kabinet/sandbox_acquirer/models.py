"""The sandbox acquirer's own state: payments and refunds as a YooKassa-like acquirer keeps them.

This app stands in for the real acquirer in the embedded default and the tests. It knows nothing of the
payments domain: it only speaks the protocol (HTTP API, hosted card page, HTTP notifications).
"""

from __future__ import annotations

import uuid

from django.db import models


def _acquirer_id() -> str:
    # YooKassa ids look like "2d9f3b1c-000f-5000-8000-1b2c3d4e5f60"; a UUID is close enough.
    return str(uuid.uuid4())


class SandboxPayment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        WAITING_FOR_CAPTURE = "waiting_for_capture"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    class Notify(models.TextChoices):
        SEND = "send"
        DELAY = "delay"
        DROP = "drop"

    id = models.CharField(primary_key=True, max_length=64, default=_acquirer_id, editable=False)
    shop_id = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    amount_kopecks = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="RUB")
    description = models.CharField(max_length=128, blank=True)
    capture = models.BooleanField(default=False)
    return_url = models.URLField(max_length=500)
    metadata = models.JSONField(default=dict, blank=True)
    paid = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # bank_card or an e-wallet (yoo_money); a wallet payment has the wallet's number instead of a card.
    method_type = models.CharField(max_length=20, default="bank_card")
    wallet_account = models.CharField(max_length=20, blank=True)
    # save_payment_method: the method (card or wallet) can pay later by its payment_method_id.
    save_method = models.BooleanField(default=False)
    # The card the payer entered (never the full number: first6/last4 only, like a real acquirer).
    card_first6 = models.CharField(max_length=6, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_expiry_month = models.CharField(max_length=2, blank=True)
    card_expiry_year = models.CharField(max_length=4, blank=True)
    card_type = models.CharField(max_length=20, blank=True)  # Mir, Visa, MasterCard, Maestro
    card_issuer_country = models.CharField(max_length=2, blank=True)
    card_issuer_name = models.CharField(max_length=64, blank=True)
    card_product_code = models.CharField(max_length=32, blank=True)
    card_product_name = models.CharField(max_length=64, blank=True)
    payment_method_id = models.CharField(max_length=64, blank=True)
    cancellation_party = models.CharField(max_length=32, blank=True)
    cancellation_reason = models.CharField(max_length=64, blank=True)
    refunded_kopecks = models.BigIntegerField(default=0)
    # 3-D Secure: the code "the bank" sent by SMS and how many wrong tries are left.
    sms_code = models.CharField(max_length=6, blank=True)
    sms_phone = models.CharField(max_length=16, blank=True)
    sms_attempts_left = models.PositiveSmallIntegerField(default=3)
    notify = models.CharField(max_length=10, choices=Notify.choices, default=Notify.SEND)

    class Meta:
        ordering = ["-created_at"]


class SandboxRefund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    id = models.CharField(primary_key=True, max_length=64, default=_acquirer_id, editable=False)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.CASCADE, related_name="refunds")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.SUCCEEDED)
    amount_kopecks = models.BigIntegerField()
    description = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxIdempotenceKey(models.Model):
    """A POST's Idempotence-Key and the response it got: a repeat gets the same response (24 hours)."""

    shop_id = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop_id", "key"], name="sandbox_uniq_idempotence_key")
        ]


class SandboxNotification(models.Model):
    """An HTTP notification to the shop, with its delivery attempts (retried until a 2xx)."""

    event = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    body = models.JSONField()
    url = models.URLField(max_length=500)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dropped = models.BooleanField(default=False)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
