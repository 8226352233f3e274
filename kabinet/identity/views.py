"""Pages of our own phone flows (registration, code entry, recovery by SMS), the organization
questionnaire and the USSD gateway endpoint. Login, email registration and email recovery are allauth's
views with our forms (config/settings_apps/identity.py, ACCOUNT_FORMS)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import perform_login, setup_user_email
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kabinet.core.exceptions import DomainError
from kabinet.core.phones import PhoneInputError, format_phone, normalize_phone
from kabinet.identity import services
from kabinet.identity.forms import (
    CorporateSignupForm,
    EmailSignupForm,
    NewPasswordForm,
    PhoneForm,
    SmsCodeForm,
)
from kabinet.identity.models import PhoneCode, User

SESSION_SMS = "kabinet_sms"  # {"phone": E.164, "purpose": PhoneCode.Purpose}: the code we are waiting for
SESSION_VERIFIED = "kabinet_verified_phone"  # {"phone", "purpose", "at"}: a code was typed correctly
VERIFIED_PHONE_TTL_SECONDS = 15 * 60

_STARTERS: dict[str, Any] = {
    PhoneCode.Purpose.SIGNUP: services.phone_signup_start,
    PhoneCode.Purpose.RESET: services.phone_password_reset_start,
}


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/profile.html")


def _too_many(form: Any, field: str) -> None:
    form.add_error(field, _("Слишком много запросов. Попробуйте через несколько минут."))


def _start_phone_flow(request: HttpRequest, *, phone: str, purpose: str) -> None:
    """Send a code for ``purpose`` and remember which number the code page waits for.

    The screen after this is the same whatever the number is (registered or not).
    """
    try:
        _STARTERS[purpose](phone=phone)
        messages.success(
            request,
            _("Мы отправили SMS на номер %(phone)s. Введите код из него.") % {"phone": format_phone(phone)},
        )
    except services.TooSoon as exc:
        messages.warning(request, exc.message)
    request.session[SESSION_SMS] = {"phone": phone, "purpose": purpose}


def signup_phone_context(phone_form: PhoneForm | None = None) -> dict[str, Any]:
    return {"phone_form": phone_form or PhoneForm(prefix="phone")}


def phone_signup(request: HttpRequest) -> HttpResponseBase:
    """Step 1 of registration by phone (the phone form of the signup page posts here)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if request.method != "POST":
        return redirect("account_signup")
    form = PhoneForm(request.POST, prefix="phone")
    if form.is_valid():
        phone = form.cleaned_data["phone"]
        if not ratelimit.consume(request, action="kabinet_phone_code_request", key=phone):
            _too_many(form, "phone")
        else:
            _start_phone_flow(request, phone=phone, purpose=PhoneCode.Purpose.SIGNUP)
            return redirect("identity:sms_code")
    context = {"form": EmailSignupForm(), **signup_phone_context(form), "active_method": "phone"}
    return render(request, "account/signup.html", context, status=400)


def phone_password_reset(request: HttpRequest) -> HttpResponseBase:
    """Password recovery by SMS, step 1: the number. Only a confirmed number gets a code."""
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if not ratelimit.consume(request, action="kabinet_phone_code_request", key=phone):
            _too_many(form, "phone")
        else:
            _start_phone_flow(request, phone=phone, purpose=PhoneCode.Purpose.RESET)
            return redirect("identity:sms_code")
    return render(request, "identity/phone_password_reset.html", {"form": form})


def sms_code(request: HttpRequest) -> HttpResponseBase:
    """Typing a code from an SMS: registration, password recovery, or a login code from USSD."""
    state = request.session.get(SESSION_SMS) or {}
    if request.method == "POST" and request.POST.get("action") == "resend":
        if state.get("purpose") in _STARTERS:
            if ratelimit.consume(request, action="kabinet_phone_code_request", key=state["phone"]):
                _start_phone_flow(request, phone=state["phone"], purpose=state["purpose"])
            else:
                messages.error(request, _("Слишком много запросов. Попробуйте через несколько минут."))
        return redirect("identity:sms_code")

    initial = {"phone": format_phone(state["phone"])} if state.get("phone") else {}
    form = SmsCodeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if not ratelimit.consume(request, action="kabinet_phone_code_verify"):
            _too_many(form, "code")
        else:
            try:
                row = services.phone_code_verify(phone=phone, code=form.cleaned_data["code"])
            except DomainError as exc:
                form.add_error("code", exc.message)
            else:
                request.session.pop(SESSION_SMS, None)
                if row.purpose == PhoneCode.Purpose.LOGIN:
                    user = User.objects.filter(phone=phone, phone_verified=True).first()
                    if user is not None:
                        return perform_login(request, user, redirect_url=reverse(settings.LOGIN_REDIRECT_URL))
                    form.add_error("code", _("Код устарел или не запрашивался. Запросите новый код."))
                else:
                    request.session[SESSION_VERIFIED] = {
                        "phone": phone,
                        "purpose": row.purpose,
                        "at": time.time(),
                    }
                    return redirect("identity:phone_set_password")
    context = {
        "form": form,
        "can_resend": state.get("purpose") in _STARTERS,
        "resend_seconds": settings.PHONE_CODE_RESEND_SECONDS,
    }
    return render(request, "identity/sms_code.html", context, status=400 if form.errors else 200)


