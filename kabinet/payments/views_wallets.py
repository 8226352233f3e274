"""Cabinet pages: e-wallets (link, top up, unlink) and autopay (set up with a saved card, switch)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.billing.selectors import personal_account_list_for_user
from kabinet.core.exceptions import DomainError
from kabinet.payments.autopay import (
    autopay_days_left,
    autopay_list,
    autopay_set_enabled,
    autopay_setup_start,
    autopay_sync,
)
from kabinet.payments.models import AutopaySetting, Payment
from kabinet.payments.wallets import (
    SUPPORTED_WALLET_TYPES,
    wallet_link_list,
    wallet_links_sync,
    wallet_pay_start,
    wallet_topup,
    wallet_unlink,
)


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _accounts(request: HttpRequest) -> list[tuple[int, str]]:
    return [
        (a.pk, f"{a.number} — {a.get_service_kind_display()}")
        for a in personal_account_list_for_user(user=request.user).exclude(status="terminated")
    ]


class _AccountForm(forms.Form):
    personal_account = forms.TypedChoiceField(label=gettext_lazy("Лицевой счёт"), coerce=int)
    token = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["personal_account"].choices = accounts  # type: ignore[attr-defined]


class WalletPayForm(_AccountForm):
    wallet_type = forms.ChoiceField(
        label=gettext_lazy("Кошелёк"),
        choices=[(t.value, t.label) for t in SUPPORTED_WALLET_TYPES],
    )
    amount = forms.CharField(label=gettext_lazy("Сумма, ₽"), max_length=12)
    remember = forms.BooleanField(
        label=gettext_lazy("Привязать кошелёк к профилю"), required=False, initial=True
    )


class WalletTopupForm(_AccountForm):
    amount = forms.CharField(label=gettext_lazy("Сумма, ₽"), max_length=12)


class AutopayForm(_AccountForm):
    trigger = forms.ChoiceField(label=gettext_lazy("Когда пополнять"), choices=AutopaySetting.Trigger.choices)
    days_left_threshold = forms.IntegerField(
        label=gettext_lazy("Если денег осталось меньше чем на, дней"), min_value=1, max_value=30, initial=3
    )
    day_of_month = forms.IntegerField(label=gettext_lazy("День месяца"), min_value=1, max_value=28, initial=1)
    amount = forms.CharField(label=gettext_lazy("Сумма пополнения, ₽"), max_length=12)
    max_per_payment = forms.CharField(
        label=gettext_lazy("Не больше за один платёж, ₽"), max_length=12, initial="15000"
    )
    max_per_month = forms.CharField(
        label=gettext_lazy("Не больше в месяц, ₽"), max_length=12, initial="30000"
    )


def _wallets_page(request: HttpRequest, *, pay_form: Any = None, status: int = 200) -> HttpResponse:
    accounts = _accounts(request)
    links = list(wallet_link_list(user=request.user))
    return render(
        request,
        "payments/wallets.html",
        {
            "links": links,
            "pay_form": pay_form or WalletPayForm(accounts=accounts, initial={"token": uuid.uuid4().hex}),
            "topup_forms": [
                (
                    link,
                    WalletTopupForm(
                        accounts=accounts, initial={"token": uuid.uuid4().hex}, prefix=f"w{link.pk}"
                    ),
                )
                for link in links
            ],
            "has_accounts": bool(accounts),
        },
        status=status,
    )


@login_required
def wallets(request: HttpRequest) -> HttpResponse:
    if wallet_links_sync(user=request.user):
        messages.success(request, _("Кошелёк привязан к профилю."))
    return _wallets_page(request)


@login_required
@require_POST
def wallet_pay(request: HttpRequest) -> HttpResponse:
    form = WalletPayForm(request.POST, accounts=_accounts(request))
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = wallet_pay_start(
                user=request.user,
                personal_account_id=data["personal_account"],
                wallet_type=data["wallet_type"],
                amount=data["amount"],
                idempotency_key=f"wallet:{data['token']}",
                remember=data["remember"],
                site_url=_site_url(request),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else "amount", exc.message)
        else:
            if payment.confirmation_url:
                return redirect(payment.confirmation_url)
            return redirect("payments:status", public_id=payment.public_id)
    return _wallets_page(request, pay_form=form, status=400)


@login_required
@require_POST
def wallet_topup_view(request: HttpRequest, link_id: int) -> HttpResponse:
    form = WalletTopupForm(request.POST, accounts=_accounts(request), prefix=f"w{link_id}")
    if form.is_valid():
        try:
            payment = wallet_topup(
                user=request.user,
                link_id=link_id,
                personal_account_id=form.cleaned_data["personal_account"],
                amount=form.cleaned_data["amount"],
                idempotency_key=f"wallet:{form.cleaned_data['token']}",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("payments:wallets")
        return redirect("payments:status", public_id=payment.public_id)
    messages.error(request, _("Проверьте сумму и лицевой счёт."))
    return redirect("payments:wallets")


@login_required
@require_POST
def wallet_unlink_view(request: HttpRequest, link_id: int) -> HttpResponse:
    try:
        wallet_unlink(user=request.user, link_id=link_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Кошелёк отвязан."))
    return redirect("payments:wallets")


def _autopay_page(request: HttpRequest, *, form: Any = None, status: int = 200) -> HttpResponse:
    accounts = _accounts(request)
    settings_rows = [
        (s, autopay_days_left(personal_account=s.personal_account)) for s in autopay_list(user=request.user)
    ]
    return render(
        request,
        "payments/autopay.html",
        {
            "settings_rows": settings_rows,
            "form": form or AutopayForm(accounts=accounts, initial={"token": uuid.uuid4().hex}),
            "has_accounts": bool(accounts),
        },
        status=status,
    )


@login_required
def autopay(request: HttpRequest) -> HttpResponse:
    if autopay_sync(user=request.user):
        messages.success(request, _("Карта сохранена, автоплатёж включён."))
    if request.method == "POST":
        form = AutopayForm(request.POST, accounts=_accounts(request))
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment: Payment = autopay_setup_start(
                    user=request.user,
                    personal_account_id=data["personal_account"],
                    amount=data["amount"],
                    trigger=data["trigger"],
                    days_left_threshold=data["days_left_threshold"],
                    day_of_month=data["day_of_month"],
                    max_per_payment=data["max_per_payment"],
                    max_per_month=data["max_per_month"],
                    idempotency_key=f"autopay-setup:{data['token']}",
                    site_url=_site_url(request),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else "amount", exc.message)
            else:
                if payment.confirmation_url:
                    return redirect(payment.confirmation_url)
                return redirect("payments:status", public_id=payment.public_id)
        return _autopay_page(request, form=form, status=400)
    return _autopay_page(request)


@login_required
@require_POST
def autopay_switch(request: HttpRequest, setting_id: int) -> HttpResponse:
    try:
        autopay_set_enabled(
            user=request.user, setting_id=setting_id, enabled=request.POST.get("enabled") == "1"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("payments:autopay")
