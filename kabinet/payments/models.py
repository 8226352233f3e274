"""Money coming in: payments (card, e-wallet, bank registry, office cash), their event timeline, refunds."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
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
    # The card class: the acquirer's card product code (classic, gold, prepaid, ...).
    card_class = models.CharField(max_length=32, blank=True)
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
        indexes = [
            models.Index(fields=["personal_account", "-created_at"], name="payment_account_created"),
            # the periodic search for receipts whose task never ran (receipts_unsent_send)
            models.Index(fields=["credited_at"], name="payment_credited_at"),
        ]
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
        BONUS_REVERSED = "bonus_reversed", _("Бонусные баллы списаны")

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


# --- Bank registries, e-wallets, autopay (helper PAY-B; kabinet/payments/registries.py, wallets.py,
# autopay.py) ---------------------------------------------------------------------------------------


class RegistryImport(TimeStampedModel):
    """One uploaded bank payment registry file and its summary (docs/registries.md).

    A back-office upload is queued (the file kept in RegistryFile) and imported by a Celery task; the
    console imports at once. Counters grow chunk by chunk, in the chunk's own transaction."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("В очереди")
        IMPORTING = "importing", _("Загружается")
        DONE = "done", _("Загружен")
        FAILED = "failed", _("Ошибка")

    ACTIVE_STATUSES = (Status.QUEUED, Status.IMPORTING)

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Загрузка в бэк-офисе")
        CLI = "cli", _("Командная строка")

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    # Chunks retried after a deadlock or serialization failure (a concurrent billing run).
    chunk_retries = models.PositiveIntegerField(default=0)
    lines_total = models.PositiveIntegerField(default=0)
    credited_count = models.PositiveIntegerField(default=0)
    credited_kopecks = models.BigIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    review_count = models.PositiveIntegerField(default=0)
    # The sum of every line with a readable amount (credited, duplicate or in review).
    total_kopecks = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"registry {self.file_name} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class RegistryFile(models.Model):
    """The uploaded bytes of a queued registry, kept in the database so that a worker on any machine
    can read them (no shared file storage needed). Deleted once the import is done; kept after a
    failure so the import can be run again."""

    registry_import = models.OneToOneField(RegistryImport, on_delete=models.CASCADE, related_name="upload")
    data = models.BinaryField()


