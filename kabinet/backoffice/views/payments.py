"""Back office, payments: search and timeline, refunds, office cash, bank registries (import history,
upload, review queue), the operator's payment rules and the bonus programme's rule.

Thin views: forms parse input, services change things and audit (kabinet.payments.services,
registries, office; kabinet.bonus.services). A refused change re-renders the page with the error and
answers 400; nothing is changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.backoffice.access import staff_required
from kabinet.billing.numbers import personal_account_number_clean
from kabinet.bonus.services import bonus_rule_get, bonus_rule_update
from kabinet.core.exceptions import DomainError
from kabinet.core.money import MoneyInputError, format_kopecks, rubles_to_kopecks
from kabinet.payments.models import Payment, PaymentRules, RegistryFile, RegistryImport, RegistryLine
from kabinet.payments.office import payment_office_create
from kabinet.payments.registries import (
    registry_import_requeue,
    registry_line_reject,
    registry_line_resolve_credit,
    registry_upload,
)
from kabinet.payments.rules import payment_rules_get
from kabinet.payments.services import payment_refund, payment_rules_update

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- search and timeline -------------------------------------------------------------------------


class PaymentSearchForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("Лицевой счёт"), required=False, max_length=20)
    card = forms.CharField(
        label=gettext_lazy("Карта (последние цифры или маска)"), required=False, max_length=32
    )
    acquirer_id = forms.CharField(label=gettext_lazy("Номер платежа в банке"), required=False, max_length=64)
    status = forms.ChoiceField(
        label=gettext_lazy("Статус"), required=False, choices=[("", "—"), *Payment.Status.choices]
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Способ"), required=False, choices=[("", "—"), *Payment.Method.choices]
    )
    date_from = forms.DateField(
        label=gettext_lazy("С даты"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("По дату"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def payment_search_queryset(data: dict[str, Any]) -> Any:
    qs = Payment.objects.select_related("personal_account").order_by("-created_at", "-id")
    if data.get("account"):
        qs = qs.filter(personal_account__number=personal_account_number_clean(data["account"]))
    if data.get("card"):
        card = data["card"].replace(" ", "")
        qs = qs.filter(card_mask__endswith=card) if card.isdigit() else qs.filter(card_mask=card)
    if data.get("acquirer_id"):
        value = data["acquirer_id"].strip()
        qs = qs.filter(Q(acquirer_payment_id=value) | Q(bank_transaction_id=value))
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("method"):
        qs = qs.filter(method=data["method"])
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        qs = qs.filter(created_at__gte=dt.datetime.combine(data["date_from"], dt.time.min, tzinfo=tz))
    if data.get("date_to"):
        qs = qs.filter(
            created_at__lt=dt.datetime.combine(data["date_to"], dt.time.min, tzinfo=tz) + dt.timedelta(1)
        )
    return qs


@staff_required
def payment_search(request: HttpRequest) -> HttpResponse:
    form = PaymentSearchForm(request.GET or None)
    searched = form.is_bound and form.is_valid() and any(form.cleaned_data.values())
    page = _page(request, payment_search_queryset(form.cleaned_data)) if searched else None
    if page is None and not form.is_bound:
        page = _page(request, payment_search_queryset({}))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "backoffice/payments/search.html", {"form": form, "page": page, "query": query.urlencode()}
    )


class RefundForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Сумма возврата, ₽ (пусто — вся доступная)"), required=False, max_length=20
    )
    reason = forms.CharField(label=gettext_lazy("Причина возврата"), max_length=255)


def _payment_detail(
    request: HttpRequest, payment: Payment, refund_form: RefundForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "backoffice/payments/detail.html",
        {
            "payment": payment,
            "events": payment.events.all(),
            "refunds": payment.refunds.order_by("created_at"),
            "refund_form": refund_form,
            "can_refund": payment.status == Payment.Status.SUCCEEDED
            and bool(payment.acquirer_payment_id)
            and payment.refunded_kopecks < payment.amount_kopecks,
        },
        status=status,
    )


@staff_required
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("personal_account", "transfer"), pk=payment_id)
    return _payment_detail(request, payment, RefundForm())


@staff_required
@require_POST
def payment_refund_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment.objects.select_related("personal_account", "transfer"), pk=payment_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            amount = rubles_to_kopecks(form.cleaned_data["amount"]) if form.cleaned_data["amount"] else None
            refund = payment_refund(
                payment=payment, actor=request.user, reason=form.cleaned_data["reason"], amount_kopecks=amount
            )
        except MoneyInputError as exc:
            form.add_error("amount", exc.message)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Возврат %(amount)s отправлен в банк: %(status)s.")
                % {"amount": format_kopecks(refund.amount_kopecks), "status": refund.get_status_display()},
            )
            return redirect("backoffice:payment_detail", payment_id=payment.pk)
    return _payment_detail(request, payment, form, status=400)


# --- office cash ---------------------------------------------------------------------------------


class OfficePaymentForm(forms.Form):
    account_number = forms.CharField(label=gettext_lazy("Лицевой счёт"), max_length=20)
    amount = forms.CharField(label=gettext_lazy("Сумма, ₽"), max_length=20)
    payer = forms.CharField(label=gettext_lazy("Плательщик"), required=False, max_length=255)
    office = forms.CharField(label=gettext_lazy("Офис"), required=False, max_length=100)
    receipt_email = forms.EmailField(label=gettext_lazy("Email для квитанции"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=48)


@staff_required
def office_payment(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = OfficePaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = payment_office_create(
                    actor=request.user,
                    account_number=data["account_number"],
                    amount=data["amount"],
                    payer=data["payer"],
                    office=data["office"],
                    receipt_email=data["receipt_email"] or "",
                    idempotency_key=data["token"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else "amount", exc.message)
            else:
                messages.success(
                    request,
                    _("Платёж %(amount)s зачислен на лицевой счёт %(number)s.")
                    % {
                        "amount": format_kopecks(payment.amount_kopecks),
                        "number": payment.personal_account.number,
                    },
                )
                return redirect("backoffice:payment_detail", payment_id=payment.pk)
        return render(request, "backoffice/payments/office.html", {"form": form}, status=400)
    form = OfficePaymentForm(
        initial={"token": uuid.uuid4().hex, "account_number": request.GET.get("account", "")[:20]}
    )
    return render(request, "backoffice/payments/office.html", {"form": form})


# --- bank registries -----------------------------------------------------------------------------


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Файл реестра (CSV)"))


def _registry_list(
    request: HttpRequest, form: RegistryUploadForm, status: int = 200, partial: bool = False
) -> HttpResponse:
    page = _page(request, RegistryImport.objects.select_related("actor").order_by("-created_at", "-id"))
    context = {
        "form": form,
        "page": page,
        "pending": RegistryLine.objects.filter(status=RegistryLine.Status.NEEDS_REVIEW).count(),
        "active": any(r.is_active for r in page.object_list),
    }
    if partial:  # htmx polling while an import on the page is queued or running
        return render(request, "backoffice/payments/_registry_imports.html", context)
    return render(request, "backoffice/payments/registries.html", context, status=status)


@staff_required
def registry_list(request: HttpRequest) -> HttpResponse:
    """Import history and upload. An upload is stored and imported by a Celery task; the history
    refreshes itself (htmx) until every import on the page is done or failed."""
    if request.method == "POST":
        form = RegistryUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = registry_upload(data=upload.read(), file_name=upload.name, actor=request.user)
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request,
                    _("Реестр «%(name)s» принят и загружается; итог появится на этой странице.")
                    % {"name": record.file_name},
                )
                return redirect("backoffice:registry_detail", import_id=record.pk)
        return _registry_list(request, form, status=400)
    return _registry_list(request, RegistryUploadForm(), partial=bool(getattr(request, "htmx", False)))


@staff_required
def registry_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    record = get_object_or_404(RegistryImport.objects.select_related("actor"), pk=import_id)
    lines = record.lines.select_related("personal_account").order_by("line_no")
    status = request.GET.get("status", "")
    if status in RegistryLine.Status.values:
        lines = lines.filter(status=status)
    context = {
        "record": record,
        "page": _page(request, lines),
        "status": status,
        "statuses": RegistryLine.Status.choices,
        "can_retry": record.status == RegistryImport.Status.FAILED
        and RegistryFile.objects.filter(registry_import=record).exists(),
    }
    if getattr(request, "htmx", False):
        return render(request, "backoffice/payments/_registry_detail_body.html", context)
    return render(request, "backoffice/payments/registry_detail.html", context)


@staff_required
@require_POST
def registry_retry(request: HttpRequest, import_id: int) -> HttpResponse:
    try:
        registry_import_requeue(import_id=import_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Загрузка реестра запущена снова."))
    return redirect("backoffice:registry_detail", import_id=import_id)


class ResolveForm(forms.Form):
    account_number = forms.CharField(label=gettext_lazy("Верный лицевой счёт"), max_length=20)
    reason = forms.CharField(label=gettext_lazy("Комментарий"), required=False, max_length=255)


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Причина отказа"), max_length=255)


def _review(request: HttpRequest, errors: dict[int, str] | None = None, status: int = 200) -> HttpResponse:
    lines = (
        RegistryLine.objects.filter(status=RegistryLine.Status.NEEDS_REVIEW)
        .select_related("registry_import")
        .order_by("registry_import_id", "line_no")
    )
    return render(
        request,
        "backoffice/payments/review.html",
        {"page": _page(request, lines), "errors": errors or {}},
        status=status,
    )


@staff_required
def registry_review(request: HttpRequest) -> HttpResponse:
    return _review(request)


@staff_required
@require_POST
def registry_line_resolve(request: HttpRequest, line_id: int) -> HttpResponse:
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            line = registry_line_resolve_credit(
                line_id=line_id,
                account_number=form.cleaned_data["account_number"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            return _review(request, {line_id: exc.message}, status=400)
        messages.success(
            request,
            _("Строка %(n)s зачислена на лицевой счёт %(number)s.")
            % {"n": line.line_no, "number": line.personal_account.number if line.personal_account else ""},
        )
        return redirect("backoffice:registry_review")
    return _review(request, {line_id: _("Укажите номер лицевого счёта.")}, status=400)


@staff_required
@require_POST
def registry_line_reject_view(request: HttpRequest, line_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            line = registry_line_reject(
                line_id=line_id, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            return _review(request, {line_id: exc.message}, status=400)
        messages.success(request, _("Строка %(n)s отклонена.") % {"n": line.line_no})
        return redirect("backoffice:registry_review")
    return _review(request, {line_id: _("Укажите причину отказа.")}, status=400)


# --- payment rules and bonus rules ---------------------------------------------------------------


class PaymentRulesForm(forms.ModelForm):
    reason = forms.CharField(label=gettext_lazy("Причина изменения"), max_length=255)

    class Meta:
        model = PaymentRules
        fields = (
            "whole_rubles_only",
            "min_amount_kopecks",
            "max_amount_kopecks",
            "same_card_interval_minutes",
            "period_limit_kopecks",
            "period_days",
            "allowed_issuer_countries",
            "allowed_card_brands",
            "blocked_card_classes",
        )


@staff_required
def payment_rules_edit(request: HttpRequest) -> HttpResponse:
    rules = payment_rules_get()
    status = 200
    if request.method == "POST":
        form = PaymentRulesForm(request.POST, instance=PaymentRules(pk=rules.pk))
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in PaymentRulesForm.Meta.fields}
            try:
                payment_rules_update(actor=request.user, reason=form.cleaned_data["reason"], **changes)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Правила оплаты сохранены; они действуют для новых платежей."))
                return redirect("backoffice:payment_rules")
        status = 400
    else:
        form = PaymentRulesForm(instance=rules)
    return render(request, "backoffice/payments/rules.html", {"form": form, "rules": rules}, status=status)


class BonusRulesForm(forms.Form):
    points_per_100_rub = forms.IntegerField(label=gettext_lazy("Баллов за каждые 100 ₽ платежа"), min_value=0)
    min_payment_rub = forms.IntegerField(
        label=gettext_lazy("Минимальный платёж для начисления, ₽"), min_value=0
    )
    kopecks_per_point = forms.IntegerField(label=gettext_lazy("Стоимость балла, копеек"), min_value=1)
    expiry_days = forms.IntegerField(label=gettext_lazy("Срок действия баллов, дней"), min_value=1)
    is_active = forms.BooleanField(label=gettext_lazy("Начисление включено"), required=False)
    reason = forms.CharField(label=gettext_lazy("Причина изменения"), max_length=255)


@staff_required
def bonus_rules_edit(request: HttpRequest) -> HttpResponse:
    rule = bonus_rule_get()
    status = 200
    if request.method == "POST":
        form = BonusRulesForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                bonus_rule_update(
                    actor=request.user,
                    reason=data["reason"],
                    points_per_100_rub=data["points_per_100_rub"],
                    min_payment_kopecks=data["min_payment_rub"] * 100,
                    kopecks_per_point=data["kopecks_per_point"],
                    expiry_days=data["expiry_days"],
                    is_active=data["is_active"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Правила «Летай Бонус» сохранены."))
                return redirect("backoffice:bonus_rules")
        status = 400
    else:
        form = BonusRulesForm(
            initial={
                "points_per_100_rub": rule.points_per_100_rub,
                "min_payment_rub": rule.min_payment_kopecks // 100,
                "kopecks_per_point": rule.kopecks_per_point,
                "expiry_days": rule.expiry_days,
                "is_active": rule.is_active,
            }
        )
    return render(
        request, "backoffice/payments/bonus_rules.html", {"form": form, "rule": rule}, status=status
    )
