"""Reads of the catalog: prices on a date, switch targets, compatible options, bundles.

The catalog sits below billing, so these take tariffs, not subscriptions; the subscription-shaped
wrappers live in ``kabinet.subscriptions.selectors``.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from kabinet.catalog.models import Bundle, Option, PriceVersion, Tariff


def tariff_price_on(*, tariff: Tariff, day: dt.date) -> int | None:
    """The tariff's price (kopecks) in force on ``day``: the latest version effective on or before it."""
    return (
        PriceVersion.objects.filter(tariff=tariff, effective_from__lte=day)
        .order_by("-effective_from")
        .values_list("price_kopecks", flat=True)
        .first()
    )


def option_price_on(*, option: Option, day: dt.date) -> int | None:
    return (
        PriceVersion.objects.filter(option=option, effective_from__lte=day)
        .order_by("-effective_from")
        .values_list("price_kopecks", flat=True)
        .first()
    )


def tariff_price_versions(*, tariff: Tariff) -> QuerySet[PriceVersion]:
    return PriceVersion.objects.filter(tariff=tariff).order_by("-effective_from")


def option_price_versions(*, option: Option) -> QuerySet[PriceVersion]:
    return PriceVersion.objects.filter(option=option).order_by("-effective_from")


def tariff_next_price_change(*, tariff: Tariff, day: dt.date) -> PriceVersion | None:
    """The first price version that takes effect after ``day`` (announced change), if any."""
    return (
        PriceVersion.objects.filter(tariff=tariff, effective_from__gt=day).order_by("effective_from").first()
    )


def tariff_list_available(*, service_kind: str | None = None) -> QuerySet[Tariff]:
    qs = Tariff.objects.filter(status=Tariff.Status.AVAILABLE)
    if service_kind:
        qs = qs.filter(service_kind=service_kind)
    return qs.order_by("service_kind", "name")


def tariff_switch_targets(*, tariff: Tariff) -> QuerySet[Tariff]:
    """Tariffs a subscriber on ``tariff`` may switch to: listed in switchable_to, available, same kind."""
    return (
        tariff.switchable_to.filter(status=Tariff.Status.AVAILABLE, service_kind=tariff.service_kind)
        .exclude(pk=tariff.pk)
        .order_by("name")
    )


def option_list_compatible(*, tariff: Tariff) -> QuerySet[Option]:
    """Available options of the tariff's service kind whose compatible_tariffs is empty or has it."""
    return (
        Option.objects.filter(service_kind=tariff.service_kind, is_available=True)
        .filter(Q(compatible_tariffs__isnull=True) | Q(compatible_tariffs=tariff))
        .distinct()
        .order_by("kind", "name")
    )


def option_is_compatible(*, option: Option, tariff: Tariff) -> bool:
    return option_list_compatible(tariff=tariff).filter(pk=option.pk).exists()


def bundle_list_available() -> QuerySet[Bundle]:
    return Bundle.objects.filter(is_available=True).prefetch_related("tariffs").order_by("name")


def bundle_price_kopecks(*, bundle: Bundle, price_kopecks: int) -> int:
    """A member tariff's price with the bundle discount, rounded down to a kopeck (as the billing run)."""
    return price_kopecks * (10000 - bundle.discount_bp) // 10000
