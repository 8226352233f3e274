"""Writes of the catalog: tariffs, price versions, options, bundles. Every write is audited.

A price change is always a new ``PriceVersion`` with an effective date; existing versions are never
updated, so the price on any past date stays what it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.catalog.models import Bundle, Option, Period, PriceVersion, ServiceKind, Tariff
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError


def _check_price(price_kopecks: int) -> None:
    if not isinstance(price_kopecks, int) or isinstance(price_kopecks, bool) or price_kopecks < 0:
        raise DomainError(_("Цена должна быть неотрицательным целым числом копеек."), field="price_kopecks")


def _check_service_kind(service_kind: str) -> None:
    if service_kind not in ServiceKind.values:
        raise DomainError(_("Неизвестный вид услуги."), field="service_kind")


def tariff_create(
    *,
    code: str,
    name: str,
    service_kind: str,
    period: str,
    price_kopecks: int,
    effective_from: dt.date | None = None,
    description: str = "",
    params: dict[str, Any] | None = None,
    voluntary_block_fee_kopecks: int = 0,
    switchable_to: Iterable[Tariff] = (),
    actor: Any = None,
) -> Tariff:
    """A new available tariff with its first price version (effective today unless given)."""
    _check_service_kind(service_kind)
    if period not in Period.values:
        raise DomainError(_("Период тарифа должен быть «в сутки» или «в месяц»."), field="period")
    _check_price(price_kopecks)
    _check_price(voluntary_block_fee_kopecks)
    if Tariff.objects.filter(code=code).exists():
        raise Conflict(_("Тариф с кодом «%(code)s» уже есть.") % {"code": code}, field="code")
    with transaction.atomic():
        tariff = Tariff.objects.create(
            code=code,
            name=name,
            service_kind=service_kind,
            period=period,
            description=description,
            params=params or {},
            voluntary_block_fee_kopecks=voluntary_block_fee_kopecks,
        )
        PriceVersion.objects.create(
            tariff=tariff, price_kopecks=price_kopecks, effective_from=effective_from or timezone.localdate()
        )
        targets = list(switchable_to)
        if targets:
            tariff_set_switchable(tariff=tariff, targets=targets, actor=actor)
        audit_log(
            actor=actor,
            action="catalog.tariff_create",
            target=tariff,
            new={"code": code, "price_kopecks": price_kopecks, "period": period},
        )
    return tariff


def tariff_update(
    *,
    tariff: Tariff,
    name: str | None = None,
    description: str | None = None,
    params: dict[str, Any] | None = None,
    voluntary_block_fee_kopecks: int | None = None,
    actor: Any = None,
) -> Tariff:
    """Change what is shown about a tariff (not its price: see ``tariff_price_change``)."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for field, value in (
        ("name", name),
        ("description", description),
        ("params", params),
        ("voluntary_block_fee_kopecks", voluntary_block_fee_kopecks),
    ):
        if value is None:
            continue
        if field == "voluntary_block_fee_kopecks":
            _check_price(value)  # type: ignore[arg-type]
        old[field] = getattr(tariff, field)
        new[field] = value
        setattr(tariff, field, value)
    if not new:
        return tariff
    with transaction.atomic():
        tariff.save(update_fields=[*new.keys(), "updated_at"])
        audit_log(actor=actor, action="catalog.tariff_update", target=tariff, old=old, new=new)
    return tariff


def _price_version_create(
    *, tariff: Tariff | None, option: Option | None, price_kopecks: int, effective_from: dt.date, actor: Any
) -> PriceVersion:
    _check_price(price_kopecks)
    today = timezone.localdate()
    if effective_from < today:
        raise DomainError(
            _("Новая цена не может действовать с прошедшей даты: выберите сегодня или позже."),
            field="effective_from",
        )
    target: Tariff | Option = tariff if tariff is not None else option  # type: ignore[assignment]
    try:
        with transaction.atomic():
            version = PriceVersion.objects.create(
                tariff=tariff, option=option, price_kopecks=price_kopecks, effective_from=effective_from
            )
            audit_log(
                actor=actor,
                action="catalog.price_change",
                target=target,
                old={"price_kopecks": target.price_on(effective_from)},
                new={"price_kopecks": price_kopecks, "effective_from": effective_from.isoformat()},
            )
    except IntegrityError:
        raise Conflict(
            _("Цена с %(date)s уже задана; выберите другую дату.")
            % {"date": effective_from.strftime("%d.%m.%Y")},
            field="effective_from",
        ) from None
    return version


