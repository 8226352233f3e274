"""What the subscriptions domain keeps beside billing's Subscription: consent log, voluntary blocks,
promised payments and their rules, bundle membership.

The rules themselves (eligibility, proration, refunds) live in ``services.py`` and ``docs/services.md``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kabinet.billing.models import PersonalAccount, Subscription
from kabinet.catalog.models import Bundle, ServiceKind


class ConsentRecord(models.Model):
    """The subscriber's explicit consent to a paid change: what, for how much, the text they saw, when,
    and from which device. Append-only; the subscriber sees their own log."""

    class Action(models.TextChoices):
        CONNECT = "connect", _("Подключение тарифа")
        CHANGE_TARIFF_NOW = "change_tariff_now", _("Смена тарифа сейчас")
        CHANGE_TARIFF_NEXT = "change_tariff_next", _("Смена тарифа со следующего периода")
        OPTION_ENABLE = "option_enable", _("Подключение опции")
        VOLUNTARY_BLOCK = "voluntary_block", _("Добровольная блокировка")
        PROMISED_PAYMENT = "promised_payment", _("Обещанный платёж")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    personal_account = models.ForeignKey(
        PersonalAccount, on_delete=models.CASCADE, related_name="consent_records"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    # What was agreed to, in words ("Тариф «Домашний 300» с 01.12.2026").
    subject = models.CharField(max_length=255)
    price_kopecks = models.BigIntegerField(default=0)
    # The exact text shown next to the consent checkbox.
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # The object the consent led to: "subscription:12", "option:7", "voluntary_block:3", ...
    target = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="consent_user_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.subject}"


class VoluntaryBlock(models.Model):
    """A subscriber-requested suspension of a personal account for 1..90 days."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Действует")
        ENDED = "ended", _("Завершена")

    personal_account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="voluntary_blocks"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    starts_on = models.DateField()
    # The last blocked day as requested (inclusive).
    planned_end_on = models.DateField()
    # The day service was restored (early end, or planned_end_on + 1); null while active.
    ended_on = models.DateField(null=True, blank=True)
    # Snapshot of the tariffs' voluntary-block fees at the start (sum over active subscriptions).
    fee_per_day_kopecks = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["personal_account"],
                condition=Q(status="active"),
                name="uniq_active_voluntary_block",
            ),
            models.CheckConstraint(
                condition=Q(planned_end_on__gte=models.F("starts_on")), name="vblock_dates"
            ),
            models.CheckConstraint(condition=Q(fee_per_day_kopecks__gte=0), name="vblock_fee_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.personal_account} {self.starts_on}..{self.planned_end_on}"


class PromisedPaymentRule(models.Model):
    """When and how much temporary credit a subscriber may take. The rule for an account is the active
    one of its service kind, else the active one with an empty service kind, else the settings default."""

    name = models.CharField(max_length=255)
    service_kind = models.CharField(max_length=32, choices=ServiceKind.choices, blank=True)
    is_active = models.BooleanField(default=True)
    max_amount_kopecks = models.BigIntegerField()
    term_days = models.PositiveIntegerField()
    # At most one promised payment per this many days (counted from the previous one's date).
    interval_days = models.PositiveIntegerField()
    # The personal account must be at least this many days old.
    min_account_age_days = models.PositiveIntegerField(default=0)
    # A fee for the service, charged when the credit is taken (0: free).
    fee_kopecks = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_amount_kopecks__gt=0), name="pp_rule_max_gt_0"),
            models.CheckConstraint(condition=Q(term_days__gt=0), name="pp_rule_term_gt_0"),
            models.CheckConstraint(condition=Q(fee_kopecks__gte=0), name="pp_rule_fee_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class PromisedPayment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Действует")
        RETURNED = "returned", _("Погашен")

    personal_account = models.ForeignKey(
        PersonalAccount, on_delete=models.PROTECT, related_name="promised_payments"
    )
    rule = models.ForeignKey(PromisedPaymentRule, null=True, blank=True, on_delete=models.SET_NULL)
    amount_kopecks = models.BigIntegerField()
    fee_kopecks = models.BigIntegerField(default=0)
    taken_on = models.DateField()
    # The last day of the credit (inclusive); it is taken back the day after.
    due_on = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    returned_on = models.DateField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_kopecks__gt=0), name="promised_amount_gt_0"),
            models.UniqueConstraint(
                fields=["personal_account"], condition=Q(status="active"), name="uniq_active_promised_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.personal_account} {self.amount_kopecks} до {self.due_on}"


class BundleMembership(models.Model):
    """A subscription sold as part of a bundle: its price snapshot carries the bundle's discount."""

    subscription = models.OneToOneField(
        Subscription, on_delete=models.CASCADE, related_name="bundle_membership"
    )
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.bundle} / {self.subscription_id}"
