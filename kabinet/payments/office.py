"""Cash payments taken at an office by staff: money from the till (``cash:office``) to the account."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.billing.models import PersonalAccount
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.billing.services import CASH_OFFICE
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError, NotFound, PermissionDenied
from kabinet.core.money import rubles_to_kopecks
from kabinet.payments.models import Payment, PaymentEvent
from kabinet.payments.services import payment_credit

MAX_OFFICE_PAYMENT_KOPECKS = 100_000_000  # 1 000 000 ₽: a typo guard, not a business rule


def payment_office_create(
    *,
    actor: Any,
    account_number: str,
    amount: str | int,
    payer: str = "",
    office: str = "",
    receipt_email: str = "",
    idempotency_key: str = "",
) -> Payment:
    """Staff record cash paid at an office; the account is credited at once (audited).

    ``idempotency_key`` (the form's token) makes a double-submitted form create one payment."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_staff):
        raise PermissionDenied(_("Принимать платежи в офисе могут только сотрудники."))
    number = personal_account_number_clean(account_number)
    if not personal_account_number_is_valid(number):
        raise DomainError(_("Неверный номер лицевого счёта: проверьте цифры."), field="account_number")
    account = PersonalAccount.objects.filter(number=number).first()
    if account is None:
        raise NotFound(_("Лицевой счёт %(number)s не найден.") % {"number": number}, field="account_number")
    if account.status == PersonalAccount.Status.TERMINATED:
        raise DomainError(_("Лицевой счёт %(number)s закрыт.") % {"number": number}, field="account_number")
    amount_kopecks = rubles_to_kopecks(amount)
    if amount_kopecks > MAX_OFFICE_PAYMENT_KOPECKS:
        raise DomainError(_("Сумма больше 1 000 000 ₽: проверьте её."), field="amount")
    key = f"office:{idempotency_key or uuid.uuid4().hex}"[:64]
    with transaction.atomic():
        existing = Payment.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.personal_account_id != account.pk or existing.amount_kopecks != amount_kopecks:
                raise DomainError(_("Эта форма уже отправлена с другими данными. Обновите страницу."))
            return existing
        payment = Payment.objects.create(
            personal_account=account,
            amount_kopecks=amount_kopecks,
            method=Payment.Method.OFFICE,
            status=Payment.Status.CREATED,
            idempotency_key=key,
            receipt_email=receipt_email,
            payer=payer[:255],
            paid_at=timezone.now(),
        )
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEvent.Kind.ACCEPTED,
            message=(_("Наличными в офисе %(office)s") % {"office": office})
            if office
            else _("Наличными в офисе"),
            data={"staff_id": actor.pk, "office": office},
        )
        audit_log(
            actor=actor,
            action="payments.office_payment",
            target=payment,
            new={
                "personal_account": number,
                "amount_kopecks": amount_kopecks,
                "payer": payer,
                "office": office,
            },
        )
        # One ledger transfer from the till; unblock, receipt and bonus hooks as for any payment.
        payment = payment_credit(payment=payment, source_code=CASH_OFFICE, actor=actor)
    return payment