class RegistryLine(models.Model):
    """One line of a registry file. Nothing is dropped: every line is stored with its outcome."""

    class Status(models.TextChoices):
        CREDITED = "credited", _("Зачислен")
        DUPLICATE = "duplicate", _("Повтор, не зачислен")
        NEEDS_REVIEW = "needs_review", _("Требует проверки")
        RESOLVED = "resolved", _("Зачислен после проверки")
        REJECTED = "rejected", _("Отклонён")

    registry_import = models.ForeignKey(RegistryImport, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    raw = models.CharField(max_length=1000, blank=True)
    bank = models.CharField(max_length=64, blank=True)
    bank_transaction_id = models.CharField(max_length=128, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    account_number = models.CharField(max_length=64, blank=True)
    amount_kopecks = models.BigIntegerField(null=True, blank=True)
    payer = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    reason = models.CharField(max_length=255, blank=True)
    personal_account = models.ForeignKey(
        PersonalAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["registry_import_id", "line_no"]
        indexes = [models.Index(fields=["registry_import", "status"], name="registry_line_import_status")]
        constraints = [
            # A line is stored once per import, also when two runs of one import overlap; the index
            # serves the "chunk already stored?" check of a resumed run.
            models.UniqueConstraint(fields=["registry_import", "line_no"], name="uniq_registry_line_no")
        ]


class WalletLink(TimeStampedModel):
    """An e-wallet linked in the profile (through the acquirer's wallet method)."""

    class WalletType(models.TextChoices):
        YOOMONEY = "yoo_money", _("ЮMoney")
        QIWI = "qiwi", _("QIWI Кошелёк")
        SBERPAY = "sberbank", _("SberPay")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_links")
    wallet_type = models.CharField(max_length=20, choices=WalletType.choices)
    masked_id = models.CharField(max_length=64)
    # The acquirer's saved payment method id (charging a linked wallet without a redirect).
    payment_method_id = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    # The payment that linked it (the wallet is saved at the acquirer when that payment succeeds).
    linking_payment = models.OneToOneField(
        "Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "wallet_type", "masked_id"],
                condition=Q(is_active=True),
                name="uniq_active_wallet_link",
            )
        ]
        ordering = ["-created_at", "-id"]


class AutopaySetting(TimeStampedModel):
    """Autopay for one personal account: a saved card tops it up by a trigger, within limits."""

    class Trigger(models.TextChoices):
        LOW_BALANCE = "low_balance", _("Когда по прогнозу осталось мало дней")
        DAY_OF_MONTH = "day_of_month", _("В выбранный день месяца")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="autopays")
    personal_account = models.ForeignKey(PersonalAccount, on_delete=models.CASCADE, related_name="autopays")
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.LOW_BALANCE)
    days_left_threshold = models.PositiveSmallIntegerField(default=3)
    day_of_month = models.PositiveSmallIntegerField(default=1)
    amount_kopecks = models.BigIntegerField()
    max_per_payment_kopecks = models.BigIntegerField(default=1_500_000)
    max_per_month_kopecks = models.BigIntegerField(default=3_000_000)
    # The acquirer's saved card.
    payment_method_id = models.CharField(max_length=64, blank=True)
    card_mask = models.CharField(max_length=32, blank=True)
    # The payment that saved the card (autopay works once it has succeeded).
    linking_payment = models.OneToOneField(
        "Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "personal_account"], name="uniq_autopay_user_account"),
            models.CheckConstraint(condition=Q(amount_kopecks__gt=0), name="autopay_amount_positive"),
        ]


class PaymentRules(models.Model):
    """The operator's rules for card payments (its terms, section 3). One row (pk=1), edited by staff in the
    back office through ``payment_rules_update`` (audited); a change applies to new payments.

    List fields are comma-separated codes; an empty list means "no restriction".
    """

    SINGLETON_PK = 1

    whole_rubles_only = models.BooleanField(_("только целые рубли"), default=True)
    min_amount_kopecks = models.BigIntegerField(_("минимальная сумма платежа, коп."), default=100)
    max_amount_kopecks = models.BigIntegerField(_("максимальная сумма платежа, коп."), default=1_500_000)
    same_card_interval_minutes = models.PositiveIntegerField(
        _("минимальный интервал между платежами с одной карты, мин."), default=30
    )
    # Sum of card payments to one personal account within period_days; 0 = no limit.
    period_limit_kopecks = models.BigIntegerField(_("лимит за период, коп."), default=0)
    period_days = models.PositiveIntegerField(_("период, дней"), default=30)
    # ISO 3166-1 alpha-2 codes of card issuer countries that may pay; empty = any country.
    allowed_issuer_countries = models.CharField(
        _("страны эмитента карт"), max_length=255, default="RU", blank=True
    )
    # Card brands accepted: MIR, VISA, MASTERCARD, MAESTRO.
    allowed_card_brands = models.CharField(
        _("платёжные системы"), max_length=255, default="MIR,VISA,MASTERCARD,MAESTRO", blank=True
    )
    # Card classes (the acquirer's card product code: classic, gold, platinum, electron, prepaid,
    # corporate, ...) that may not pay.
    blocked_card_classes = models.CharField(
        _("запрещённые классы карт"), max_length=255, default="", blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_amount_kopecks__gt=0), name="rules_min_amount_positive"),
            models.CheckConstraint(
                condition=Q(max_amount_kopecks__gte=F("min_amount_kopecks")), name="rules_max_gte_min"
            ),
            models.CheckConstraint(condition=Q(period_limit_kopecks__gte=0), name="rules_period_limit_gte_0"),
        ]

    def __str__(self) -> str:
        return "payment rules"

    @staticmethod
    def split(value: str) -> list[str]:
        return [item.strip().upper() for item in (value or "").split(",") if item.strip()]