def phone_set_password(request: HttpRequest) -> HttpResponseBase:
    """After a correct code: the password of a new phone registration, or a new password on recovery."""
    verified = request.session.get(SESSION_VERIFIED) or {}
    if not verified or time.time() - verified.get("at", 0) > VERIFIED_PHONE_TTL_SECONDS:
        request.session.pop(SESSION_VERIFIED, None)
        messages.warning(request, _("Подтвердите номер телефона ещё раз."))
        return redirect("account_signup")
    phone, purpose = verified["phone"], verified["purpose"]
    existing = User.objects.filter(phone=phone, phone_verified=True).first()
    form = NewPasswordForm(request.POST or None, user=existing or User(phone=phone))
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password1"]
        try:
            if purpose == PhoneCode.Purpose.RESET:
                services.user_set_password_by_phone(phone=phone, password=password)
            else:
                user = services.user_register_by_phone(phone=phone, password=password)
        except (DomainError, User.DoesNotExist) as exc:
            request.session.pop(SESSION_VERIFIED, None)
            messages.error(request, getattr(exc, "message", _("Номер не найден.")))
            return redirect("account_login")
        request.session.pop(SESSION_VERIFIED, None)
        if purpose == PhoneCode.Purpose.RESET:
            messages.success(request, _("Пароль изменён. Войдите с новым паролем."))
            return redirect("account_login")
        messages.success(request, _("Регистрация завершена. Добро пожаловать в личный кабинет!"))
        return perform_login(request, user, redirect_url=reverse(settings.LOGIN_REDIRECT_URL))
    context = {"form": form, "phone": format_phone(phone), "purpose": purpose}
    return render(request, "identity/phone_set_password.html", context)


def corporate_signup(request: HttpRequest) -> HttpResponseBase:
    """The organization questionnaire: a customer awaiting verification and a user (email login)."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = CorporateSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="kabinet_corporate_signup"):
            _too_many(form, "organization_name")
        else:
            questionnaire = form.questionnaire()
            messages.info(
                request,
                _(
                    "Анкета организации принята и ожидает проверки. Подтвердите адрес электронной почты, "
                    "чтобы войти в кабинет."
                ),
            )
            adapter = get_adapter(request)
            try:
                user = services.organization_register(
                    questionnaire=questionnaire, password=form.cleaned_data["password1"]
                )
            except DomainError:
                # Same answer as for a new address; the owner of the address gets a reminder.
                adapter.send_account_already_exists_mail(questionnaire.contact_email)
                return adapter.respond_email_verification_sent(request, None)
            setup_user_email(request, user, [EmailAddress(email=questionnaire.contact_email)])
            return perform_login(request, user, signup=True, email=questionnaire.contact_email)
    return render(request, "identity/corporate_signup.html", {"form": form})


# --- USSD ----------------------------------------------------------------------------------------


def _ussd_signature_ok(body: bytes, signature: str) -> bool:
    secret = settings.USSD_SHARED_SECRET
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


@csrf_exempt
@require_POST
def ussd(request: HttpRequest) -> JsonResponse:
    """The operator's USSD gateway: {"msisdn", "text"} signed with HMAC-SHA256 (see docs/ussd.md)."""
    if not _ussd_signature_ok(request.body, request.headers.get("X-Signature", "")):
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        payload = json.loads(request.body)
        msisdn = str(payload["msisdn"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad_request", "text": _("Запрос не распознан.")}, status=400)
    try:
        phone = normalize_phone(msisdn)
    except PhoneInputError:
        return JsonResponse({"error": "bad_msisdn", "text": _("Номер не распознан.")}, status=400)
    return JsonResponse({"text": services.ussd_request(phone=phone)})