def tariff_price_change(
    *, tariff: Tariff, price_kopecks: int, effective_from: dt.date, actor: Any = None
) -> PriceVersion:
    """A new price from ``effective_from`` on (today or later). Existing subscriptions keep their price
    snapshot until that date; see ``subscription_prices_apply``."""
    return _price_version_create(
        tariff=tariff, option=None, price_kopecks=price_kopecks, effective_from=effective_from, actor=actor
    )


def tariff_set_switchable(*, tariff: Tariff, targets: Iterable[Tariff], actor: Any = None) -> Tariff:
    """Replace the list of tariffs a subscriber on ``tariff`` may switch to (same service kind only)."""
    targets = list(targets)
    for target in targets:
        if target.service_kind != tariff.service_kind:
            raise DomainError(
                _("На тариф «%(name)s» нельзя перейти: это другая услуга.") % {"name": target.name},
                field="switchable_to",
            )
        if target.pk == tariff.pk:
            raise DomainError(_("Тариф не может переходить сам на себя."), field="switchable_to")
    with transaction.atomic():
        old = sorted(tariff.switchable_to.values_list("code", flat=True))
        tariff.switchable_to.set(targets)
        audit_log(
            actor=actor,
            action="catalog.tariff_switchable",
            target=tariff,
            old=old,
            new=sorted(t.code for t in targets),
        )
    return tariff


def tariff_archive(*, tariff: Tariff, actor: Any = None, reason: str = "") -> Tariff:
    """Stop selling a tariff. Existing subscriptions stay on it; nobody can connect or switch to it."""
    return _tariff_set_status(tariff=tariff, status=Tariff.Status.ARCHIVED, actor=actor, reason=reason)


def tariff_restore(*, tariff: Tariff, actor: Any = None, reason: str = "") -> Tariff:
    return _tariff_set_status(tariff=tariff, status=Tariff.Status.AVAILABLE, actor=actor, reason=reason)


def _tariff_set_status(*, tariff: Tariff, status: str, actor: Any, reason: str) -> Tariff:
    if tariff.status == status:
        return tariff
    with transaction.atomic():
        old = tariff.status
        tariff.status = status
        tariff.save(update_fields=["status", "updated_at"])
        audit_log(
            actor=actor,
            action="catalog.tariff_status",
            target=tariff,
            old={"status": old},
            new={"status": status},
            reason=reason,
        )
    return tariff


def option_create(
    *,
    code: str,
    name: str,
    service_kind: str,
    period: str,
    price_kopecks: int,
    kind: str = Option.Kind.OPTION,
    effective_from: dt.date | None = None,
    description: str = "",
    params: dict[str, Any] | None = None,
    compatible_tariffs: Iterable[Tariff] = (),
    actor: Any = None,
) -> Option:
    """A new available option with its first price version; no compatible tariffs means all of the kind."""
    _check_service_kind(service_kind)
    if period not in Option.OptionPeriod.values:
        raise DomainError(_("Период опции должен быть «в сутки», «в месяц» или «разово»."), field="period")
    if kind not in Option.Kind.values:
        raise DomainError(_("Неизвестный вид опции."), field="kind")
    _check_price(price_kopecks)
    if Option.objects.filter(code=code).exists():
        raise Conflict(_("Опция с кодом «%(code)s» уже есть.") % {"code": code}, field="code")
    tariffs = list(compatible_tariffs)
    for tariff in tariffs:
        if tariff.service_kind != service_kind:
            raise DomainError(
                _("Тариф «%(name)s» относится к другой услуге.") % {"name": tariff.name},
                field="compatible_tariffs",
            )
    with transaction.atomic():
        option = Option.objects.create(
            code=code,
            name=name,
            kind=kind,
            service_kind=service_kind,
            period=period,
            description=description,
            params=params or {},
        )
        PriceVersion.objects.create(
            option=option, price_kopecks=price_kopecks, effective_from=effective_from or timezone.localdate()
        )
        if tariffs:
            option.compatible_tariffs.set(tariffs)
        audit_log(
            actor=actor,
            action="catalog.option_create",
            target=option,
            new={"code": code, "price_kopecks": price_kopecks, "period": period, "kind": kind},
        )
    return option


def option_price_change(
    *, option: Option, price_kopecks: int, effective_from: dt.date, actor: Any = None
) -> PriceVersion:
    return _price_version_create(
        tariff=None, option=option, price_kopecks=price_kopecks, effective_from=effective_from, actor=actor
    )


