"""Service management pages of one personal account: tariffs, options, switching a service off,
voluntary block, promised payment, consent log.

The writes and quotes are BILL-B's services in ``kabinet.subscriptions.services``; these views only
find the objects through owner-filtered selectors, parse input, call the services and render. Every POST
carries a one-time form token; htmx requests get a partial back, plain POSTs a redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.billing.models import PersonalAccount, Subscription
from kabinet.catalog.models import Option, Tariff
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.portal.selectors import (
    OptionSwitch,
    account_services,
    connectable_tariffs,
    consent_records_for_account,
    personal_account_with_services_for_user,
    related_accounts,
)
from kabinet.portal.services import DoubleSubmit, form_token_claim, form_token_release
from kabinet.subscriptions import selectors as sub_selectors
from kabinet.subscriptions import services as sub_services

WHEN_CHOICES = [
    (sub_services.NEXT_PERIOD, gettext_lazy("Со следующего периода")),
    (sub_services.NOW, gettext_lazy("Сейчас (с перерасчётом)")),
]


def _account_or_404(request: HttpRequest, account_id: int) -> PersonalAccount:
    try:
        return personal_account_with_services_for_user(user=request.user, personal_account_id=account_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _subscription_or_404(account: PersonalAccount, subscription_id: int) -> Subscription:
    for sub in getattr(account, "live_subscriptions", []):
        if sub.pk == subscription_id:
            return sub
    raise Http404(_("Услуга не найдена."))


def _client(request: HttpRequest) -> dict[str, Any]:
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
        "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:500],
    }


def _account_url(account: PersonalAccount, sub: Subscription | None = None) -> str:
    url = reverse("portal:account", args=[account.pk])
    if sub is not None:
        kind = sub.tariff.service_kind
        tab = {
            "mobile": "mobile",
            "tv": "tv",
            "landline": "landline",
            "video_surveillance": "video",
        }.get(kind, "internet")
        url += f"?tab={tab}#sub-{sub.pk}"
    return url


def _claim(request: HttpRequest) -> Any:
    """The form token record, or raises DomainError (DoubleSubmit when already used)."""
    return form_token_claim(user=request.user, token=request.POST.get("form_token", ""))


def _run(request: HttpRequest, action: Callable[[], Any], *, success: str, redirect_to: str) -> HttpResponse:
    try:
        record = _claim(request)
    except DoubleSubmit as exc:
        messages.info(request, exc.message)
        return redirect(redirect_to)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(redirect_to)
    try:
        action()
    except DomainError as exc:
        form_token_release(record=record)
        messages.error(request, exc.message)
        return redirect(redirect_to)
    messages.success(request, success)
    return redirect(redirect_to)


def account_page(request: HttpRequest, account: PersonalAccount, **extra: Any) -> HttpResponse:
    tabs = account_services(personal_account=account)
    wanted = request.GET.get("tab", "")
    current = next((t for t in tabs if t.code == wanted), tabs[0] if tabs else None)
    extra_blocks = []
    if current is not None and current.code == "internet":
        # Wi-Fi access points and IP telephony are their own personal accounts; shown here as blocks.
        others = related_accounts(user=request.user, kinds=("wifi", "ip_telephony"))
        for kind, title in (("wifi", _("Wi-Fi")), ("ip_telephony", _("IP-телефония"))):
            extra_blocks.append(
                {"kind": kind, "title": title, "accounts": [a for a in others if a.service_kind == kind]}
            )
    return render(
        request,
        "portal/account.html",
        {
            "account": account,
            "extra_blocks": extra_blocks,
            "connectable": connectable_tariffs(personal_account=account),
            "service_tabs": tabs,
            "current_tab": current,
            "tab": "services",
            "when_choices": WHEN_CHOICES,
            **extra,
        },
    )


@login_required
def consents(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    return render(
        request,
        "portal/consents.html",
        {
            "account": account,
            "records": consent_records_for_account(user=request.user, personal_account=account),
            "tab": "consents",
        },
    )


# --- Tariff change ----------------------------------------------------------------------------------


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        label=gettext_lazy("Я согласен с изменением и его стоимостью"),
        error_messages={"required": gettext_lazy("Подтвердите согласие с изменением и его стоимостью.")},
    )


def _tariff_from(request: HttpRequest, data: Any) -> Tariff:
    try:
        tariff_id = int(data.get("tariff", ""))
    except (TypeError, ValueError):
        raise DomainError(_("Выберите новый тариф."), field="tariff") from None
    tariff = Tariff.objects.filter(pk=tariff_id).first()
    if tariff is None:
        raise DomainError(_("Такого тарифа нет."), code="no_such_tariff", field="tariff")
    return tariff


@login_required
def tariff_change(request: HttpRequest, account_id: int, subscription_id: int) -> HttpResponse:
    """GET: the quote (price, proration, what happens) and a consent checkbox; POST: do it."""
    account = _account_or_404(request, account_id)
    sub = _subscription_or_404(account, subscription_id)
    data = request.POST if request.method == "POST" else request.GET
    when = data.get("when", "")
    try:
        tariff = _tariff_from(request, data)
        quote = sub_services.subscription_change_quote(
            subscription=sub, new_tariff=tariff, when=when, actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_account_url(account, sub))
    form = ConsentForm(request.POST if request.method == "POST" else None, label_suffix="")
    if request.method == "POST" and form.is_valid():
        if sub_services.NOW == when:
            success = _("Тариф сменён на «%(name)s».") % {"name": tariff.name}
        else:
            success = _(
                "Смена тарифа на «%(name)s» запланирована с %(date)s. До этой даты её можно отменить."
            ) % {
                "name": tariff.name,
                "date": quote.effective_on.strftime("%d.%m.%Y"),
            }
        return _run(
            request,
            lambda: sub_services.subscription_change_tariff(
                actor=request.user,
                subscription=sub,
                new_tariff=tariff,
                when=when,
                consent_given=True,
                consent_text=quote.consent_text,
                **_client(request),
            ),
            success=success,
            redirect_to=_account_url(account, sub),
        )
    return render(
        request,
        "portal/tariff_change.html",
        {
            "account": account,
            "sub": sub,
            "tariff": tariff,
            "quote": quote,
            "form": form,
            "when": when,
            "tab": "services",
        },
    )


@login_required
@require_POST
def tariff_change_cancel(request: HttpRequest, account_id: int, subscription_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    sub = _subscription_or_404(account, subscription_id)
    return _run(
        request,
        lambda: sub_services.subscription_cancel_scheduled_change(
            actor=request.user, subscription=sub, ip=_client(request)["ip"]
        ),
        success=_("Запланированная смена тарифа отменена."),
        redirect_to=_account_url(account, sub),
    )


@login_required
def subscription_off(request: HttpRequest, account_id: int, subscription_id: int) -> HttpResponse:
    """Switch a service off (today is its last day) after an explicit confirmation."""
    account = _account_or_404(request, account_id)
    sub = _subscription_or_404(account, subscription_id)
    form = forms.Form(request.POST or None)
    form.fields["confirm"] = forms.BooleanField(
        label=_("Я понимаю, что услуга «%(name)s» отключится сегодня") % {"name": sub.tariff.name},
        error_messages={"required": _("Подтвердите отключение услуги.")},
    )
    form.label_suffix = ""
    if request.method == "POST" and form.is_valid():
        return _run(
            request,
            lambda: sub_services.subscription_disconnect(
                actor=request.user,
                subscription=sub,
                reason="Отключена абонентом в кабинете",
                ip=_client(request)["ip"],
            ),
            success=_("Услуга «%(name)s» отключена.") % {"name": sub.tariff.name},
            redirect_to=reverse("portal:account", args=[account.pk]),
        )
    return render(
        request,
        "portal/subscription_off.html",
        {"account": account, "sub": sub, "form": form, "tab": "services"},
    )


@login_required
def connect(request: HttpRequest, account_id: int) -> HttpResponse:
    """Connect a tariff to an account that has no service: the quote, consent, then connect."""
    account = _account_or_404(request, account_id)
    data = request.POST if request.method == "POST" else request.GET
    try:
        tariff = _tariff_from(request, data)
        quote = sub_services.subscription_connect_quote(personal_account=account, tariff=tariff)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("portal:account", args=[account.pk]))
    form = ConsentForm(request.POST if request.method == "POST" else None, label_suffix="")
    if request.method == "POST" and form.is_valid():
        return _run(
            request,
            lambda: sub_services.subscription_connect(
                actor=request.user,
                personal_account=account,
                tariff=tariff,
                consent_given=True,
                consent_text=quote.consent_text,
                **_client(request),
            ),
            success=_("Тариф «%(name)s» подключён.") % {"name": tariff.name},
            redirect_to=reverse("portal:account", args=[account.pk]),
        )
    return render(
        request,
        "portal/connect.html",
        {"account": account, "tariff": tariff, "quote": quote, "form": form, "tab": "services"},
    )


# --- Options (htmx partial with a plain POST fallback) ---------------------------------------------


def _option_partial(
    request: HttpRequest, account_id: int, subscription_id: int, option_id: int, *, error: str = ""
) -> HttpResponse:
    account = _account_or_404(request, account_id)
    sub = _subscription_or_404(account, subscription_id)
    switch = None
    for tab in account_services(personal_account=account):
        for line in tab.lines:
            if line.subscription.pk == sub.pk:
                switch = next((sw for sw in line.options if sw.option.pk == option_id), None)
    if switch is None:
        option = Option.objects.filter(pk=option_id).first()
        if option is None:
            raise Http404
        switch = OptionSwitch(option=option, price_kopecks=None, active=None)
    return render(
        request,
        "portal/_option.html",
        {
            "sub": sub,
            "sw": switch,
            "option_error": error,
            "option_error_id": option_id,
            "just_switched": not error,
        },
    )


@login_required
@require_POST
def option_switch(
    request: HttpRequest, account_id: int, subscription_id: int, option_id: int
) -> HttpResponse:
    account = _account_or_404(request, account_id)
    sub = _subscription_or_404(account, subscription_id)
    action = request.POST.get("action", "")
    is_htmx = bool(getattr(request, "htmx", False))
    error = ""
    success = ""
    try:
        record = _claim(request)
    except DomainError as exc:
        record = None
        error = exc.message
    if record is not None:
        try:
            if action == "enable":
                option = Option.objects.filter(pk=option_id).first()
                if option is None:
                    raise DomainError(_("Такой опции нет."), code="no_such_option")
                quote = sub_services.subscription_option_quote(subscription=sub, option=option)
                sub_services.subscription_option_enable(
                    actor=request.user,
                    subscription=sub,
                    option=option,
                    consent_given=request.POST.get("consent") == "1" or quote.price_kopecks == 0,
                    consent_text=quote.consent_text,
                    **_client(request),
                )
                success = _("Опция «%(name)s» подключена.") % {"name": option.name}
            elif action == "disable":
                active = next(
                    (so for so in getattr(sub, "active_options", []) if so.option_id == option_id), None
                )
                if active is None:
                    raise DomainError(_("Эта опция не подключена."), code="not_enabled")
                sub_services.subscription_option_disable(
                    actor=request.user, subscription_option=active, ip=_client(request)["ip"]
                )
                success = _("Опция «%(name)s» отключена.") % {"name": active.option.name}
            else:
                raise DomainError(_("Неизвестное действие."))
        except DomainError as exc:
            form_token_release(record=record)
            error = exc.message
    if is_htmx:
        return _option_partial(request, account_id, subscription_id, option_id, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect(_account_url(account, sub))


# --- Voluntary block, promised payment -----------------------------------------------------------------


class BlockForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("На сколько дней"), min_value=1, max_value=365)
    consent = forms.BooleanField(
        label=gettext_lazy("Я согласен с условиями блокировки и её стоимостью"),
        error_messages={"required": gettext_lazy("Подтвердите согласие с условиями блокировки.")},
    )


@login_required
def voluntary_block(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    url = reverse("portal:voluntary_block", args=[account.pk])
    active = sub_selectors.voluntary_block_active(personal_account=account)
    if request.method == "POST" and request.POST.get("action") == "end":
        if active is None:
            messages.error(request, _("Добровольная блокировка не включена."))
            return redirect(url)
        return _run(
            request,
            lambda: sub_services.voluntary_block_end(
                actor=request.user, block=active, ip=_client(request)["ip"]
            ),
            success=_("Добровольная блокировка снята, услуги снова работают."),
            redirect_to=url,
        )
    form = BlockForm(request.POST or None, label_suffix="")
    days = None
    if form.is_bound and form.is_valid():
        days = form.cleaned_data["days"]
    quote = sub_services.voluntary_block_quote(personal_account=account, days=days, actor=request.user)
    if request.method == "POST" and form.is_valid():
        return _run(
            request,
            lambda: sub_services.voluntary_block_start(
                actor=request.user,
                personal_account=account,
                days=form.cleaned_data["days"],
                consent_given=True,
                consent_text=quote.consent_text,
                **_client(request),
            ),
            success=_("Добровольная блокировка включена на %(days)s дн.")
            % {"days": form.cleaned_data["days"]},
            redirect_to=url,
        )
    if not form.is_bound:
        form = BlockForm(initial={"days": quote.min_days}, label_suffix="")
    return render(
        request,
        "portal/voluntary_block.html",
        {"account": account, "quote": quote, "active": active, "form": form, "tab": "block"},
    )


@login_required
def promised_payment(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    url = reverse("portal:promised_payment", args=[account.pk])
    quote = sub_services.promised_payment_quote(personal_account=account, actor=request.user)
    active = sub_selectors.promised_payment_active(personal_account=account)
    form = ConsentForm(request.POST or None, label_suffix="")
    if request.method == "POST" and form.is_valid():
        return _run(
            request,
            lambda: sub_services.promised_payment_take(
                actor=request.user,
                personal_account=account,
                consent_given=True,
                consent_text=quote.consent_text,
                **_client(request),
            ),
            success=_("Обещанный платёж зачислен на счёт."),
            redirect_to=url,
        )
    return render(
        request,
        "portal/promised_payment.html",
        {"account": account, "quote": quote, "active": active, "form": form, "tab": "promised"},
    )
