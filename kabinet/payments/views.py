"""Payment pages: the public page by account number, the cabinet payment page and history, the status
page a payer follows (htmx polling), the receipt PDF, the Terms, and the acquirer's notification URL."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kabinet.billing.selectors import personal_account_list_for_user
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.payments.acquirer.interface import AcquirerError, AcquirerUnavailable
from kabinet.payments.forms import CabinetPaymentForm, PublicPaymentForm
from kabinet.payments.models import Payment
from kabinet.payments.receipts import receipt_filename, receipt_pdf
from kabinet.payments.rules import payment_rules_describe
from kabinet.payments.selectors import (
    payment_events,
    payment_get_public,
    payment_list_for_user,
    payment_steps,
)
from kabinet.payments.services import payment_initiate, payment_notification_handle, payment_sync

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = {Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.WAITING_FOR_CAPTURE}


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _start(request: HttpRequest, form: Any) -> HttpResponse | None:
    """Create the payment and send the payer to the acquirer's card page; None if refused (form errors)."""
    try:
        payment = payment_initiate(
            personal_account=form.personal_account,
            idempotency_key=form.cleaned_data["idempotency_key"],
            amount_kopecks=form.cleaned_data["amount"],
            receipt_email=form.cleaned_data.get("email") or "",
            user=request.user,
            site_url=_site_url(request),
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        if exc.code != "acquirer_unavailable":
            data = form.data.copy()
            data["idempotency_key"] = uuid.uuid4().hex
            form.data = data
        return None
    if payment.confirmation_url and payment.status == Payment.Status.PENDING:
        return HttpResponseRedirect(payment.confirmation_url)
    return HttpResponseRedirect(f"/pay/status/{payment.public_id}/")


def _public_rate_exceeded(request: HttpRequest) -> bool:
    """Count new payments from this client address; True once over the limit for the window."""
    window = settings.PAYMENTS_PUBLIC_RATE_WINDOW
    key = f"payments:public-rate:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > settings.PAYMENTS_PUBLIC_RATE_LIMIT


@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    """The public page: pay to any personal account by its number, without logging in."""
    if request.method == "POST":
        form = PublicPaymentForm(request.POST)
        if form.is_valid():
            if _public_rate_exceeded(request):
                form.add_error(
                    None,
                    _("Слишком много платежей подряд с этого устройства. Попробуйте через несколько минут."),
                )
                return render(
                    request,
                    "payments/pay.html",
                    {"form": form, "rules": payment_rules_describe()},
                    status=429,
                )
            response = _start(request, form)
            if response is not None:
                return response
    else:
        initial = {"account": request.GET.get("account", "")[:20]}
        if request.user.is_authenticated and getattr(request.user, "email", None):
            initial["email"] = request.user.email or ""
        form = PublicPaymentForm(initial=initial)
    return render(request, "payments/pay.html", {"form": form, "rules": payment_rules_describe()}, status=200)


@login_required
@require_http_methods(["GET", "POST"])
def cabinet_pay(request: HttpRequest) -> HttpResponse:
    """Pay from the cabinet: choose one of my accounts, the amount; see the rules; confirm."""
    accounts = personal_account_list_for_user(user=request.user)
    confirm = False
    if request.method == "POST":
        form = CabinetPaymentForm(request.POST, accounts=accounts)
        if form.is_valid():
            if request.POST.get("confirm") == "1":
                response = _start(request, form)
                if response is not None:
                    return response
            else:
                confirm = True
    else:
        initial: dict[str, Any] = {"email": getattr(request.user, "email", "") or ""}
        wanted = request.GET.get("account", "")
        chosen = accounts.filter(number=wanted).first() if wanted else None
        if chosen is not None:
            initial["account"] = chosen.pk
        form = CabinetPaymentForm(initial=initial, accounts=accounts)
    return render(
        request,
        "payments/cabinet_pay.html",
        {"form": form, "rules": payment_rules_describe(), "confirm": confirm, "accounts": accounts},
    )


@login_required
def history(request: HttpRequest) -> HttpResponse:
    payments = payment_list_for_user(user=request.user)[:200]
    return render(request, "payments/history.html", {"payments": payments})


def _payment_or_404(public_id: uuid.UUID) -> Payment:
    try:
        return payment_get_public(public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _maybe_sync(payment: Payment) -> Payment:
    """When the payer comes back (and while they wait), ask the acquirer — at most every 5 seconds."""
    if payment.status not in ACTIVE_STATUSES or not payment.acquirer_payment_id:
        return payment
    if not cache.add(f"payments:sync:{payment.public_id}", 1, timeout=5):
        return payment
    try:
        return payment_sync(payment=payment)
    except (AcquirerError, DomainError) as exc:
        logger.info("status page sync of %s failed: %s", payment.public_id, exc)
        return payment


def _status_context(payment: Payment) -> dict[str, Any]:
    return {
        "payment": payment,
        "steps": payment_steps(payment=payment),
        "events": payment_events(payment=payment),
        "active": payment.status in ACTIVE_STATUSES,
        "refunds": payment.refunds.order_by("created_at"),
    }


def status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    payment = _maybe_sync(_payment_or_404(public_id))
    return render(request, "payments/status.html", _status_context(payment))


def status_steps(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    payment = _maybe_sync(_payment_or_404(public_id))
    return render(request, "payments/_status_steps.html", _status_context(payment))


def receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    payment = _payment_or_404(public_id)
    if payment.transfer_id is None:
        raise Http404("Квитанция будет доступна после зачисления платежа.")
    response = HttpResponse(receipt_pdf(payment=payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(payment)}"'
    return response


def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/terms.html", {"rules": payment_rules_describe()})


@csrf_exempt
@require_POST
def notification(request: HttpRequest) -> HttpResponse:
    """The acquirer's HTTP notifications. The body only says WHICH payment changed: its state is always
    fetched from the acquirer's API. 200 = processed (or not ours); 5xx = ask again later."""
    try:
        body = json.loads(request.body or b"null")
        payment = payment_notification_handle(body=body)
    except ValueError:
        return JsonResponse({"error": "bad notification"}, status=400)
    except AcquirerUnavailable as exc:
        logger.warning("notification: acquirer unavailable: %s", exc)
        return JsonResponse({"error": "acquirer unavailable"}, status=503)
    except AcquirerError as exc:
        return JsonResponse({"error": str(exc)[:200]}, status=400)
    return JsonResponse({"status": payment.status if payment else "ignored"})
