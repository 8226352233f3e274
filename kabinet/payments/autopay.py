"""Autopay: a card saved at the acquirer tops up a personal account by itself.

Setting up is a first card payment with ``save_payment_method``; when it has succeeded the acquirer
reports the saved card and autopay switches on. The periodic task (every hour) charges each enabled
autopay that is due: when the account's money lasts fewer than N days at its current daily rate, or on
the chosen day of the month. Limits: at most ``max_per_payment_kopecks`` per payment (and the
operator's 15 000 ₽ rule, enforced by ``payment_initiate``) and ``max_per_month_kopecks`` per calendar
month. A charge is idempotent per autopay and day (``autopay:<id>:<date>:<mac>``), so a rerun of the task
never charges twice.

The daily rate is the sum of the account's active subscriptions and options (monthly prices spread
over 30 days); the portal's forecast is more precise but lives on a higher layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.billing.forecast import personal_account_forecast
from kabinet.billing.models import PersonalAccount
from kabinet.billing.selectors import personal_account_get_for_user
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.core.money import format_kopecks, rubles_to_kopecks
from kabinet.payments.acquirer.client import acquirer_client
from kabinet.payments.acquirer.interface import AcquirerError
from kabinet.payments.models import AutopaySetting, Payment
from kabinet.payments.services import payment_initiate, payment_sync

logger = logging.getLogger(__name__)

OPERATOR_MAX_KOPECKS = 1_500_000


def _limits_check(*, amount_kopecks: int, max_per_payment_kopecks: int, max_per_month_kopecks: int) -> None:
    if amount_kopecks <= 0:
        raise DomainError(_("Сумма автоплатежа должна быть больше нуля."), field="amount")
    if amount_kopecks % 100:
        raise DomainError(_("Сумма автоплатежа — в целых рублях."), field="amount")
    if max_per_payment_kopecks > OPERATOR_MAX_KOPECKS:
        raise DomainError(_("Лимит на один платёж — не больше 15 000 ₽."), field="max_per_payment")
    if amount_kopecks > max_per_payment_kopecks:
        raise DomainError(_("Сумма автоплатежа больше лимита на один платёж."), field="amount")
    if max_per_month_kopecks < amount_kopecks:
        raise DomainError(_("Лимит в месяц меньше суммы одного автоплатежа."), field="max_per_month")


def autopay_setup_start(
    *,
    user: Any,
    personal_account_id: int,
    amount: str,
    trigger: str,
    days_left_threshold: int = 3,
    day_of_month: int = 1,
    max_per_payment: str = "15000",
    max_per_month: str = "30000",
    idempotency_key: str,
    site_url: str | None = None,
) -> Payment:
    """Save the settings and start the first card payment (``amount``) that saves the card. The payer
    is sent to ``payment.confirmation_url``; autopay switches on when that payment has succeeded."""
    account = personal_account_get_for_user(user=user, personal_account_id=personal_account_id)
    if trigger not in AutopaySetting.Trigger.values:
        raise DomainError(_("Выберите, когда пополнять счёт."), field="trigger")
    if not 1 <= days_left_threshold <= 30:
        raise DomainError(_("Порог — от 1 до 30 дней."), field="days_left_threshold")
    if not 1 <= day_of_month <= 28:
        raise DomainError(_("День месяца — от 1 до 28."), field="day_of_month")
    amount_kopecks = rubles_to_kopecks(amount, whole_rubles=True)
    per_payment = rubles_to_kopecks(max_per_payment, whole_rubles=True)
    per_month = rubles_to_kopecks(max_per_month, whole_rubles=True)
    _limits_check(
        amount_kopecks=amount_kopecks, max_per_payment_kopecks=per_payment, max_per_month_kopecks=per_month
    )
    payment = payment_initiate(
        personal_account=account,
        idempotency_key=idempotency_key,
        amount_kopecks=amount_kopecks,
        user=user,
        site_url=site_url,
        method=Payment.Method.CARD,
        acquirer_options={"save_payment_method": True},
    )
    with transaction.atomic():
        setting, _created = AutopaySetting.objects.select_for_update().get_or_create(
            user=user,
            personal_account=account,
            defaults={"amount_kopecks": amount_kopecks, "enabled": False},
        )
        old = _snapshot(setting)
        setting.trigger = trigger
        setting.days_left_threshold = days_left_threshold
        setting.day_of_month = day_of_month
        setting.amount_kopecks = amount_kopecks
        setting.max_per_payment_kopecks = per_payment
        setting.max_per_month_kopecks = per_month
        setting.linking_payment = payment
        setting.enabled = False
        setting.save()
        audit_log(
            actor=user, action="payments.autopay_setup", target=setting, old=old, new=_snapshot(setting)
        )
    return payment


def _snapshot(setting: AutopaySetting) -> dict[str, Any]:
    return {
        "enabled": setting.enabled,
        "trigger": setting.trigger,
        "days_left_threshold": setting.days_left_threshold,
        "day_of_month": setting.day_of_month,
        "amount_kopecks": setting.amount_kopecks,
        "max_per_payment_kopecks": setting.max_per_payment_kopecks,
        "max_per_month_kopecks": setting.max_per_month_kopecks,
        "card_mask": setting.card_mask,
    }


def autopay_sync(*, user: Any) -> int:
    """Switch on autopays whose card-saving payment has succeeded (asks the acquirer for the saved
    card). Called when the profile shows autopay; returns how many were switched on."""
    switched = 0
    pending = AutopaySetting.objects.filter(
        user=user, payment_method_id="", linking_payment__status=Payment.Status.SUCCEEDED
    ).select_related("linking_payment")
    for setting in pending:
        payment = setting.linking_payment
        if payment is None or not payment.acquirer_payment_id:
            continue
        try:
            remote = acquirer_client().payment_get(payment_id=payment.acquirer_payment_id)
        except AcquirerError as exc:
            logger.warning("autopay %s: acquirer unavailable: %s", setting.pk, exc)
            continue
        method = remote.raw.get("payment_method") or {}
        if not method.get("saved") or not method.get("id"):
            continue
        with transaction.atomic():
            AutopaySetting.objects.filter(pk=setting.pk).update(
                payment_method_id=str(method["id"])[:64],
                card_mask=payment.card_mask or (remote.card.mask if remote.card else ""),
                enabled=True,
                last_error="",
            )
            setting.refresh_from_db()
            audit_log(actor=user, action="payments.autopay_on", target=setting, new=_snapshot(setting))
        switched += 1
    return switched


def autopay_list(*, user: Any) -> QuerySet[AutopaySetting]:
    if not getattr(user, "is_authenticated", False):
        return AutopaySetting.objects.none()
    return AutopaySetting.objects.filter(user=user, personal_account__links__user=user).select_related(
        "personal_account"
    )


def autopay_set_enabled(*, user: Any, setting_id: int, enabled: bool) -> AutopaySetting:
    setting = autopay_list(user=user).filter(pk=setting_id).first()
    if setting is None:
        raise NotFound(_("Автоплатёж не найден."))
    if enabled and not setting.payment_method_id:
        raise DomainError(_("Сначала сохраните карту: оплатите первый платёж автоплатежа."))
    with transaction.atomic():
        old = _snapshot(setting)
        setting.enabled = enabled
        setting.save(update_fields=["enabled", "updated_at"])
        audit_log(
            actor=user, action="payments.autopay_switch", target=setting, old=old, new=_snapshot(setting)
        )
    return setting


# --- the periodic charge -------------------------------------------------------------------------


def autopay_days_left(*, personal_account: PersonalAccount, today: dt.date | None = None) -> int | None:
    """Whole days the money lasts: the same forecast as the dashboard's "enough until" (billing run's
    calendar, monthly fees in advance on the 1st); None when nothing is charged."""
    forecast = personal_account_forecast(
        personal_account=personal_account, today=today or timezone.localdate()
    )
    return forecast.days_left


def autopay_is_due(*, setting: AutopaySetting, today: dt.date) -> bool:
    if setting.trigger == AutopaySetting.Trigger.DAY_OF_MONTH:
        return today.day == setting.day_of_month
    days = autopay_days_left(personal_account=setting.personal_account, today=today)
    return days is not None and days < setting.days_left_threshold


def _month_spent(setting: AutopaySetting, today: dt.date) -> int:
    start = dt.datetime.combine(today.replace(day=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    return (
        Payment.objects.filter(
            personal_account=setting.personal_account,
            method=Payment.Method.AUTOPAY,
            idempotency_key__startswith=f"autopay:{setting.pk}:",
            created_at__gte=start,
        )
        .exclude(status=Payment.Status.CANCELED)
        .aggregate(s=Sum("amount_kopecks"))["s"]
        or 0
    )


def autopay_idempotency_key(*, setting: AutopaySetting, day: dt.date) -> str:
    """One charge per autopay and day. Keyed with a MAC so nobody can take the key first through the
    public payment API (whose Idempotency-Key is chosen by the caller)."""
    text = f"autopay:{setting.pk}:{day:%Y%m%d}"
    mac = hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:20]
    return f"{text}:{mac}"


def autopay_charge(*, setting: AutopaySetting, today: dt.date) -> Payment | None:
    """Charge the saved card once for ``today`` if the monthly limit allows. Returns the payment, or
    None when the limit would be exceeded (recorded in ``last_error``)."""
    key = autopay_idempotency_key(setting=setting, day=today)
    existing = Payment.objects.filter(
        idempotency_key=key, personal_account_id=setting.personal_account_id, method=Payment.Method.AUTOPAY
    ).first()
    if existing is not None:
        return existing
    amount = min(setting.amount_kopecks, setting.max_per_payment_kopecks)
    if _month_spent(setting, today) + amount > setting.max_per_month_kopecks:
        message = _("Автоплатёж не выполнен: достигнут лимит %(limit)s в месяц.") % {
            "limit": format_kopecks(setting.max_per_month_kopecks)
        }
        AutopaySetting.objects.filter(pk=setting.pk).update(
            last_error=message[:255], last_run_at=timezone.now()
        )
        return None
    try:
        payment = payment_initiate(
            personal_account=setting.personal_account,
            idempotency_key=key,
            amount_kopecks=amount,
            user=setting.user,
            method=Payment.Method.AUTOPAY,
            acquirer_options={"payment_method_id": setting.payment_method_id},
        )
        if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.CANCELED):
            payment = payment_sync(payment=payment)
    except DomainError as exc:
        AutopaySetting.objects.filter(pk=setting.pk).update(
            last_error=exc.message[:255], last_run_at=timezone.now()
        )
        return None
    error = "" if payment.status == Payment.Status.SUCCEEDED else (payment.cancel_reason or "")
    AutopaySetting.objects.filter(pk=setting.pk).update(last_error=error[:255], last_run_at=timezone.now())
    return payment


def autopay_run_due(*, today: dt.date | None = None) -> dict[str, int]:
    """Charge every enabled autopay that is due today. Safe to run many times a day."""
    today = today or timezone.localdate()
    counts = {"checked": 0, "charged": 0, "skipped": 0, "failed": 0}
    settings_qs = (
        AutopaySetting.objects.filter(enabled=True)
        .exclude(payment_method_id="")
        .exclude(personal_account__status=PersonalAccount.Status.TERMINATED)
        .select_related("personal_account", "user")
        .order_by("pk")
    )
    for setting in settings_qs:
        counts["checked"] += 1
        if not autopay_is_due(setting=setting, today=today):
            counts["skipped"] += 1
            continue
        payment = autopay_charge(setting=setting, today=today)
        if payment is not None and payment.status == Payment.Status.SUCCEEDED:
            counts["charged"] += 1
        else:
            counts["failed"] += 1
    return counts


@shared_task(ignore_result=True)
def autopay_run_due_task() -> dict[str, int]:
    return autopay_run_due()
