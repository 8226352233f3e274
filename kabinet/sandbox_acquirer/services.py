"""What the sandbox acquirer does: create, confirm (card + 3-D Secure code), capture, cancel, refund,
notify. Payment and refund objects are rendered in the YooKassa API v3 format."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kabinet.core.group_commit import GroupCommit
from kabinet.core.sql_rows import (
    insert,
    insert_many,
    instance_by,
    instances_by_pks,
    update_fields,
    update_fields_many,
)
from kabinet.notifications.sms import sms_send
from kabinet.sandbox_acquirer.cards import CARD_PRODUCT_NAMES, TestCard
from kabinet.sandbox_acquirer.models import (
    SandboxIdempotenceKey,
    SandboxNotification,
    SandboxPayment,
    SandboxRefund,
)

logger = logging.getLogger(__name__)

PAYMENT_TTL = dt.timedelta(hours=1)
HOLD_TTL = dt.timedelta(days=7)


class ApiError(Exception):
    def __init__(self, status: int, code: str, description: str, parameter: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        body = {
            "type": "error",
            "id": secrets.token_hex(8),
            "code": self.code,
            "description": self.description,
        }
        if self.parameter:
            body["parameter"] = self.parameter
        return body


def money(kopecks: int, currency: str = "RUB") -> dict[str, str]:
    return {"value": f"{kopecks // 100}.{kopecks % 100:02d}", "currency": currency}


def parse_money(data: Any, parameter: str) -> int:
    try:
        value = str(data["value"])
        currency = data["currency"]
    except (KeyError, TypeError) as exc:
        raise ApiError(400, "invalid_request", "amount is required", parameter) from exc
    if currency != "RUB":
        raise ApiError(400, "invalid_request", "Only RUB is supported", f"{parameter}.currency")
    rubles, _sep, kopecks = value.partition(".")
    if not rubles.isdigit() or (kopecks and (not kopecks.isdigit() or len(kopecks) > 2)):
        raise ApiError(400, "invalid_request", "Invalid amount value", f"{parameter}.value")
    total = int(rubles) * 100 + int(kopecks.ljust(2, "0") or 0)
    if total <= 0:
        raise ApiError(400, "invalid_request", "Amount must be positive", f"{parameter}.value")
    return total


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def payment_json(payment: SandboxPayment, *, checkout_url: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": payment.id,
        "status": payment.status,
        "paid": payment.paid,
        "amount": money(payment.amount_kopecks, payment.currency),
        "description": payment.description,
        "recipient": {"account_id": payment.shop_id, "gateway_id": "sandbox"},
        "created_at": _iso(payment.created_at),
        "test": True,
        "refundable": payment.status == SandboxPayment.Status.SUCCEEDED
        and payment.refunded_kopecks < payment.amount_kopecks,
        "metadata": payment.metadata,
    }
    if payment.refunded_kopecks:
        data["refunded_amount"] = money(payment.refunded_kopecks)
    if payment.expires_at and payment.status in (
        SandboxPayment.Status.PENDING,
        SandboxPayment.Status.WAITING_FOR_CAPTURE,
    ):
        data["expires_at"] = _iso(payment.expires_at)
    if payment.captured_at:
        data["captured_at"] = _iso(payment.captured_at)
    if payment.status == SandboxPayment.Status.PENDING:
        data["confirmation"] = {
            "type": "redirect",
            "return_url": payment.return_url,
            "confirmation_url": checkout_url,
        }
    saved = payment.save_method and payment.status in (
        SandboxPayment.Status.WAITING_FOR_CAPTURE,
        SandboxPayment.Status.SUCCEEDED,
    )
    method: dict[str, Any] = {"type": payment.method_type, "id": payment.payment_method_id, "saved": saved}
    if payment.method_type == "yoo_money" and payment.wallet_account:
        method["account_number"] = payment.wallet_account
        method["title"] = f"YooMoney wallet {payment.wallet_account[:6]}*****{payment.wallet_account[-4:]}"
    if payment.card_last4:
        method["title"] = f"Bank card *{payment.card_last4}"
        method["card"] = {
            "first6": payment.card_first6,
            "last4": payment.card_last4,
            "expiry_month": payment.card_expiry_month,
            "expiry_year": payment.card_expiry_year,
            "card_type": payment.card_type,
            "issuer_country": payment.card_issuer_country,
            "issuer_name": payment.card_issuer_name,
            "card_product": {"code": payment.card_product_code, "name": payment.card_product_name},
        }
    data["payment_method"] = method
    if payment.status == SandboxPayment.Status.CANCELED:
        data["cancellation_details"] = {
            "party": payment.cancellation_party,
            "reason": payment.cancellation_reason,
        }
    return data


def refund_json(refund: SandboxRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "payment_id": refund.payment_id,
        "status": refund.status,
        "amount": money(refund.amount_kopecks),
        "description": refund.description,
        "created_at": _iso(refund.created_at),
    }


# --- idempotence -----------------------------------------------------------------------------------


def _idempotence_key_checked(key: str | None) -> str:
    if not key:
        raise ApiError(400, "invalid_request", "Idempotence-Key header is required", "Idempotence-Key")
    if len(key) > 64:
        raise ApiError(400, "invalid_request", "Idempotence-Key is too long", "Idempotence-Key")
    return key


def _request_hash(path: str, body: Any) -> str:
    return hashlib.sha256(f"{path}\n{json.dumps(body, sort_keys=True)}".encode()).hexdigest()


def _stored_response(
    row: SandboxIdempotenceKey | None, request_hash: str
) -> tuple[int, dict[str, Any]] | None:
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise ApiError(
            400, "invalid_request", "Idempotence-Key was used with another request", "Idempotence-Key"
        )
    return row.status_code, row.response


def idempotent(
    *,
    shop_id: str,
    key: str | None,
    path: str,
    body: Any,
    operation: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run a POST once per Idempotence-Key: a repeat (even concurrent) gets the first response."""
    key = _idempotence_key_checked(key)
    request_hash = _request_hash(path, body)

    def stored() -> tuple[int, dict[str, Any]] | None:
        return _stored_response(instance_by(SandboxIdempotenceKey, shop_id=shop_id, key=key), request_hash)

    previous = stored()
    if previous is not None:
        return previous
    try:
        # A concurrent request with this key: our insert of the key waits for its commit and then
        # fails on the unique key, rolling back what we did; the caller gets the first response.
        with transaction.atomic():
            status, response = operation()
            insert(
                SandboxIdempotenceKey(
                    shop_id=shop_id,
                    key=key,
                    path=path,
                    request_hash=request_hash,
                    status_code=status,
                    response=response,
                )
            )
    except IntegrityError:
        again = stored()
        if again is None:
            raise
        return again
    return status, response


