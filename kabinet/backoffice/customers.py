"""Back office: finding a customer, and disclosing personal data only after identity verification.

The rule (MISSION, "Security and privacy"): staff disclose personal data — passport, addresses, the
personal account number — only after verifying the caller's identity by the passport, or by the code
word together with the details of a recent payment. Here the staff member types what the caller says
and the system compares it with the card (the staff member never needs to read the secret first).

A successful check is an audit row ``personal_data.identity_verified`` by that staff member for that
customer; it opens the personal data for that staff member for ``VERIFICATION_TTL``. A failed check is
an audit row too (``personal_data.identity_check_failed``); after ``MAX_FAILED_CHECKS`` failures in the
same window the check is refused. Every card view writes ``personal_data.view``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.billing.models import LedgerTransfer, PersonalAccount
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.core.phones import PhoneInputError, looks_like_phone, normalize_phone
from kabinet.customers.models import Contract, Customer

VERIFICATION_TTL = dt.timedelta(minutes=30)
MAX_FAILED_CHECKS = 5
RECENT_PAYMENT_DAYS = 90
SEARCH_LIMIT = 50

ACTION_VIEW = "personal_data.view"
ACTION_SEARCH = "personal_data.search"
ACTION_VERIFIED = "personal_data.identity_verified"
ACTION_FAILED = "personal_data.identity_check_failed"


class VerificationMethod:
    PASSPORT = "passport"
    CODE_WORD_PAYMENT = "code_word_payment"


def _staff_only(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and getattr(actor, "is_staff", False)):
        raise PermissionDenied(_("Это действие доступно только сотрудникам оператора."))


# --- search ---------------------------------------------------------------------------------------------


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers by name (every word), ИНН, personal account number, contract number or phone."""
    query = (query or "").strip()
    if len(query) < 2:
        return Customer.objects.none()
    condition = Q(contracts__number__iexact=query)
    digits = personal_account_number_clean(query)
    if digits.isdigit():
        if personal_account_number_is_valid(digits):
            condition |= Q(personal_accounts__number=digits)
        if len(digits) in (10, 12):
            condition |= Q(inn=digits)
    if looks_like_phone(query):
        try:
            phone = normalize_phone(query)
        except PhoneInputError:
            phone = ""
        if phone:
            condition |= (
                Q(personal_accounts__phone=phone)
                | Q(contracts__phone=phone)
                | Q(users__phone=phone)
                | Q(contact_phone=phone)
            )
    words = [w for w in re.split(r"\s+", query) if w]
    if words and not digits.isdigit():
        name = Q()
        for word in words:
            # SQLite folds case of ASCII only: also try the usual spellings of a Cyrillic word.
            any_field = Q()
            for variant in {word, word.lower(), word.capitalize(), word.upper()}:
                any_field |= (
                    Q(last_name__icontains=variant)
                    | Q(first_name__icontains=variant)
                    | Q(middle_name__icontains=variant)
                    | Q(display_name__icontains=variant)
                    | Q(organization_name__icontains=variant)
                )
            name &= any_field
        condition |= name
    ids = Customer.objects.filter(condition).values("pk").distinct()[:SEARCH_LIMIT]
    return Customer.objects.filter(pk__in=list(ids.values_list("pk", flat=True))).order_by(
        "last_name", "organization_name", "pk"
    )


def customer_search_log(*, actor: Any, query: str, found: int, ip: str | None = None) -> None:
    audit_log(
        actor=actor,
        action=ACTION_SEARCH,
        target_type="customers.customer",
        target_id="",
        new={"query": query[:100], "found": found},
        ip=ip,
    )


# --- identity verification and disclosure ----------------------------------------------------------------


