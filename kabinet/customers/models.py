"""Customers (the party of a contract) and their contracts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kabinet.core.models import TimeStampedModel


class Customer(TimeStampedModel):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Физическое лицо")
        ORGANIZATION = "organization", _("Организация")

    class Verification(models.TextChoices):
        NOT_REQUIRED = "not_required", _("Не требуется")
        PENDING = "pending", _("Ожидает проверки")
        VERIFIED = "verified", _("Проверена")
        REJECTED = "rejected", _("Отклонена")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    display_name = models.CharField(max_length=255, blank=True)
    verification = models.CharField(
        max_length=20, choices=Verification.choices, default=Verification.NOT_REQUIRED
    )
    # Personal data: disclosed to staff only after identity verification (see backoffice).
    last_name = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    passport = models.CharField(max_length=50, blank=True)
    address = models.CharField(max_length=500, blank=True)
    code_word = models.CharField(max_length=100, blank=True)
    # Organization questionnaire.
    organization_name = models.CharField(max_length=255, blank=True)
    inn = models.CharField(max_length=12, blank=True, db_index=True)
    kpp = models.CharField(max_length=9, blank=True)
    ogrn = models.CharField(max_length=15, blank=True)
    legal_address = models.CharField(max_length=500, blank=True)
    contact_person = models.CharField(max_length=255, blank=True)
    contact_position = models.CharField(max_length=255, blank=True)
    contact_phone = models.CharField(max_length=16, blank=True)
    contact_email = models.EmailField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "verification"])]

    def __str__(self) -> str:
        return self.display_name or f"Customer #{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class Contract(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Действует")
        TERMINATED = "terminated", _("Расторгнут")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(max_length=32, unique=True)
    signed_at = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    terminated_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.CharField(max_length=255, blank=True)
    # The phone written in the contract: an SMS code to it proves ownership of its accounts.
    phone = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return self.number