# --- payments --------------------------------------------------------------------------------------


WALLET_TYPES = ("yoo_money",)
_CARD_FIELDS = (
    "card_first6",
    "card_last4",
    "card_expiry_month",
    "card_expiry_year",
    "card_type",
    "card_issuer_country",
    "card_issuer_name",
    "card_product_code",
    "card_product_name",
)


def sandbox_payment_create(*, shop_id: str, body: Any) -> SandboxPayment:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "JSON object expected")
    amount = parse_money(body.get("amount"), "amount")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ApiError(400, "invalid_request", "metadata must be an object", "metadata")
    common = {
        "shop_id": shop_id,
        "amount_kopecks": amount,
        "description": str(body.get("description", ""))[:128],
        "capture": bool(body.get("capture", False)),
        "metadata": {str(k): str(v) for k, v in metadata.items()},
    }
    saved_id = body.get("payment_method_id")
    if saved_id:
        return _sandbox_payment_with_saved_method(str(saved_id), body, common)
    confirmation = body.get("confirmation") or {}
    if confirmation.get("type") != "redirect" or not str(confirmation.get("return_url", "")).startswith(
        "http"
    ):
        raise ApiError(
            400, "invalid_request", "confirmation.type=redirect with return_url is required", "confirmation"
        )
    method = body.get("payment_method_data") or {"type": "bank_card"}
    method_type = method.get("type") or "bank_card"
    if method_type != "bank_card" and method_type not in WALLET_TYPES:
        raise ApiError(
            400,
            "invalid_request",
            f"Payment method {method_type} is not supported by the sandbox",
            "payment_method_data",
        )
    return SandboxPayment.objects.create(
        **common,
        method_type=method_type,
        save_method=bool(body.get("save_payment_method", False)),
        return_url=str(confirmation["return_url"])[:500],
        expires_at=timezone.now() + PAYMENT_TTL,
    )


