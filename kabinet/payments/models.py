"""Money coming in: payments (card, e-wallet, bank registry, office cash), their event timeline, refunds."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kabinet.billing.models import LedgerTransfer, PersonalAccount
from kabinet.core.models import TimeStampedModel


class Payment(TimeStampedModel):
    class Method(models.TextChoices):
        CARD = "card", _("Банковская карта")
        WALLET = "wallet", _("Электронный кошелёк")
        BANK_REGISTRY = "bank_registry", _("Через банк")
        OFFICE = "office", _("В офисе")
        AUTOPAY = "autopay", _("Автоплатёж")

    class Status(models.TextChoices):
        CREATED = "created", _("Создан")
        PENDING = "pending", _("Ожидает оплаты")
        WAITING_FOR_CAPTURE = "waiting_for_capture", _("Оплачен, проверяется")
        SUCCEEDED = "succeeded", _("Зачислен")
        CANCELED = "canceled", _("Отменён")
        REFUNDED = "refunded", _("Возвращён")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    personal_account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="payments")
    # Who started it: a cabinet user, or nobody (public page, bank registry).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount_kopecks = models.BigIntegerField()
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.CREATED, db_index=True)
    # The caller's Idempotency-Key (cabinet form token, API header): the same key creates one payment.
    idempotency_key = models.CharField(max_length=64, unique=True)
    receipt_email = models.EmailField(blank=True)
    # The acquirer's side.
    acquirer_payment_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    confirmation_url = models.URLField(max_length=500, blank=True)
    card_mask = models.CharField(max_length=32, blank=True)  # "220000******0004"
    card_brand = models.CharField(max_length=20, blank=True)  # MIR, VISA, MASTERCARD, MAESTRO
    card_fingerprint = models.CharField(max_length=128, blank=True, db_index=True)
    card_issuer_country = models.CharField(max_length=2, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    # Bank registries: the bank and its transaction id (unique per bank).
    bank = models.CharField(max_length=64, blank=True)
    bank_transaction_id = models.CharField(max_length=128, blank=True)
    payer = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    credited_at = models.DateTimeField(null=True, blank=True)
    service_restored_at = models.DateTimeField(null=True, blank=True)
    transfer = models.OneToOneField(
        LedgerTransfer, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    refunded_kopecks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_kopecks__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["bank", "bank_transaction_id"],
                condition=~Q(bank_transaction_id=""),
                name="uniq_bank_transaction",
            ),
        ]
        indexes = [models.Index(fields=["personal_account", "-created_at"], name="payment_account_created")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"payment {self.public_id} {self.amount_kopecks}"


class PaymentEvent(models.Model):
    """The timeline a subscriber follows: accepted -> paid -> credited -> service restored (append-only)."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Платёж принят")
        PAID = "paid", _("Оплачен банком")
        CREDITED = "credited", _("Зачислен на лицевой счёт")
        SERVICE_RESTORED = "service_restored", _("Услуги возобновлены")
        CANCELED = "canceled", _("Отменён")
        REFUNDED = "refunded", _("Возвращён")
        NOTIFICATION = "notification", _("Уведомление банка")
        RECEIPT_SENT = "receipt_sent", _("Квитанция отправлена")

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    message = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class Refund(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("Выполняется")
        SUCCEEDED = "succeeded", _("Выполнен")
        CANCELED = "canceled", _("Отклонён")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_kopecks = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    acquirer_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    transfer = models.OneToOneField(
        LedgerTransfer, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_kopecks__gt=0), name="refund_amount_positive")
        ]
