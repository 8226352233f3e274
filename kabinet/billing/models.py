"""Personal accounts, the ledger, subscriptions and billing runs.

The ledger is append-only and balanced: every LedgerTransfer moves a positive amount from one
LedgerAccount (debit side, balance goes down) to another (credit side, balance goes up), so the sum of
all balances is always zero. LedgerAccount.balance_kopecks is a cache of that sum, updated in the same
transaction as the transfer and checked by `kabinet ledger verify`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kabinet.catalog.models import Option, Period, ServiceKind, Tariff
from kabinet.core.models import TimeStampedModel
from kabinet.customers.models import Contract, Customer


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        SUBSCRIBER = "subscriber", _("Лицевой счёт абонента")
        REVENUE = "revenue", _("Выручка")
        CLEARING = "clearing", _("Расчёты с банками")
        CASH = "cash", _("Касса")
        ADJUSTMENT = "adjustment", _("Корректировки")
        BONUS = "bonus", _("Бонусы")
        CREDIT = "credit", _("Кредит (обещанные платежи)")

    code = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=255, blank=True)
    balance_kopecks = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class PersonalAccount(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Активен")
        BLOCKED_DEBT = "blocked_debt", _("Заблокирован за неуплату")
        BLOCKED_VOLUNTARY = "blocked_voluntary", _("Добровольная блокировка")
        BLOCKED_OPERATOR = "blocked_operator", _("Заблокирован оператором")
        TERMINATED = "terminated", _("Закрыт")

    # 10 digits, the last one a Luhn check digit (kabinet.billing.numbers).
    number = models.CharField(max_length=10, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="personal_accounts")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="personal_accounts"
    )
    service_kind = models.CharField(max_length=32, choices=ServiceKind.choices)
    ledger_account = models.OneToOneField(
        LedgerAccount, on_delete=models.PROTECT, related_name="personal_account"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_reason = models.CharField(max_length=255, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    cash_payment_ban = models.BooleanField(default=False)
    credit_limit_kopecks = models.BigIntegerField(default=0)
    # The MSISDN of a mobile account (E.164), the installation address of a fixed-line one.
    phone = models.CharField(max_length=16, blank=True, db_index=True)
    address = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit_kopecks__gte=0), name="pa_credit_limit_gte_0")
        ]

    def __str__(self) -> str:
        return self.number


class PersonalAccountLink(models.Model):
    """Which cabinet users see (and act on) which personal accounts. Every owner check goes through it."""

    class Method(models.TextChoices):
        OWNER = "owner", _("Владелец договора")
        SMS_CODE = "sms_code", _("Код из SMS на телефон договора")
        CONTRACT_AND_PAYMENT = "contract_payment", _("Номер договора и последний платёж")
        MOBILE_NUMBER = "mobile_number", _("Номер мобильного телефона пользователя")
        STAFF = "staff", _("Сотрудник оператора")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_links")
    personal_account = models.ForeignKey(PersonalAccount, on_delete=models.CASCADE, related_name="links")
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.OWNER)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "personal_account"], name="uniq_account_link")]


class Subscription(TimeStampedModel):
    """A tariff on a personal account, with a price snapshot. Billed by the billing run."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Подключена")
        SUSPENDED = "suspended", _("Приостановлена")
        ENDED = "ended", _("Отключена")

    personal_account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="subscriptions"
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    started_on = models.DateField()
    # The last day of service (inclusive); null while open-ended.
    ended_on = models.DateField(null=True, blank=True)
    price_kopecks = models.BigIntegerField()
    period = models.CharField(max_length=10, choices=Period.choices)
    # A tariff change scheduled from the next period; cancellable until it takes effect.
    next_tariff = models.ForeignKey(Tariff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    next_tariff_from = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "period"], name="subscription_status_period")]
        constraints = [
            models.CheckConstraint(condition=Q(price_kopecks__gte=0), name="subscription_price_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.tariff} on {self.personal_account}"


class SubscriptionOption(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Подключена")
        ENDED = "ended", _("Отключена")

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="options")
    option = models.ForeignKey(Option, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    price_kopecks = models.BigIntegerField()
    period = models.CharField(max_length=10, choices=Option.OptionPeriod.choices)


class LedgerTransfer(models.Model):
    """One immutable movement of money. Corrections are new reversing transfers, never updates."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Списание")
        PAYMENT = "payment", _("Платёж")
        REFUND = "refund", _("Возврат")
        ADJUSTMENT = "adjustment", _("Корректировка")
        REVERSAL = "reversal", _("Сторно")
        PROMISED_PAYMENT = "promised_payment", _("Обещанный платёж")
        BONUS = "bonus", _("Бонусы")

    # Idempotency key: charge:<subscription>:<period>, payment:<id>, adjustment:<uuid>, ...
    key = models.CharField(max_length=128, unique=True)
    debit_account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="credits")
    amount_kopecks = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The day the movement belongs to (a charge's billing day, a payment's date).
    value_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # A plain-language explanation shown to the subscriber (snapshot, Russian).
    description = models.CharField(max_length=255, blank=True)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # An external reference: payment id, registry line, ...
    ref = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_kopecks__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="transfer_two_accounts"
            ),
        ]
        indexes = [
            models.Index(fields=["debit_account", "value_date"], name="transfer_debit_date"),
            models.Index(fields=["credit_account", "value_date"], name="transfer_credit_date"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.amount_kopecks}"


class BillingRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Выполняется")
        FINISHED = "finished", _("Завершён")
        FAILED = "failed", _("Ошибка")

    run_date = models.DateField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    workers = models.PositiveIntegerField(default=1)
    accounts_count = models.BigIntegerField(default=0)
    charges_count = models.BigIntegerField(default=0)
    total_kopecks = models.BigIntegerField(default=0)
    blocked_count = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # Chunks of personal accounts (pk ranges of BILLING_CHUNK_SIZE) planned and finished by this run;
    # chunks already billed for this date by an earlier run are counted as skipped.
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_skipped = models.PositiveIntegerField(default=0)
    chunk_size = models.PositiveIntegerField(default=0)
    triggered_by = models.CharField(max_length=20, default="cli")

    class Meta:
        ordering = ["-started_at"]

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class BillingRunChunk(models.Model):
    """The done marker of one chunk of one billing date, written in the chunk's own transaction.

    A rerun of the same date skips a chunk with a marker without touching its transfers, and two
    workers given the same chunk serialize on the unique (run_date, chunk_start): the second one sees
    the first one's marker and does nothing.
    """

    run_date = models.DateField()
    chunk_start = models.BigIntegerField()
    chunk_end = models.BigIntegerField()
    run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="chunks"
    )
    accounts_count = models.BigIntegerField(default=0)
    charges_count = models.BigIntegerField(default=0)
    total_kopecks = models.BigIntegerField(default=0)
    blocked_count = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run_date", "chunk_start"], name="uniq_billing_chunk_date_start")
        ]
