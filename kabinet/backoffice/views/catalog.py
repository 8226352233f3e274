"""Back office, catalog: tariffs, options, bundles and their price versions.

Every change goes through ``kabinet.catalog.services`` (which validates and audits). A price change is
a new price version with an effective date (today or later); existing subscriptions keep their price
snapshot until it takes effect. A refused change re-renders the page with the error at its field (400).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.backoffice.access import staff_required
from kabinet.backoffice.views.billing import BackofficeForm, form_kopecks, rubles_text
from kabinet.catalog import services as catalog
from kabinet.catalog.models import Bundle, Option, Period, PriceVersion, ServiceKind, Tariff
from kabinet.core.exceptions import DomainError

_REQUIRED = {"required": gettext_lazy("Обязательное поле.")}


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        error_messages={
            "required": gettext_lazy("Укажите дату."),
            "invalid": gettext_lazy("Дата указана неверно: ДД.ММ.ГГГГ."),
        },
    )


def _price_field(label: Any, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        required=required,
        help_text=gettext_lazy("В рублях, например 415 или 8,50."),
        error_messages={"required": gettext_lazy("Укажите цену.")},
    )


def _params_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Параметры (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy('Показываются абоненту, например {"speed_mbps": 100} или {"channels": 150}.'),
    )


def _parse_params(text: str) -> dict[str, Any]:
    if not (text or "").strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise forms.ValidationError(_('Параметры: нужен JSON-объект, например {"speed_mbps": 100}.'))
    return value


class _PriceMixin:
    cleaned_data: dict[str, Any]

    def clean_price(self) -> int:
        return form_kopecks(self.cleaned_data["price"], allow_zero=True)


class TariffCreateForm(_PriceMixin, BackofficeForm):
    code = forms.SlugField(
        label=gettext_lazy("Код (латиница, цифры, дефис)"),
        max_length=64,
        error_messages={
            **_REQUIRED,
            "invalid": gettext_lazy("Код: только латинские буквы, цифры, дефис и _."),
        },
    )
    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    service_kind = forms.ChoiceField(label=gettext_lazy("Услуга"), choices=ServiceKind.choices)
    period = forms.ChoiceField(label=gettext_lazy("Абонентская плата"), choices=Period.choices)
    price = _price_field(gettext_lazy("Цена, ₽"))
    effective_from = _date_field(gettext_lazy("Цена действует с"))
    description = forms.CharField(
        label=gettext_lazy("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    params = _params_field()
    voluntary_block_fee = forms.CharField(
        label=gettext_lazy("Плата за сутки добровольной блокировки, ₽"), max_length=20, initial="0"
    )

    def clean_params(self) -> dict[str, Any]:
        return _parse_params(self.cleaned_data.get("params", ""))

    def clean_voluntary_block_fee(self) -> int:
        return form_kopecks(self.cleaned_data["voluntary_block_fee"], allow_zero=True)


class TariffEditForm(BackofficeForm):
    prefix = "edit"

    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    description = forms.CharField(
        label=gettext_lazy("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    params = _params_field()
    voluntary_block_fee = forms.CharField(
        label=gettext_lazy("Плата за сутки добровольной блокировки, ₽"),
        max_length=20,
        error_messages=_REQUIRED,
    )

    def clean_params(self) -> dict[str, Any]:
        return _parse_params(self.cleaned_data.get("params", ""))

    def clean_voluntary_block_fee(self) -> int:
        return form_kopecks(self.cleaned_data["voluntary_block_fee"], allow_zero=True)


class PriceChangeForm(_PriceMixin, BackofficeForm):
    prefix = "price"

    price = _price_field(gettext_lazy("Новая цена, ₽"))
    effective_from = _date_field(gettext_lazy("Действует с"))


class StatusReasonForm(BackofficeForm):
    prefix = "st"

    reason = forms.CharField(
        label=gettext_lazy("Причина"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Укажите причину.")},
    )


class SwitchableForm(BackofficeForm):
    prefix = "sw"

    targets = forms.ModelMultipleChoiceField(
        label=gettext_lazy("На какие тарифы можно перейти"),
        queryset=Tariff.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, tariff: Tariff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["targets"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = (
            Tariff.objects.filter(service_kind=tariff.service_kind).exclude(pk=tariff.pk).order_by("name")
        )


def _with_prices(items: list[Any], today: dt.date) -> list[Any]:
    for item in items:
        versions = sorted(item.prices.all(), key=lambda v: v.effective_from, reverse=True)
        item.current_price = next((v for v in versions if v.effective_from <= today), None)
        upcoming = [v for v in versions if v.effective_from > today]
        item.next_price = upcoming[-1] if upcoming else None
    return items


# --- tariffs ---------------------------------------------------------------------------------------------


@staff_required
def tariff_list(request: HttpRequest) -> HttpResponse:
    tariffs = Tariff.objects.prefetch_related("prices").order_by("service_kind", "status", "name")
    kind = request.GET.get("kind", "")
    if kind in ServiceKind.values:
        tariffs = tariffs.filter(service_kind=kind)
    rows = _with_prices(list(tariffs), timezone.localdate())
    return render(
        request,
        "backoffice/catalog/tariff_list.html",
        {"tariffs": rows, "kinds": ServiceKind.choices, "kind": kind},
    )


@staff_required
def tariff_create(request: HttpRequest) -> HttpResponse:
    form = TariffCreateForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tariff = catalog.tariff_create(
                code=data["code"],
                name=data["name"],
                service_kind=data["service_kind"],
                period=data["period"],
                price_kopecks=data["price"],
                effective_from=data["effective_from"],
                description=data["description"],
                params=data["params"],
                voluntary_block_fee_kopecks=data["voluntary_block_fee"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_map_price_field(exc))
        else:
            messages.success(request, _("Тариф создан."))
            return redirect("backoffice:tariff_detail", tariff_id=tariff.pk)
    return render(
        request,
        "backoffice/catalog/tariff_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _map_price_field(exc: DomainError) -> DomainError:
    """Catalog services name the field ``price_kopecks``; the forms call it ``price``."""
    if exc.field == "price_kopecks":
        exc.field = "price"
    elif exc.field == "voluntary_block_fee_kopecks":
        exc.field = "voluntary_block_fee"
    return exc


def _tariff_page(
    request: HttpRequest,
    tariff: Tariff,
    *,
    edit_form: TariffEditForm | None = None,
    price_form: PriceChangeForm | None = None,
    status_form: StatusReasonForm | None = None,
    switch_form: SwitchableForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tariff = Tariff.objects.get(pk=tariff.pk)
    context = {
        "tariff": tariff,
        "today": timezone.localdate(),
        "versions": PriceVersion.objects.filter(tariff=tariff).order_by("-effective_from"),
        "edit_form": edit_form
        or TariffEditForm(
            initial={
                "name": tariff.name,
                "description": tariff.description,
                "params": json.dumps(tariff.params, ensure_ascii=False) if tariff.params else "",
                "voluntary_block_fee": rubles_text(tariff.voluntary_block_fee_kopecks),
            }
        ),
        "price_form": price_form or PriceChangeForm(initial={"effective_from": timezone.localdate()}),
        "status_form": status_form or StatusReasonForm(),
        "switch_form": switch_form
        or SwitchableForm(tariff=tariff, initial={"targets": list(tariff.switchable_to.all())}),
    }
    return render(request, "backoffice/catalog/tariff_detail.html", context, status=status)


@staff_required
def tariff_detail(request: HttpRequest, tariff_id: int) -> HttpResponse:
    return _tariff_page(request, get_object_or_404(Tariff, pk=tariff_id))


@staff_required
@require_POST
def tariff_edit(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = get_object_or_404(Tariff, pk=tariff_id)
    form = TariffEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = {
                field: value
                for field, value in (
                    ("name", data["name"]),
                    ("description", data["description"]),
                    ("params", data["params"]),
                    ("voluntary_block_fee_kopecks", data["voluntary_block_fee"]),
                )
                if getattr(tariff, field) != value
            }
            catalog.tariff_update(tariff=tariff, actor=request.user, **changed)
        except DomainError as exc:
            form.add_domain_error(_map_price_field(exc))
        else:
            messages.success(request, _("Тариф сохранён."))
            return redirect("backoffice:tariff_detail", tariff_id=tariff.pk)
    return _tariff_page(request, tariff, edit_form=form, status=400)


@staff_required
@require_POST
def tariff_price(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = get_object_or_404(Tariff, pk=tariff_id)
    form = PriceChangeForm(request.POST)
    if form.is_valid():
        try:
            catalog.tariff_price_change(
                tariff=tariff,
                price_kopecks=form.cleaned_data["price"],
                effective_from=form.cleaned_data["effective_from"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_map_price_field(exc))
        else:
            messages.success(request, _("Новая цена добавлена."))
            return redirect("backoffice:tariff_detail", tariff_id=tariff.pk)
    return _tariff_page(request, tariff, price_form=form, status=400)


@staff_required
@require_POST
def tariff_status(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = get_object_or_404(Tariff, pk=tariff_id)
    form = StatusReasonForm(request.POST)
    if form.is_valid():
        change = (
            catalog.tariff_archive if tariff.status == Tariff.Status.AVAILABLE else catalog.tariff_restore
        )
        change(tariff=tariff, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Статус тарифа изменён."))
        return redirect("backoffice:tariff_detail", tariff_id=tariff.pk)
    return _tariff_page(request, tariff, status_form=form, status=400)


@staff_required
@require_POST
def tariff_switchable(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = get_object_or_404(Tariff, pk=tariff_id)
    form = SwitchableForm(request.POST, tariff=tariff)
    if form.is_valid():
        try:
            catalog.tariff_set_switchable(
                tariff=tariff, targets=form.cleaned_data["targets"], actor=request.user
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Список тарифов для перехода сохранён."))
            return redirect("backoffice:tariff_detail", tariff_id=tariff.pk)
    return _tariff_page(request, tariff, switch_form=form, status=400)


# --- options ---------------------------------------------------------------------------------------------


class OptionCreateForm(_PriceMixin, BackofficeForm):
    code = forms.SlugField(
        label=gettext_lazy("Код (латиница, цифры, дефис)"),
        max_length=64,
        error_messages={
            **_REQUIRED,
            "invalid": gettext_lazy("Код: только латинские буквы, цифры, дефис и _."),
        },
    )
    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    kind = forms.ChoiceField(label=gettext_lazy("Вид"), choices=Option.Kind.choices)
    service_kind = forms.ChoiceField(label=gettext_lazy("Услуга"), choices=ServiceKind.choices)
    period = forms.ChoiceField(label=gettext_lazy("Оплата"), choices=Option.OptionPeriod.choices)
    price = _price_field(gettext_lazy("Цена, ₽"))
    effective_from = _date_field(gettext_lazy("Цена действует с"))
    description = forms.CharField(
        label=gettext_lazy("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    params = _params_field()

    def clean_params(self) -> dict[str, Any]:
        return _parse_params(self.cleaned_data.get("params", ""))


class OptionEditForm(BackofficeForm):
    prefix = "edit"

    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    description = forms.CharField(
        label=gettext_lazy("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    params = _params_field()

    def clean_params(self) -> dict[str, Any]:
        return _parse_params(self.cleaned_data.get("params", ""))


@staff_required
def option_list(request: HttpRequest) -> HttpResponse:
    options = Option.objects.prefetch_related("prices").order_by("service_kind", "kind", "name")
    return render(
        request,
        "backoffice/catalog/option_list.html",
        {"options": _with_prices(list(options), timezone.localdate())},
    )


@staff_required
def option_create(request: HttpRequest) -> HttpResponse:
    form = OptionCreateForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            option = catalog.option_create(
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                service_kind=data["service_kind"],
                period=data["period"],
                price_kopecks=data["price"],
                effective_from=data["effective_from"],
                description=data["description"],
                params=data["params"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_map_price_field(exc))
        else:
            messages.success(request, _("Опция создана."))
            return redirect("backoffice:option_detail", option_id=option.pk)
    return render(
        request,
        "backoffice/catalog/option_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _option_page(
    request: HttpRequest,
    option: Option,
    *,
    price_form: PriceChangeForm | None = None,
    status_form: StatusReasonForm | None = None,
    edit_form: OptionEditForm | None = None,
    status: int = 200,
) -> HttpResponse:
    option = Option.objects.get(pk=option.pk)
    context = {
        "option": option,
        "today": timezone.localdate(),
        "versions": PriceVersion.objects.filter(option=option).order_by("-effective_from"),
        "compatible": option.compatible_tariffs.order_by("name"),
        "price_form": price_form or PriceChangeForm(initial={"effective_from": timezone.localdate()}),
        "status_form": status_form or StatusReasonForm(),
        "edit_form": edit_form
        or OptionEditForm(
            initial={
                "name": option.name,
                "description": option.description,
                "params": json.dumps(option.params, ensure_ascii=False) if option.params else "",
            }
        ),
    }
    return render(request, "backoffice/catalog/option_detail.html", context, status=status)


@staff_required
@require_POST
def option_edit(request: HttpRequest, option_id: int) -> HttpResponse:
    option = get_object_or_404(Option, pk=option_id)
    form = OptionEditForm(request.POST)
    if form.is_valid():
        try:
            catalog.option_update(
                option=option,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                params=form.cleaned_data["params"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Опция сохранена."))
            return redirect("backoffice:option_detail", option_id=option.pk)
    return _option_page(request, option, edit_form=form, status=400)


@staff_required
def option_detail(request: HttpRequest, option_id: int) -> HttpResponse:
    return _option_page(request, get_object_or_404(Option, pk=option_id))


@staff_required
@require_POST
def option_price(request: HttpRequest, option_id: int) -> HttpResponse:
    option = get_object_or_404(Option, pk=option_id)
    form = PriceChangeForm(request.POST)
    if form.is_valid():
        try:
            catalog.option_price_change(
                option=option,
                price_kopecks=form.cleaned_data["price"],
                effective_from=form.cleaned_data["effective_from"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_map_price_field(exc))
        else:
            messages.success(request, _("Новая цена добавлена."))
            return redirect("backoffice:option_detail", option_id=option.pk)
    return _option_page(request, option, price_form=form, status=400)


@staff_required
@require_POST
def option_availability(request: HttpRequest, option_id: int) -> HttpResponse:
    option = get_object_or_404(Option, pk=option_id)
    form = StatusReasonForm(request.POST)
    if form.is_valid():
        catalog.option_set_available(
            option=option,
            is_available=not option.is_available,
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _("Доступность опции изменена."))
        return redirect("backoffice:option_detail", option_id=option.pk)
    return _option_page(request, option, status_form=form, status=400)


# --- bundles ---------------------------------------------------------------------------------------------


def _discount_bp(text: str) -> int:
    cleaned = (text or "").strip().replace(",", ".").replace("%", "").strip()
    try:
        percent = Decimal(cleaned)
    except InvalidOperation:
        raise forms.ValidationError(
            _("Скидка указана неверно: введите число процентов, например 10.")
        ) from None
    bp = percent * 100
    if bp != bp.to_integral_value() or not 0 <= bp <= 9000:
        raise forms.ValidationError(_("Скидка пакета должна быть от 0 до 90%."))
    return int(bp)


class BundleCreateForm(BackofficeForm):
    code = forms.SlugField(
        label=gettext_lazy("Код (латиница, цифры, дефис)"),
        max_length=64,
        error_messages={
            **_REQUIRED,
            "invalid": gettext_lazy("Код: только латинские буквы, цифры, дефис и _."),
        },
    )
    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    tariffs = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Тарифы в пакете (по одному на услугу)"),
        queryset=Tariff.objects.filter(status=Tariff.Status.AVAILABLE).order_by("service_kind", "name"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Выберите тарифы пакета.")},
    )
    discount = forms.CharField(label=gettext_lazy("Скидка, %"), max_length=10, error_messages=_REQUIRED)
    description = forms.CharField(
        label=gettext_lazy("Описание"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_discount(self) -> int:
        return _discount_bp(self.cleaned_data["discount"])


class BundleEditForm(BackofficeForm):
    name = forms.CharField(label=gettext_lazy("Название"), max_length=255, error_messages=_REQUIRED)
    discount = forms.CharField(label=gettext_lazy("Скидка, %"), max_length=10, error_messages=_REQUIRED)
    is_available = forms.BooleanField(label=gettext_lazy("Доступен для подключения"), required=False)

    def clean_discount(self) -> int:
        return _discount_bp(self.cleaned_data["discount"])


def _discount_field_error(exc: DomainError) -> DomainError:
    if exc.field == "discount_bp":
        exc.field = "discount"
    return exc


@staff_required
def bundle_list(request: HttpRequest) -> HttpResponse:
    bundles = Bundle.objects.prefetch_related("tariffs").order_by("name")
    return render(request, "backoffice/catalog/bundle_list.html", {"bundles": bundles})


@staff_required
def bundle_create(request: HttpRequest) -> HttpResponse:
    form = BundleCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bundle = catalog.bundle_create(
                code=data["code"],
                name=data["name"],
                tariffs=data["tariffs"],
                discount_bp=data["discount"],
                description=data["description"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_discount_field_error(exc))
        else:
            messages.success(request, _("Пакет создан."))
            return redirect("backoffice:bundle_detail", bundle_id=bundle.pk)
    return render(
        request,
        "backoffice/catalog/bundle_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def bundle_detail(request: HttpRequest, bundle_id: int) -> HttpResponse:
    bundle = get_object_or_404(Bundle, pk=bundle_id)
    initial = {
        "name": bundle.name,
        "discount": f"{Decimal(bundle.discount_bp) / 100:f}".rstrip("0").rstrip(".").replace(".", ","),
        "is_available": bundle.is_available,
    }
    form = BundleEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.bundle_update(
                bundle=bundle,
                name=form.cleaned_data["name"],
                discount_bp=form.cleaned_data["discount"],
                is_available=form.cleaned_data["is_available"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(_discount_field_error(exc))
        else:
            messages.success(request, _("Пакет сохранён."))
            return redirect("backoffice:bundle_detail", bundle_id=bundle.pk)
    bundle.refresh_from_db()
    return render(
        request,
        "backoffice/catalog/bundle_detail.html",
        {"bundle": bundle, "form": form, "members": bundle.tariffs.order_by("service_kind")},
        status=400 if request.method == "POST" else 200,
    )
