"""The sandbox acquirer over HTTP: the YooKassa-v3-like JSON API (Basic auth, Idempotence-Key) and the
hosted card page with its 3-D Secure step. Mounted at /sandbox-acquirer/ only outside production."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kabinet.sandbox_acquirer import services
from kabinet.sandbox_acquirer.cards import TEST_CARDS, luhn_is_valid, test_card_lookup
from kabinet.sandbox_acquirer.models import SandboxPayment
from kabinet.sandbox_acquirer.services import ApiError

# --- JSON API ----------------------------------------------------------------------------------------


def _shop_id(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            shop_id, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            shop_id, secret = "", ""
        if secrets.compare_digest(shop_id, settings.SANDBOX_ACQUIRER_SHOP_ID) and secrets.compare_digest(
            secret, settings.SANDBOX_ACQUIRER_SECRET_KEY
        ):
            return shop_id
    raise ApiError(401, "invalid_credentials", "Authentication by given credentials failed")


def _body(request: HttpRequest) -> Any:
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", "Request body is not valid JSON") from exc


def api_view(handler: Callable[..., tuple[int, dict[str, Any]]]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            shop_id = _shop_id(request)
            status, data = handler(request, shop_id, **kwargs)
        except ApiError as exc:
            return JsonResponse(exc.body(), status=exc.status)
        return JsonResponse(data, status=status)

    view.__name__ = handler.__name__
    return view


def _checkout_url(request: HttpRequest, payment: SandboxPayment) -> str:
    return request.build_absolute_uri(reverse("sandbox_acquirer:checkout", kwargs={"payment_id": payment.id}))


def _post(
    request: HttpRequest, shop_id: str, operation: Callable[[Any], dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    body = _body(request)
    return services.idempotent(
        shop_id=shop_id,
        key=request.headers.get("Idempotence-Key"),
        path=request.path,
        body=body,
        operation=lambda: (200, operation(body)),
    )


@api_view
def api_payments(request: HttpRequest, shop_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", "Use POST to create a payment")

    def create(body: Any) -> dict[str, Any]:
        payment = services.sandbox_payment_create(shop_id=shop_id, body=body)
        return services.payment_json(payment, checkout_url=_checkout_url(request, payment))

    return _post(request, shop_id, create)


@api_view
def api_payment(request: HttpRequest, shop_id: str, payment_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "GET":
        raise ApiError(405, "method_not_allowed", "Use GET")
    payment = services.sandbox_payment_get(shop_id=shop_id, payment_id=payment_id)
    # Only a pending payment shows its card page (confirmation); the URL is built only then.
    url = _checkout_url(request, payment) if payment.status == SandboxPayment.Status.PENDING else ""
    return 200, services.payment_json(payment, checkout_url=url)


@api_view
def api_payment_capture(request: HttpRequest, shop_id: str, payment_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", "Use POST")
    return services.sandbox_payment_capture_request(
        shop_id=shop_id,
        payment_id=payment_id,
        key=request.headers.get("Idempotence-Key"),
        path=request.path,
        body=_body(request),
    )


@api_view
def api_payment_cancel(request: HttpRequest, shop_id: str, payment_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", "Use POST")
    return _post(
        request,
        shop_id,
        lambda body: services.payment_json(
            services.sandbox_payment_cancel(shop_id=shop_id, payment_id=payment_id)
        ),
    )


@api_view
def api_refunds(request: HttpRequest, shop_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", "Use POST")
    return _post(
        request,
        shop_id,
        lambda body: services.refund_json(services.sandbox_refund_create(shop_id=shop_id, body=body)),
    )


@api_view
def api_refund(request: HttpRequest, shop_id: str, refund_id: str) -> tuple[int, dict[str, Any]]:
    if request.method != "GET":
        raise ApiError(405, "method_not_allowed", "Use GET")
    return 200, services.refund_json(services.sandbox_refund_get(shop_id=shop_id, refund_id=refund_id))


# --- the hosted card page -------------------------------------------------------------------------------


class CardForm(forms.Form):
    number = forms.CharField(label="Номер карты", max_length=23)
    expiry = forms.CharField(label="Срок действия (ММ/ГГ)", max_length=5)
    cvc = forms.CharField(label="CVC/CVV", max_length=3, min_length=3)
    holder = forms.CharField(label="Имя владельца (как на карте)", max_length=64, required=False)

    def clean_number(self) -> str:
        number = re.sub(r"[\s-]", "", self.cleaned_data["number"])
        if not luhn_is_valid(number):
            raise forms.ValidationError("Неверный номер карты: проверьте цифры.")
        return number

    def clean_expiry(self) -> tuple[str, str]:
        match = re.fullmatch(r"\s*(\d{2})\s*/\s*(\d{2})\s*", self.cleaned_data["expiry"])
        if not match or not 1 <= int(match.group(1)) <= 12:
            raise forms.ValidationError("Укажите срок действия в формате ММ/ГГ, например 12/29.")
        month, year = match.group(1), "20" + match.group(2)
        today = timezone.localdate()
        if (int(year), int(month)) < (today.year, today.month):
            raise forms.ValidationError("Срок действия карты истёк.")
        return month, year

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"]
        if not cvc.isdigit():
            raise forms.ValidationError("CVC — три цифры на обороте карты.")
        return cvc


class WalletForm(forms.Form):
    wallet = forms.CharField(label="Номер кошелька ЮMoney", max_length=20)

    def clean_wallet(self) -> str:
        wallet = re.sub(r"[\s-]", "", self.cleaned_data["wallet"])
        if not re.fullmatch(r"41001\d{6,15}", wallet):
            raise forms.ValidationError("Номер кошелька — 11–20 цифр, начинается с 41001.")
        return wallet


class CodeForm(forms.Form):
    code = forms.CharField(label="Код из SMS", max_length=6, min_length=6)


def _finish(payment: SandboxPayment) -> HttpResponse:
    return HttpResponseRedirect(payment.return_url)


@csrf_exempt  # a different "site" than the shop; the payment id in the URL is the capability
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = get_object_or_404(SandboxPayment, pk=payment_id)
    if payment.status != SandboxPayment.Status.PENDING:
        return _finish(payment)
    if payment.sms_code:
        return HttpResponseRedirect(reverse("sandbox_acquirer:secure", kwargs={"payment_id": payment.id}))
    if request.method == "POST" and "abandon" in request.POST:
        return _finish(services.sandbox_payment_abandon(payment_id=payment.id))
    if payment.method_type != "bank_card":
        wallet_form = WalletForm(request.POST or None)
        if request.method == "POST" and wallet_form.is_valid():
            return _finish(
                services.sandbox_wallet_submit(
                    payment_id=payment.id, wallet=wallet_form.cleaned_data["wallet"]
                )
            )
        return render(
            request,
            "sandbox_acquirer/wallet.html",
            {"payment": payment, "form": wallet_form, "rubles": payment.amount_kopecks // 100},
        )
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        month, year = form.cleaned_data["expiry"]
        payment = services.sandbox_card_submit(
            payment_id=payment.id,
            card=test_card_lookup(form.cleaned_data["number"]),
            expiry_month=month,
            expiry_year=year,
        )
        if payment.status == SandboxPayment.Status.CANCELED:
            return _finish(payment)
        return HttpResponseRedirect(reverse("sandbox_acquirer:secure", kwargs={"payment_id": payment.id}))
    return render(
        request,
        "sandbox_acquirer/checkout.html",
        {"payment": payment, "form": form, "cards": TEST_CARDS, "rubles": payment.amount_kopecks // 100},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def secure(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = get_object_or_404(SandboxPayment, pk=payment_id)
    if payment.status != SandboxPayment.Status.PENDING:
        return _finish(payment)
    if not payment.sms_code:
        return HttpResponseRedirect(reverse("sandbox_acquirer:checkout", kwargs={"payment_id": payment.id}))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        payment, ok = services.sandbox_3ds_submit(payment_id=payment.id, code=form.cleaned_data["code"])
        if ok or payment.status != SandboxPayment.Status.PENDING:
            return _finish(payment)
        form.add_error(
            "code",
            f"Неверный код. Осталось попыток: {payment.sms_attempts_left}.",
        )
    phone = payment.sms_phone
    masked = f"{phone[:2]} {phone[2:5]} ***-**-{phone[-2:]}" if len(phone) >= 12 else phone
    return render(
        request,
        "sandbox_acquirer/secure.html",
        {"payment": payment, "form": form, "masked_phone": masked, "rubles": payment.amount_kopecks // 100},
    )


@csrf_exempt
def flush(request: HttpRequest) -> HttpResponse:
    """Dev helper: send the notifications that are due now (the periodic task does this in production)."""
    if request.method != "POST":
        return JsonResponse({"detail": "POST"}, status=405)
    from kabinet.sandbox_acquirer.tasks import sandbox_notifications_flush

    return JsonResponse({"sent": sandbox_notifications_flush()})
