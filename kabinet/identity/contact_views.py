"""Changing contacts from the profile: a new phone number confirmed by an SMS code to that number.

Email addresses are managed on allauth's page /accounts/email/ (add, confirm, make primary, remove);
the adapter keeps User.email/email_verified in step with the primary address (user_email_sync).
"""

from __future__ import annotations

from allauth.core import ratelimit
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.core.exceptions import DomainError
from kabinet.core.phones import format_phone
from kabinet.identity import services
from kabinet.identity.forms import AccessibleFormMixin, RuPhoneField
from kabinet.identity.models import User
from kabinet.identity.reauth import recent_authentication_required

SESSION_PHONE_CHANGE = "kabinet_phone_change"  # the new number (E.164) a code was sent to


class NewPhoneForm(AccessibleFormMixin, forms.Form):
    phone = RuPhoneField(label=gettext_lazy("Новый номер телефона"))


class PhoneChangeCodeForm(AccessibleFormMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Код из SMS"),
        max_length=12,
        help_text=gettext_lazy("6 цифр. Код действует 5 минут."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 \-]*"}
        ),
    )


def _too_many() -> str:
    return _("Слишком много запросов. Попробуйте через несколько минут.")


@login_required
@recent_authentication_required
def phone_change(request: HttpRequest) -> HttpResponseBase:
    """/profile/phone/: step 1 (the new number, an SMS goes to it) and step 2 (the code)."""
    user: User = request.user  # type: ignore[assignment]
    pending: str | None = request.session.get(SESSION_PHONE_CHANGE)
    action = request.POST.get("action") if request.method == "POST" else None
    phone_form = NewPhoneForm(request.POST if action == "send" else None)
    code_form = PhoneChangeCodeForm(request.POST if action == "verify" else None)

    if action == "cancel":
        request.session.pop(SESSION_PHONE_CHANGE, None)
        return redirect("identity:phone_change")
    if action in ("send", "resend"):
        phone = None
        if action == "resend" and pending:
            phone = pending
        elif action == "send" and phone_form.is_valid():
            phone = phone_form.cleaned_data["phone"]
        if phone is not None:
            if not ratelimit.consume(request, action="kabinet_phone_code_request", key=phone):
                phone_form.add_error("phone", _too_many())
            else:
                try:
                    services.phone_change_start(user=user, phone=phone)
                except services.TooSoon as exc:
                    messages.warning(request, exc.message)
                    request.session[SESSION_PHONE_CHANGE] = phone
                    return redirect("identity:phone_change")
                except DomainError as exc:
                    phone_form.add_error("phone", exc.message)
                else:
                    request.session[SESSION_PHONE_CHANGE] = phone
                    messages.success(
                        request,
                        _("Мы отправили SMS на номер %(phone)s. Введите код из него.")
                        % {"phone": format_phone(phone)},
                    )
                    return redirect("identity:phone_change")
    if action == "verify" and pending and code_form.is_valid():
        if not ratelimit.consume(request, action="kabinet_phone_code_verify"):
            code_form.add_error("code", _too_many())
        else:
            try:
                services.phone_change_confirm(user=user, phone=pending, code=code_form.cleaned_data["code"])
            except DomainError as exc:
                code_form.add_error("code" if exc.field != "phone" else None, exc.message)
            else:
                request.session.pop(SESSION_PHONE_CHANGE, None)
                messages.success(
                    request, _("Номер %(phone)s привязан к кабинету.") % {"phone": format_phone(pending)}
                )
                return redirect("identity:profile")
    context = {
        "phone_form": phone_form,
        "code_form": code_form,
        "pending": format_phone(pending) if pending else None,
        "current": format_phone(user.phone) if user.phone else None,
        "resend_seconds": settings.PHONE_CODE_RESEND_SECONDS,
    }
    failed = phone_form.errors or code_form.errors
    return render(request, "identity/phone_change.html", context, status=400 if failed else 200)