def identity_verification_active(*, actor: Any, customer: Customer) -> AuditEvent | None:
    """The staff member's still valid identity check of this customer, if any."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        AuditEvent.objects.filter(
            actor=actor,
            action=ACTION_VERIFIED,
            target_type=Customer._meta.label_lower,
            target_id=str(customer.pk),
            created_at__gte=timezone.now() - VERIFICATION_TTL,
        )
        .order_by("-created_at")
        .first()
    )


def _failed_checks(*, actor: Any, customer: Customer) -> int:
    return AuditEvent.objects.filter(
        actor=actor,
        action=ACTION_FAILED,
        target_type=Customer._meta.label_lower,
        target_id=str(customer.pk),
        created_at__gte=timezone.now() - VERIFICATION_TTL,
    ).count()


def _normalize_document(text: str) -> str:
    return re.sub(r"[^0-9A-ZА-ЯЁ]", "", (text or "").upper())


def _recent_payment_matches(*, customer: Customer, amount_kopecks: int) -> bool:
    ledger_ids = PersonalAccount.objects.filter(customer=customer).values("ledger_account_id")
    return LedgerTransfer.objects.filter(
        kind=LedgerTransfer.Kind.PAYMENT,
        credit_account_id__in=ledger_ids,
        amount_kopecks=amount_kopecks,
        value_date__gte=timezone.localdate() - dt.timedelta(days=RECENT_PAYMENT_DAYS),
    ).exists()


def identity_verification_record(
    *,
    actor: Any,
    customer: Customer,
    method: str,
    passport: str = "",
    code_word: str = "",
    payment_amount_kopecks: int | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Check what the caller said against the card; on success the personal data opens for this staff
    member for ``VERIFICATION_TTL``. Nothing the caller said is stored, only which method passed."""
    _staff_only(actor)
    target = {"target_type": Customer._meta.label_lower, "target_id": customer.pk}
    if _failed_checks(actor=actor, customer=customer) >= MAX_FAILED_CHECKS:
        raise DomainError(
            _(
                "Слишком много неудачных проверок. Попробуйте позже или попросите абонента прийти в офис с паспортом."
            ),
            code="too_many_checks",
        )
    if method == VerificationMethod.PASSPORT:
        said = _normalize_document(passport)
        if not said:
            raise DomainError(_("Введите серию и номер паспорта, которые назвал абонент."), field="passport")
        on_file = _normalize_document(customer.passport)
        if not on_file:
            raise DomainError(
                _("В карточке нет паспортных данных: проверьте по кодовому слову и недавнему платежу."),
                field="method",
            )
        passed = said == on_file
        what = _("паспорт")
    elif method == VerificationMethod.CODE_WORD_PAYMENT:
        if not code_word.strip():
            raise DomainError(_("Введите кодовое слово, которое назвал абонент."), field="code_word")
        if not payment_amount_kopecks:
            raise DomainError(
                _("Введите сумму недавнего платежа, которую назвал абонент."), field="payment_amount"
            )
        if not customer.code_word.strip():
            raise DomainError(
                _("В карточке нет кодового слова: проверьте по паспорту."),
                field="method",
            )
        passed = code_word.strip().casefold() == customer.code_word.strip().casefold() and (
            _recent_payment_matches(customer=customer, amount_kopecks=payment_amount_kopecks)
        )
        what = _("кодовое слово и недавний платёж")
    else:
        raise DomainError(_("Выберите способ проверки."), field="method")
    if not passed:
        audit_log(actor=actor, action=ACTION_FAILED, new={"method": method}, ip=ip, **target)  # type: ignore[arg-type]
        raise DomainError(
            _("Данные не совпадают с карточкой абонента (%(what)s). Персональные данные не раскрыты.")
            % {"what": what},
            code="identity_mismatch",
        )
    return audit_log(actor=actor, action=ACTION_VERIFIED, new={"method": method}, ip=ip, **target)  # type: ignore[arg-type]


def personal_data_view_log(
    *, actor: Any, customer: Customer, fields: list[str], ip: str | None = None, via: str = "customer"
) -> AuditEvent:
    """Every staff view of a customer's data, with which fields were shown."""
    return audit_log(
        actor=actor,
        action=ACTION_VIEW,
        target=customer,
        new={"fields": fields, "via": via},
        ip=ip,
    )


def customer_card_contracts(*, customer: Customer) -> QuerySet[Contract]:
    return customer.contracts.order_by("signed_at", "pk")


def customer_card_accounts(*, customer: Customer) -> QuerySet[PersonalAccount]:
    return customer.personal_accounts.select_related("ledger_account", "contract").order_by(
        "service_kind", "number"
    )
