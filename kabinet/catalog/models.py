"""What the operator sells: service kinds, tariffs with versioned prices, options and bundles."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kabinet.core.models import TimeStampedModel


class ServiceKind(models.TextChoices):
    MOBILE = "mobile", _("Мобильная связь")
    INTERNET = "internet", _("Домашний интернет")
    TV = "tv", _("Телевидение")
    LANDLINE = "landline", _("Домашний телефон")
    IP_TELEPHONY = "ip_telephony", _("IP-телефония")
    WIFI = "wifi", _("Wi-Fi")
    VIDEO_SURVEILLANCE = "video_surveillance", _("Видеонаблюдение")


class Period(models.TextChoices):
    DAY = "day", _("в сутки")
    MONTH = "month", _("в месяц")


class Tariff(TimeStampedModel):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("Доступен для подключения")
        ARCHIVED = "archived", _("Архивный")

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    service_kind = models.CharField(max_length=32, choices=ServiceKind.choices, db_index=True)
    period = models.CharField(max_length=10, choices=Period.choices)
    description = models.TextField(blank=True)
    # Speed (speed_mbps), data (data_gb), minutes, sms, channels...: shown in the UI, not billed.
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AVAILABLE)
    # Which tariffs a subscriber on this tariff may switch to (empty: none).
    switchable_to = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    # Fee for a day of voluntary block (0: free); the block rules live in subscriptions.
    voluntary_block_fee_kopecks = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.name

    def price_on(self, day: dt.date) -> int | None:
        version = self.prices.filter(effective_from__lte=day).order_by("-effective_from").first()
        return version.price_kopecks if version else None


class Option(TimeStampedModel):
    """An add-on to a tariff: a TV package, a data package, static IP, speed boost, a camera..."""

    class Kind(models.TextChoices):
        OPTION = "option", _("Опция")
        TV_PACKAGE = "tv_package", _("Пакет каналов")
        DATA_PACKAGE = "data_package", _("Пакет интернета")
        CAMERA = "camera", _("Камера")

    class OptionPeriod(models.TextChoices):
        DAY = "day", _("в сутки")
        MONTH = "month", _("в месяц")
        ONCE = "once", _("разово")

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OPTION)
    service_kind = models.CharField(max_length=32, choices=ServiceKind.choices, db_index=True)
    period = models.CharField(max_length=10, choices=OptionPeriod.choices)
    description = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    is_available = models.BooleanField(default=True)
    # Empty: compatible with every tariff of the same service kind.
    compatible_tariffs = models.ManyToManyField(Tariff, blank=True, related_name="options")

    def __str__(self) -> str:
        return self.name

    def price_on(self, day: dt.date) -> int | None:
        version = self.prices.filter(effective_from__lte=day).order_by("-effective_from").first()
        return version.price_kopecks if version else None


class PriceVersion(models.Model):
    """A price of a tariff or an option from a date on. A price change is a new row, never an update."""

    tariff = models.ForeignKey(Tariff, null=True, blank=True, on_delete=models.CASCADE, related_name="prices")
    option = models.ForeignKey(Option, null=True, blank=True, on_delete=models.CASCADE, related_name="prices")
    price_kopecks = models.BigIntegerField()
    effective_from = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(tariff__isnull=False, option__isnull=True)
                    | Q(tariff__isnull=True, option__isnull=False)
                ),
                name="price_version_one_target",
            ),
            models.CheckConstraint(condition=Q(price_kopecks__gte=0), name="price_version_non_negative"),
            models.UniqueConstraint(fields=["tariff", "effective_from"], name="uniq_tariff_price_date"),
            models.UniqueConstraint(fields=["option", "effective_from"], name="uniq_option_price_date"),
        ]
        ordering = ["-effective_from"]


class Bundle(TimeStampedModel):
    """Several services together, cheaper: a discount on the monthly fees of its tariffs."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    tariffs = models.ManyToManyField(Tariff, related_name="bundles")
    # Discount in basis points (1000 = 10%) on each member tariff's fee.
    discount_bp = models.PositiveIntegerField(default=0)
    is_available = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name