def option_set_compatible(*, option: Option, tariffs: Iterable[Tariff], actor: Any = None) -> Option:
    tariffs = list(tariffs)
    for tariff in tariffs:
        if tariff.service_kind != option.service_kind:
            raise DomainError(
                _("Тариф «%(name)s» относится к другой услуге.") % {"name": tariff.name},
                field="compatible_tariffs",
            )
    with transaction.atomic():
        old = sorted(option.compatible_tariffs.values_list("code", flat=True))
        option.compatible_tariffs.set(tariffs)
        audit_log(
            actor=actor,
            action="catalog.option_compatible",
            target=option,
            old=old,
            new=sorted(t.code for t in tariffs),
        )
    return option


def option_set_available(
    *, option: Option, is_available: bool, actor: Any = None, reason: str = ""
) -> Option:
    """Stop (or resume) offering an option. Subscribers who have it keep it."""
    if option.is_available == is_available:
        return option
    with transaction.atomic():
        option.is_available = is_available
        option.save(update_fields=["is_available", "updated_at"])
        audit_log(
            actor=actor,
            action="catalog.option_available",
            target=option,
            old={"is_available": not is_available},
            new={"is_available": is_available},
            reason=reason,
        )
    return option


def _check_discount(discount_bp: int) -> None:
    if not isinstance(discount_bp, int) or not 0 <= discount_bp <= 9000:
        raise DomainError(_("Скидка пакета должна быть от 0 до 90%."), field="discount_bp")


def bundle_create(
    *,
    code: str,
    name: str,
    tariffs: Iterable[Tariff],
    discount_bp: int,
    description: str = "",
    actor: Any = None,
) -> Bundle:
    """A bundle of tariffs of different services with a discount (basis points, 1000 = 10%)."""
    _check_discount(discount_bp)
    members = list(tariffs)
    kinds = [t.service_kind for t in members]
    if len(members) < 2 or len(set(kinds)) != len(kinds):
        raise DomainError(
            _("В пакет входят тарифы минимум двух разных услуг, по одному на услугу."), field="tariffs"
        )
    if Bundle.objects.filter(code=code).exists():
        raise Conflict(_("Пакет с кодом «%(code)s» уже есть.") % {"code": code}, field="code")
    with transaction.atomic():
        bundle = Bundle.objects.create(code=code, name=name, description=description, discount_bp=discount_bp)
        bundle.tariffs.set(members)
        audit_log(
            actor=actor,
            action="catalog.bundle_create",
            target=bundle,
            new={"code": code, "discount_bp": discount_bp, "tariffs": sorted(t.code for t in members)},
        )
    return bundle


def bundle_update(
    *,
    bundle: Bundle,
    name: str | None = None,
    discount_bp: int | None = None,
    is_available: bool | None = None,
    actor: Any = None,
) -> Bundle:
    """Rename, re-price (new subscriptions only) or withdraw a bundle."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    if discount_bp is not None:
        _check_discount(discount_bp)
    for field, value in (("name", name), ("discount_bp", discount_bp), ("is_available", is_available)):
        if value is None or getattr(bundle, field) == value:
            continue
        old[field] = getattr(bundle, field)
        new[field] = value
        setattr(bundle, field, value)
    if not new:
        return bundle
    with transaction.atomic():
        bundle.save(update_fields=[*new.keys(), "updated_at"])
        audit_log(actor=actor, action="catalog.bundle_update", target=bundle, old=old, new=new)
    return bundle


def option_update(
    *,
    option: Option,
    name: str | None = None,
    description: str | None = None,
    params: dict[str, Any] | None = None,
    actor: Any = None,
) -> Option:
    """Change what is shown about an option (not its price: see ``option_price_change``). Audited.

    Added by the back office (helper BILL-C) alongside ``tariff_update``."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for field, value in (("name", name), ("description", description), ("params", params)):
        if value is None or getattr(option, field) == value:
            continue
        old[field] = getattr(option, field)
        new[field] = value
    if "name" in new and not str(new["name"]).strip():
        raise DomainError(_("Укажите название опции."), field="name")
    if not new:
        return option
    with transaction.atomic():
        for field, value in new.items():
            setattr(option, field, value)
        option.save(update_fields=[*new.keys(), "updated_at"])
        audit_log(actor=actor, action="catalog.option_update", target=option, old=old, new=new)
    return option
