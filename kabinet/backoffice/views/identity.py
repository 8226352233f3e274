"""Back office, identity: find a subscriber, see registration and verification state, verify an
organization, switch a cabinet off. Opening a subscriber's card is audited ("personal_data.view")."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.models import SocialAccount
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.backoffice.access import staff_required
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError
from kabinet.customers.models import Customer
from kabinet.customers.services import customer_verification_decide
from kabinet.identity.deactivation import user_deactivate
from kabinet.identity.models import User
from kabinet.identity.security_selectors import staff_user_search, user_has_totp


def _ip(request: HttpRequest) -> str | None:
    try:
        return get_account_adapter(request).get_client_ip(request)
    except Exception:
        return request.META.get("REMOTE_ADDR")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Причина"), max_length=255, widget=forms.Textarea(attrs={"rows": 2})
    )


class VerificationForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Решение"),
        choices=[("verify", gettext_lazy("Подтвердить")), ("reject", gettext_lazy("Отклонить"))],
    )
    reason = forms.CharField(
        label=gettext_lazy("Комментарий (обязателен при отказе)"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@staff_required
def user_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    users = list(staff_user_search(query=query)) if query else []
    pending = Customer.objects.filter(
        kind=Customer.Kind.ORGANIZATION, verification=Customer.Verification.PENDING
    ).order_by("created_at")[:50]
    return render(
        request,
        "backoffice/identity/user_search.html",
        {"query": query, "users": users, "searched": bool(query), "pending": pending},
    )


@staff_required
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User.objects.select_related("customer"), pk=user_id)
    audit_log(actor=request.user, action="personal_data.view", target=subject, ip=_ip(request))
    context = {
        "subject": subject,
        "customer": subject.customer,
        "contracts": subject.customer.contracts.order_by("signed_at") if subject.customer else [],
        "has_totp": user_has_totp(user=subject),
        "social_accounts": SocialAccount.objects.filter(user=subject).order_by("provider"),
        "deactivate_form": ReasonForm(),
        "verification_form": VerificationForm(),
    }
    return render(request, "backoffice/identity/user_detail.html", context)


@staff_required
@require_POST
def user_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=user_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Укажите причину отключения."))
        return redirect("backoffice:user_detail", user_id=subject.pk)
    try:
        user_deactivate(user=subject, actor=request.user, reason=form.cleaned_data["reason"], ip=_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Личный кабинет отключён, все сеансы абонента завершены."))
    return redirect("backoffice:user_detail", user_id=subject.pk)


@staff_required
@require_POST
def customer_verify(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    form = VerificationForm(request.POST)
    back = request.POST.get("user_id")
    if form.is_valid():
        try:
            customer_verification_decide(
                customer=customer,
                actor=request.user,
                approve=form.cleaned_data["decision"] == "verify",
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Решение по организации сохранено."))
    else:
        messages.error(request, _("Выберите решение."))
    if back and back.isdigit():
        return redirect("backoffice:user_detail", user_id=int(back))
    return redirect("backoffice:user_search")
