from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kabinet.billing.selectors import personal_account_list_for_user
from kabinet.bonus.forms import RedeemForm
from kabinet.bonus.selectors import bonus_balance_for_user, bonus_history_for_user, bonus_rule_current
from kabinet.bonus.services import bonus_member_enroll, bonus_redeem
from kabinet.core.exceptions import DomainError


def _accounts(request: HttpRequest) -> list[tuple[int, str]]:
    return [
        (a.pk, f"{a.number} — {a.get_service_kind_display()}")
        for a in personal_account_list_for_user(user=request.user).exclude(status="terminated")
    ]


def rules(request: HttpRequest) -> HttpResponse:
    """The programme's rules (public); for a subscriber also the balance, history and redemption."""
    context: dict = {"rule": bonus_rule_current()}
    if request.user.is_authenticated and not request.user.is_staff:
        accounts = _accounts(request)
        context.update(
            balance=bonus_balance_for_user(user=request.user),
            history=bonus_history_for_user(user=request.user),
            member_ledger_id=bonus_member_enroll(user=request.user).ledger_account_id,
            form=RedeemForm(accounts=accounts, initial={"token": uuid.uuid4().hex}) if accounts else None,
        )
    return render(request, "bonus/rules.html", context)


@login_required
@require_POST
def redeem(request: HttpRequest) -> HttpResponse:
    accounts = _accounts(request)
    form = RedeemForm(request.POST, accounts=accounts)
    if form.is_valid():
        try:
            transfer = bonus_redeem(
                user=request.user,
                personal_account_id=form.cleaned_data["personal_account"],
                points=form.cleaned_data["points"],
                idempotency_key=form.cleaned_data["token"],
            )
        except DomainError as exc:
            form.add_error("points" if exc.field in (None, "points") else None, exc.message)
        else:
            messages.success(
                request,
                _("Баллы списаны: счёт пополнен на %(amount)s.")
                % {"amount": f"{transfer.amount_kopecks // 100},{transfer.amount_kopecks % 100:02d} ₽"},
            )
            return redirect("bonus:rules")
    return render(
        request,
        "bonus/rules.html",
        {
            "rule": bonus_rule_current(),
            "balance": bonus_balance_for_user(user=request.user),
            "history": bonus_history_for_user(user=request.user),
            "member_ledger_id": bonus_member_enroll(user=request.user).ledger_account_id,
            "form": form,
        },
        status=400,
    )