def _sandbox_payment_with_saved_method(
    saved_id: str, body: dict[str, Any], common: dict[str, Any]
) -> SandboxPayment:
    """A payment by a saved card or wallet: no payer interaction; authorised at once."""
    source = (
        SandboxPayment.objects.filter(
            shop_id=common["shop_id"],
            payment_method_id=saved_id,
            save_method=True,
            status__in=(SandboxPayment.Status.WAITING_FOR_CAPTURE, SandboxPayment.Status.SUCCEEDED),
        )
        .order_by("created_at")
        .first()
    )
    if source is None:
        raise ApiError(
            400, "invalid_request", "payment_method_id is not a saved payment method", "payment_method_id"
        )
    now = timezone.now()
    confirmation = body.get("confirmation") or {}
    payment = SandboxPayment(
        **common,
        method_type=source.method_type,
        wallet_account=source.wallet_account,
        save_method=True,
        payment_method_id=source.payment_method_id,
        return_url=str(confirmation.get("return_url", "http://127.0.0.1/"))[:500],
        paid=True,
        notify=source.notify,
    )
    for name in _CARD_FIELDS:
        setattr(payment, name, getattr(source, name))
    if payment.capture:
        payment.status = SandboxPayment.Status.SUCCEEDED
        payment.captured_at = now
    else:
        payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
        payment.expires_at = now + HOLD_TTL
    payment.save()
    sandbox_notify(
        event="payment.succeeded" if payment.capture else "payment.waiting_for_capture", payment=payment
    )
    return payment


