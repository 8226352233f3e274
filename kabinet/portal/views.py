"""Subscriber pages: thin views over the portal selectors and the domain services.

Every page that takes an object id gets the object through the owner-filtered selectors; another
subscriber's id is a 404. Every POST carries a one-time form token (double submit does nothing twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kabinet.billing import services_links
from kabinet.billing.models import PersonalAccount
from kabinet.bonus.templatetags.bonus import bonus_balance_card_context
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.core.money import format_kopecks
from kabinet.core.reverse_cache import reverse_memo, reverse_with_id
from kabinet.news.models import NewsItem
from kabinet.news.selectors import AccountFacts, news_for_accounts
from kabinet.portal import exports
from kabinet.portal.forms import AttachCodeForm, AttachStartForm, HistoryFilterForm
from kabinet.portal.selectors import (
    AccountCard,
    HistoryFilter,
    dashboard_cards_for_user,
    history_lines_all,
    history_page,
    monthly_spending,
    personal_account_with_services_for_user,
)
from kabinet.portal.services import DoubleSubmit, form_token_claim, form_token_release
from kabinet.portal.templatetags.portal import days_word

PHONE_ATTACH_SESSION_FLAG = "portal_phone_attach_checked"


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:dashboard")
    return render(request, "portal/home.html")


def _account_or_404(request: HttpRequest, account_id: int) -> PersonalAccount:
    try:
        return personal_account_with_services_for_user(user=request.user, personal_account_id=account_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _pay_url(account_number: str) -> str:
    """The card payment page for this account, if the payments app has it."""
    for name in ("payments:cabinet_pay", "payments:pay"):
        path = reverse_memo(name)
        if path:
            return f"{path}?{urlencode({'account': account_number})}"
    return ""


_BADGE_CLASS: dict[str, str] = {
    PersonalAccount.Status.ACTIVE: " badge-ok",
    PersonalAccount.Status.TERMINATED: "",
}


def _date(day: dt.date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""


def _card_view(card: AccountCard) -> dict[str, Any]:
    """A dashboard card as a flat dict of ready-to-print values: template lookups into dicts are the
    cheap kind, and the dashboard is the busiest page."""
    account, forecast = card.account, card.forecast
    return {
        "number": account.number,
        "number_label": _("Л/с %(n)s") % {"n": account.number},
        "service_label": account.service_label,
        "status": account.status,
        "status_label": account.status_label,
        "status_reason": account.status_reason,
        "badge_class": _BADGE_CLASS.get(account.status, " badge-danger"),
        "tariffs": ", ".join(card.tariff_names),
        "balance": format_kopecks(card.balance_kopecks),
        "negative": card.balance_kopecks < 0,
        "is_blocked": card.is_blocked,
        "debt_to_unblock": format_kopecks(card.debt_to_unblock_kopecks),
        "next_charge_date": _date(forecast.next_charge_date),
        "next_charge": format_kopecks(forecast.next_charge_kopecks),
        "enough_until": _date(forecast.enough_until),
        "days_left": forecast.days_left,
        "days_word": days_word(forecast.days_left),
        "daily_rate": format_kopecks(forecast.daily_rate_kopecks),
        "links": _card_links(card),
    }


def _card_links(card: AccountCard) -> dict[str, str]:
    pk = card.account.pk
    return {
        "account": reverse_with_id("portal:account", pk),
        "history": reverse_with_id("portal:history", pk),
        "promised_payment": reverse_with_id("portal:promised_payment", pk),
        "voluntary_block": reverse_with_id("portal:voluntary_block", pk),
        "pay": _pay_url(card.account.number),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    # A mobile account of the user's verified phone attaches itself: checked once per session and
    # again whenever the verified phone changes (e.g. verified in the profile mid-session).
    user = request.user
    verified_phone = (getattr(user, "phone", "") or "") if getattr(user, "phone_verified", False) else ""
    if request.session.get(PHONE_ATTACH_SESSION_FLAG) != [verified_phone]:
        attached = services_links.personal_account_attach_by_verified_phone(user=request.user)
        request.session[PHONE_ATTACH_SESSION_FLAG] = [verified_phone]
        for account in attached:
            messages.success(
                request,
                _("Лицевой счёт %(number)s вашего номера телефона добавлен в кабинет.")
                % {"number": account.number},
            )
    cards = dashboard_cards_for_user(user=request.user)
    news = news_for_accounts(
        accounts=[AccountFacts(service_kind=c.account.service_kind, address=c.account.address) for c in cards]
    )
    return render(
        request,
        "portal/dashboard.html",
        {
            "cards": [_card_view(card) for card in cards],
            "news": [
                {
                    "title": item.title,
                    "summary": item.summary,
                    "url": reverse_with_id("news:detail", item.pk),
                    "maintenance_label": (
                        item.get_kind_display() if item.kind == NewsItem.Kind.MAINTENANCE else ""
                    ),
                }
                for item in news
            ],
            "bonus": bonus_balance_card_context(user=request.user),
            "attach_url": reverse_memo("portal:attach"),
        },
    )


def _run_post(
    request: HttpRequest, action: Callable[[], Any], *, success: str, redirect_to: str
) -> HttpResponse:
    """Claim the form token, run the action; a refusal frees the token and shows the Russian reason."""
    try:
        record = form_token_claim(user=request.user, token=request.POST.get("form_token", ""))
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


# --- Attach / detach ----------------------------------------------------------------------------------


@login_required
def attach(request: HttpRequest) -> HttpResponse:
    form = AttachStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["method"] == AttachStartForm.METHOD_SMS:
                challenge = services_links.personal_account_attach_request_code(
                    user=request.user, number=data["number"]
                )
                code_form = AttachCodeForm(initial={"number": challenge.number})
                return render(
                    request, "portal/attach_code.html", {"form": code_form, "number": challenge.number}
                )
            link = services_links.personal_account_attach_by_contract(
                user=request.user,
                number=data["number"],
                contract_number=data["contract_number"],
                last_payment_kopecks=data["last_payment_kopecks"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Лицевой счёт %(number)s добавлен.") % {"number": link.personal_account.number}
            )
            return redirect("portal:account", account_id=link.personal_account_id)
    return render(request, "portal/attach.html", {"form": form})


@login_required
@require_POST
def attach_confirm(request: HttpRequest) -> HttpResponse:
    form = AttachCodeForm(request.POST)
    if form.is_valid():
        try:
            link = services_links.personal_account_attach_confirm_code(
                user=request.user, number=form.cleaned_data["number"], code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code" if exc.field == "code" else None, exc.message)
        else:
            messages.success(
                request, _("Лицевой счёт %(number)s добавлен.") % {"number": link.personal_account.number}
            )
            return redirect("portal:account", account_id=link.personal_account_id)
    return render(
        request, "portal/attach_code.html", {"form": form, "number": request.POST.get("number", "")}
    )


@login_required
@require_POST
def detach(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    return _run_post(
        request,
        lambda: services_links.personal_account_detach(user=request.user, personal_account_id=account.pk),
        success=_("Лицевой счёт %(number)s убран из кабинета. Деньги и услуги на нём не изменились.")
        % {"number": account.number},
        redirect_to=reverse("portal:dashboard"),
    )


# --- History --------------------------------------------------------------------------------------


def _history_filter(request: HttpRequest) -> tuple[HistoryFilterForm, HistoryFilter]:
    form = HistoryFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, HistoryFilter(
            date_from=data["date_from"], date_to=data["date_to"], kind=data["kind"] or ""
        )
    return form, HistoryFilter()


@login_required
def history(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account_or_404(request, account_id)
    form, history_filter = _history_filter(request)
    page, lines = history_page(
        personal_account=account, history_filter=history_filter, page_number=request.GET.get("page") or 1
    )
    chart = exports.spending_chart_svg(months=monthly_spending(personal_account=account))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/history.html",
        {
            "account": account,
            "form": form,
            "page": page,
            "lines": lines,
            "chart_svg": chart,
            "query": query.urlencode(),
            "tab": "history",
        },
    )


@login_required
def history_export(request: HttpRequest, account_id: int, fmt: str) -> HttpResponse:
    account = _account_or_404(request, account_id)
    _form, history_filter = _history_filter(request)
    lines = history_lines_all(personal_account=account, history_filter=history_filter)
    stamp = timezone.localdate().strftime("%Y%m%d")
    if fmt == "csv":
        response = HttpResponse(
            exports.statement_csv(personal_account=account, lines=lines),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="statement-{account.number}-{stamp}.csv"'
        return response
    if fmt == "pdf":
        pdf = exports.statement_pdf(
            personal_account=account,
            lines=lines,
            period_text=exports.period_text(history_filter.date_from, history_filter.date_to),
            balance_kopecks=account.ledger_account.balance_kopecks,
            operator_name=settings.OPERATOR["legal_name"],
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="statement-{account.number}-{stamp}.pdf"'
        return response
    raise Http404


# --- Account page ---------------------------------------------------------------------------------


@login_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    from kabinet.portal import service_views

    return service_views.account_page(request, _account_or_404(request, account_id))