def sandbox_payment_lock(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = instance_by(SandboxPayment, lock=True, pk=payment_id, shop_id=shop_id)
    if payment is None:
        raise ApiError(404, "not_found", "Payment not found")
    return payment


def sandbox_payment_expire(payment: SandboxPayment) -> None:
    """Pending payments expire after an hour, authorised ones after the 7-day hold (call under lock)."""
    now = timezone.now()
    if payment.status == SandboxPayment.Status.PENDING and payment.expires_at and now > payment.expires_at:
        _cancel(payment, party="yoo_money", reason="expired_on_confirmation")
    elif (
        payment.status == SandboxPayment.Status.WAITING_FOR_CAPTURE
        and payment.expires_at
        and now > payment.expires_at
    ):
        _cancel(payment, party="merchant", reason="expired_on_capture")


def sandbox_payment_get(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = instance_by(SandboxPayment, pk=payment_id, shop_id=shop_id)
    if payment is None:
        raise ApiError(404, "not_found", "Payment not found")
    if (
        payment.expires_at
        and timezone.now() > payment.expires_at
        and payment.status
        in (
            SandboxPayment.Status.PENDING,
            SandboxPayment.Status.WAITING_FOR_CAPTURE,
        )
    ):
        with transaction.atomic():
            payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
            sandbox_payment_expire(payment)
    return payment


def sandbox_payment_capture(*, shop_id: str, payment_id: str, body: Any) -> SandboxPayment:
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
    if _capture(payment, body):
        update_fields(payment, _CAPTURE_FIELDS)
        sandbox_notify(event="payment.succeeded", payment=payment)
    return payment


_CAPTURE_FIELDS = ["status", "captured_at", "amount_kopecks"]


def _capture(payment: SandboxPayment, body: Any) -> bool:
    """Capture a locked payment in memory (the caller writes ``_CAPTURE_FIELDS`` and notifies); False
    if it was captured already. Raises ApiError when it cannot be captured."""
    sandbox_payment_expire(payment)
    if payment.status == SandboxPayment.Status.SUCCEEDED:
        return False
    if payment.status != SandboxPayment.Status.WAITING_FOR_CAPTURE:
        raise ApiError(400, "invalid_request", f"Payment is {payment.status}, cannot capture")
    if isinstance(body, dict) and body.get("amount") is not None:
        amount = parse_money(body["amount"], "amount")
        if amount > payment.amount_kopecks:
            raise ApiError(400, "invalid_request", "Capture amount exceeds the payment", "amount.value")
        payment.amount_kopecks = amount
    payment.status = SandboxPayment.Status.SUCCEEDED
    payment.captured_at = timezone.now()
    return True


@dataclass(frozen=True)
class _CaptureRequest:
    shop_id: str
    payment_id: str
    key: str
    path: str
    request_hash: str
    body: Any


def sandbox_payment_capture_request(
    *, shop_id: str, payment_id: str, key: str | None, path: str, body: Any
) -> tuple[int, dict[str, Any]]:
    """POST /payments/{id}/capture, once per Idempotence-Key. The captures a process's threads receive
    together run in one transaction (kabinet.core.group_commit): the acquirer stand-in shares the two
    CPUs of the payments benchmark with the app, so its few statements per capture count too."""
    request = _CaptureRequest(
        shop_id, payment_id, _idempotence_key_checked(key), path, _request_hash(path, body), body
    )
    return _captures.run(request)


class _CaptureAlone(Exception):
    """This batch has a case the batch does not handle (a repeated key, an error): run each alone."""


def _captures_process(requests_: list[_CaptureRequest]) -> list[tuple[int, dict[str, Any]]]:
    if len(requests_) == 1:
        request = requests_[0]
        return [
            idempotent(
                shop_id=request.shop_id,
                key=request.key,
                path=request.path,
                body=request.body,
                operation=lambda: (
                    200,
                    payment_json(
                        sandbox_payment_capture(
                            shop_id=request.shop_id, payment_id=request.payment_id, body=request.body
                        )
                    ),
                ),
            )
        ]
    keys = {(r.shop_id, r.key) for r in requests_}
    if len(keys) != len(requests_):
        raise _CaptureAlone("a key repeated in the batch")
    stored = {
        (row.shop_id, row.key): row
        for row in SandboxIdempotenceKey.objects.filter(key__in=[r.key for r in requests_])
        if (row.shop_id, row.key) in keys
    }
    results: dict[int, tuple[int, dict[str, Any]]] = {}
    todo = []
    for index, request in enumerate(requests_):
        previous = stored.get((request.shop_id, request.key))
        if previous is None:
            todo.append((index, request))
        elif previous.request_hash != request.request_hash:
            raise _CaptureAlone("a key used with another request")
        else:
            results[index] = (previous.status_code, previous.response)
    if todo:
        with transaction.atomic():
            # the rows locked in pk order: two batches never deadlock
            locked = instances_by_pks(SandboxPayment, [r.payment_id for _i, r in todo], lock=True)
            captured, stored_keys = [], []
            for index, request in todo:
                payment = locked.get(request.payment_id)
                if payment is None or payment.shop_id != request.shop_id:
                    raise _CaptureAlone("no such payment")
                try:
                    if _capture(payment, request.body):
                        captured.append(payment)
                except ApiError as exc:
                    raise _CaptureAlone(str(exc)) from exc
                response = payment_json(payment)
                results[index] = (200, response)
                stored_keys.append(
                    SandboxIdempotenceKey(
                        shop_id=request.shop_id,
                        key=request.key,
                        path=request.path,
                        request_hash=request.request_hash,
                        status_code=200,
                        response=response,
                    )
                )
            update_fields_many(captured, _CAPTURE_FIELDS)
            sandbox_notify_many(event="payment.succeeded", payments=captured)
            # A concurrent request with one of the keys: this fails on the unique key, and each request
            # runs again alone (``idempotent`` then answers with the first response).
            insert_many(stored_keys)
    return [results[index] for index in range(len(requests_))]


_captures: GroupCommit[_CaptureRequest, tuple[int, dict[str, Any]]] = GroupCommit(_captures_process)


def sandbox_payment_cancel(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
    if payment.status == SandboxPayment.Status.CANCELED:
        return payment
    if payment.status == SandboxPayment.Status.SUCCEEDED:
        raise ApiError(400, "invalid_request", "Payment is succeeded, cannot cancel (make a refund)")
    _cancel(payment, party="merchant", reason="canceled_by_merchant")
    return payment


def _cancel(payment: SandboxPayment, *, party: str, reason: str) -> None:
    payment.status = SandboxPayment.Status.CANCELED
    payment.cancellation_party = party
    payment.cancellation_reason = reason
    payment.save()
    sandbox_notify(event="payment.canceled", payment=payment)


# --- the hosted page: card, then 3-D Secure ------------------------------------------------------------


def sandbox_card_submit(
    *, payment_id: str, card: TestCard, expiry_month: str, expiry_year: str
) -> SandboxPayment:
    """The payer entered a card: declined cards cancel at once; others get a 3-D Secure code by SMS."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING:
            return payment
        payment.card_first6 = card.number[:6]
        payment.card_last4 = card.number[-4:]
        payment.card_expiry_month = expiry_month
        payment.card_expiry_year = expiry_year
        payment.card_type = card.card_type
        payment.card_issuer_country = card.issuer_country
        payment.card_issuer_name = "Sandbox Bank" if card.issuer_country == "RU" else "Sandbox Foreign Bank"
        payment.card_product_code = card.product_code
        payment.card_product_name = CARD_PRODUCT_NAMES.get(card.product_code, card.product_code)
        payment.payment_method_id = (
            "pm-" + hashlib.sha256(f"{payment.id}:{card.number}".encode()).hexdigest()[:28]
        )
        payment.notify = card.notify
        if card.outcome != "success":
            payment.save()
            _cancel(payment, party="issuer", reason=card.outcome)
            return payment
        payment.sms_code = f"{secrets.randbelow(1_000_000):06d}"
        payment.sms_phone = settings.SANDBOX_ACQUIRER_TEST_PHONE
        payment.sms_attempts_left = 3
        payment.save()
        sms_send(
            to=payment.sms_phone,
            text=f"Код подтверждения платежа {payment.amount_kopecks // 100} RUB: {payment.sms_code}. "
            "Никому не сообщайте код. Sandbox Bank",
        )
    return payment


def sandbox_3ds_submit(*, payment_id: str, code: str) -> tuple[SandboxPayment, bool]:
    """The payer typed the SMS code. Returns (payment, code_ok). Three wrong codes cancel the payment."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING or not payment.sms_code:
            return payment, payment.status != SandboxPayment.Status.CANCELED
        if not secrets.compare_digest(code.strip(), payment.sms_code):
            payment.sms_attempts_left = max(payment.sms_attempts_left - 1, 0)
            payment.save(update_fields=["sms_attempts_left"])
            if payment.sms_attempts_left == 0:
                _cancel(payment, party="issuer", reason="3d_secure_failed")
            return payment, False
        payment.sms_code = ""
        payment.paid = True
        if payment.capture:
            payment.status = SandboxPayment.Status.SUCCEEDED
            payment.captured_at = timezone.now()
            payment.save()
            sandbox_notify(event="payment.succeeded", payment=payment)
        else:
            payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
            payment.expires_at = timezone.now() + HOLD_TTL
            payment.save()
            sandbox_notify(event="payment.waiting_for_capture", payment=payment)
    return payment, True


def sandbox_wallet_submit(*, payment_id: str, wallet: str) -> SandboxPayment:
    """The payer confirmed the payment in their wallet. A wallet ending in 0000 has no money."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING:
            return payment
        payment.wallet_account = wallet
        payment.payment_method_id = "pm-" + hashlib.sha256(f"{payment.id}:{wallet}".encode()).hexdigest()[:28]
        if wallet.endswith("0000"):
            payment.save()
            _cancel(payment, party="payment_network", reason="insufficient_funds")
            return payment
        payment.paid = True
        if payment.capture:
            payment.status = SandboxPayment.Status.SUCCEEDED
            payment.captured_at = timezone.now()
            payment.save()
            sandbox_notify(event="payment.succeeded", payment=payment)
        else:
            payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
            payment.expires_at = timezone.now() + HOLD_TTL
            payment.save()
            sandbox_notify(event="payment.waiting_for_capture", payment=payment)
    return payment


def sandbox_payment_abandon(*, payment_id: str) -> SandboxPayment:
    """The payer pressed «Отменить» on the card page."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        if payment.status == SandboxPayment.Status.PENDING:
            _cancel(payment, party="yoo_money", reason="expired_on_confirmation")
    return payment


# --- refunds ---------------------------------------------------------------------------------------


def sandbox_refund_create(*, shop_id: str, body: Any) -> SandboxRefund:
    if not isinstance(body, dict) or not isinstance(body.get("payment_id"), str):
        raise ApiError(400, "invalid_request", "payment_id is required", "payment_id")
    amount = parse_money(body.get("amount"), "amount")
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=body["payment_id"])
    if payment.status != SandboxPayment.Status.SUCCEEDED:
        raise ApiError(400, "invalid_request", "Only succeeded payments can be refunded", "payment_id")
    if payment.refunded_kopecks + amount > payment.amount_kopecks:
        raise ApiError(400, "invalid_request", "Refund amount exceeds the payment", "amount.value")
    payment.refunded_kopecks += amount
    payment.save(update_fields=["refunded_kopecks"])
    refund = SandboxRefund.objects.create(
        payment=payment, amount_kopecks=amount, description=str(body.get("description", ""))[:250]
    )
    sandbox_notify(event="refund.succeeded", refund=refund)
    return refund


def sandbox_refund_get(*, shop_id: str, refund_id: str) -> SandboxRefund:
    refund = SandboxRefund.objects.filter(pk=refund_id, payment__shop_id=shop_id).first()
    if refund is None:
        raise ApiError(404, "not_found", "Refund not found")
    return refund


# --- notifications ---------------------------------------------------------------------------------


def sandbox_notify(
    *, event: str, payment: SandboxPayment | None = None, refund: SandboxRefund | None = None
) -> None:
    """Queue an HTTP notification (sent after commit, retried). Settings or the test card may delay or
    drop it: then only the shop's reconciliation finds out."""
    if refund is not None:
        notification, mode = _notification(event, refund_json(refund), refund.payment.notify)
    else:
        assert payment is not None
        notification, mode = _notification(event, payment_json(payment), payment.notify)
    insert(notification)
    _notification_send_after_commit(notification, mode)


def sandbox_notify_many(*, event: str, payments: list[SandboxPayment]) -> None:
    """``sandbox_notify`` for several payments, their rows in one statement."""
    queued = [_notification(event, payment_json(payment), payment.notify) for payment in payments]
    insert_many([notification for notification, _mode in queued])
    for notification, mode in queued:
        _notification_send_after_commit(notification, mode)


def _notification(event: str, obj: dict[str, Any], mode: str) -> tuple[SandboxNotification, str]:
    setting = settings.SANDBOX_ACQUIRER_NOTIFICATIONS
    if setting in ("delay", "drop"):
        mode = setting
    delay = settings.SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS if mode == "delay" else 0
    notification = SandboxNotification(
        event=event,
        object_id=obj["id"],
        body={"type": "notification", "event": event, "object": obj},
        url=settings.SANDBOX_ACQUIRER_NOTIFICATION_URL,
        due_at=timezone.now() + dt.timedelta(seconds=delay),
        dropped=mode == "drop",
    )
    return notification, mode


def _notification_send_after_commit(notification: SandboxNotification, mode: str) -> None:
    if mode == "drop":
        return
    pk = notification.pk
    countdown = settings.SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS if mode == "delay" else 0

    def send() -> None:
        from kabinet.sandbox_acquirer.tasks import sandbox_notification_send

        if countdown and settings.CELERY_TASK_ALWAYS_EAGER:
            return  # eager Celery cannot wait: the periodic flush (or a test) sends it when due
        sandbox_notification_send.apply_async(args=[pk], countdown=countdown)

    transaction.on_commit(send)


def sandbox_notification_deliver(*, notification_id: int) -> bool:
    """One delivery attempt. Returns True when the shop answered 2xx."""
    from kabinet.payments.acquirer.client import http_session

    notification = SandboxNotification.objects.get(pk=notification_id)
    if notification.delivered_at or notification.dropped:
        return True
    SandboxNotification.objects.filter(pk=notification_id).update(attempts=notification.attempts + 1)
    try:
        response = http_session().post(notification.url, json=notification.body, timeout=(3, 30))
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except Exception as exc:
        ok, error = False, f"{exc.__class__.__name__}: {exc}"[:255]
    if ok:
        SandboxNotification.objects.filter(pk=notification_id).update(
            delivered_at=timezone.now(), last_error=""
        )
    else:
        SandboxNotification.objects.filter(pk=notification_id).update(last_error=error)
        logger.info("sandbox notification %s failed: %s", notification_id, error)
    return ok


def sandbox_notifications_due() -> list[int]:
    return list(
        SandboxNotification.objects.filter(
            delivered_at__isnull=True, dropped=False, due_at__lte=timezone.now()
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:200]
    )
