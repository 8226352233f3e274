"""Attaching personal accounts to a cabinet (and detaching them): proof of ownership, rate limits.

A person proves that an account is theirs in one of three ways:

* an SMS code sent to the phone written in the contract (``Contract.phone``; for a mobile account without
  a contract phone, the account's own number);
* the contract number together with the amount of the last payment to the account;
* a mobile account whose number is the user's verified phone attaches itself.

Answers never reveal whether an account number exists: an unknown number, a number without a phone and a
wrong proof all get the same wording, and the code request looks the same in every case. Pending SMS codes
and attempt counters live in the cache (Redis in production), so they expire on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kabinet.billing.models import LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.catalog.models import ServiceKind
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, NotFound
from kabinet.notifications.sms import sms_send

CODE_TTL_SECONDS = 10 * 60
CODE_MAX_FAILURES = 5
# Code requests per user per window, and proof attempts (codes, contract checks) per user per window.
REQUESTS_PER_WINDOW = 3
ATTEMPTS_PER_WINDOW = 10
# Proof attempts on one account number from all users together (guessing spread over many cabinets).
ATTEMPTS_PER_NUMBER_PER_WINDOW = 20
WINDOW_SECONDS = 60 * 60


class AttachRefused(DomainError):
    code = "attach_refused"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429


def _refused() -> AttachRefused:
    return AttachRefused(
        _(
            "Не удалось подтвердить, что этот лицевой счёт ваш. Проверьте номер счёта и данные "
            "и попробуйте ещё раз."
        )
    )


def _clean_number(number: str) -> str:
    cleaned = personal_account_number_clean(number)
    if not personal_account_number_is_valid(cleaned):
        raise DomainError(
            _("Номер лицевого счёта указан неверно: нужно 10 цифр, проверьте каждую цифру."),
            code="invalid_account_number",
            field="number",
        )
    return cleaned


def _hash(text: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def _count(key: str, *, limit: int) -> None:
    """Count one event under ``key`` in the current window; refuse once the limit is passed."""
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        value = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        value = 1
    if value > limit:
        raise TooManyAttempts(
            _("Слишком много попыток. Подождите час и попробуйте снова или обратитесь в поддержку.")
        )


def _challenge_key(user: Any) -> str:
    return f"attach:challenge:{user.pk}"


def _proof_phone(account: PersonalAccount) -> str:
    contract_phone = account.contract.phone if account.contract_id and account.contract else ""
    if contract_phone:
        return contract_phone
    if account.service_kind == ServiceKind.MOBILE:
        return account.phone
    return ""


@dataclass(frozen=True)
class AttachChallenge:
    number: str
    expires_in_seconds: int


def personal_account_attach_request_code(*, user: Any, number: str) -> AttachChallenge:
    """Send a one-time code to the contract's phone. Looks the same whether or not the account exists."""
    cleaned = _clean_number(number)
    _count(f"attach:requests:{user.pk}", limit=REQUESTS_PER_WINDOW)
    _count(f"attach:number-requests:{cleaned}", limit=REQUESTS_PER_WINDOW * 2)
    account = (
        PersonalAccount.objects.select_related("contract")
        .filter(number=cleaned)
        .exclude(status=PersonalAccount.Status.TERMINATED)
        .first()
    )
    phone = _proof_phone(account) if account is not None else ""
    code = f"{secrets.randbelow(1_000_000):06d}"
    cache.set(
        _challenge_key(user),
        {
            "number": cleaned,
            # Nothing can match a challenge that was not delivered.
            "code_hash": _hash(f"{cleaned}:{code}") if phone else "",
            "failures": 0,
        },
        timeout=CODE_TTL_SECONDS,
    )
    if phone:
        sms_send(
            to=phone,
            text=_(
                "Код для добавления лицевого счёта %(number)s в личный кабинет: %(code)s. Никому его не сообщайте."
            )
            % {"number": cleaned, "code": code},
        )
    return AttachChallenge(number=cleaned, expires_in_seconds=CODE_TTL_SECONDS)


def _link_create(*, user: Any, account: PersonalAccount, method: str) -> PersonalAccountLink:
    try:
        with transaction.atomic():
            link = PersonalAccountLink.objects.create(user=user, personal_account=account, method=method)
            audit_log(
                actor=user,
                action="personal_account.attach",
                target=account,
                new={"user": user.pk, "method": method},
            )
    except IntegrityError:
        raise Conflict(_("Этот лицевой счёт уже есть в вашем кабинете."), code="already_attached") from None
    return link


def personal_account_attach_confirm_code(*, user: Any, number: str, code: str) -> PersonalAccountLink:
    cleaned = _clean_number(number)
    _count(f"attach:attempts:{user.pk}", limit=ATTEMPTS_PER_WINDOW)
    _count(f"attach:number:{cleaned}", limit=ATTEMPTS_PER_NUMBER_PER_WINDOW)
    challenge = cache.get(_challenge_key(user))
    if not challenge or challenge.get("number") != cleaned:
        raise AttachRefused(_("Код устарел или не запрашивался. Запросите новый код."), code="code_expired")
    code = (code or "").strip()
    expected = challenge.get("code_hash") or ""
    if not expected or not hmac.compare_digest(expected, _hash(f"{cleaned}:{code}")):
        challenge["failures"] = int(challenge.get("failures", 0)) + 1
        if challenge["failures"] >= CODE_MAX_FAILURES:
            cache.delete(_challenge_key(user))
            raise TooManyAttempts(_("Код введён неверно слишком много раз. Запросите новый код."))
        cache.set(_challenge_key(user), challenge, timeout=CODE_TTL_SECONDS)
        raise AttachRefused(_("Неверный код. Проверьте цифры из SMS."), code="wrong_code", field="code")
    account = PersonalAccount.objects.filter(number=cleaned).first()
    if account is None:  # pragma: no cover - the code was only deliverable for an existing account
        raise _refused()
    cache.delete(_challenge_key(user))
    return _link_create(user=user, account=account, method=PersonalAccountLink.Method.SMS_CODE)


def personal_account_attach_by_contract(
    *, user: Any, number: str, contract_number: str, last_payment_kopecks: int
) -> PersonalAccountLink:
    """Proof by the contract number and the exact amount of the last payment to the account."""
    cleaned = _clean_number(number)
    _count(f"attach:attempts:{user.pk}", limit=ATTEMPTS_PER_WINDOW)
    _count(f"attach:number:{cleaned}", limit=ATTEMPTS_PER_NUMBER_PER_WINDOW)
    account = (
        PersonalAccount.objects.select_related("contract")
        .filter(number=cleaned, contract__isnull=False)
        .exclude(status=PersonalAccount.Status.TERMINATED)
        .first()
    )
    # Compared in Python: SQLite's case-insensitive match is ASCII-only and contract numbers are Cyrillic.
    typed = (contract_number or "").strip().casefold()
    if (
        account is None
        or account.contract is None
        or not typed
        or account.contract.number.strip().casefold() != typed
    ):
        raise _refused()
    last_payment = (
        LedgerTransfer.objects.filter(
            credit_account_id=account.ledger_account_id, kind=LedgerTransfer.Kind.PAYMENT
        )
        .order_by("-value_date", "-id")
        .values_list("amount_kopecks", flat=True)
        .first()
    )
    if last_payment is None or last_payment != last_payment_kopecks:
        raise _refused()
    return _link_create(user=user, account=account, method=PersonalAccountLink.Method.CONTRACT_AND_PAYMENT)


def personal_account_detach(*, user: Any, personal_account_id: int) -> None:
    """Remove the account from this cabinet. The account, its money and services are untouched."""
    with transaction.atomic():
        link = (
            PersonalAccountLink.objects.select_for_update()
            .filter(user=user, personal_account_id=personal_account_id)
            .first()
        )
        if link is None:
            raise NotFound(_("Лицевой счёт не найден."))
        method = link.method
        link.delete()
        audit_log(
            actor=user,
            action="personal_account.detach",
            target_type="billing.personalaccount",
            target_id=personal_account_id,
            old={"user": user.pk, "method": method},
        )


def personal_account_attach_by_verified_phone(*, user: Any) -> list[PersonalAccount]:
    """Attach the mobile accounts whose number is the user's verified phone. Returns the new ones."""
    phone = getattr(user, "phone", None)
    if not phone or not getattr(user, "phone_verified", False):
        return []
    accounts = list(
        PersonalAccount.objects.filter(service_kind=ServiceKind.MOBILE, phone=phone)
        .exclude(status=PersonalAccount.Status.TERMINATED)
        .exclude(links__user=user)
    )
    attached = []
    for account in accounts:
        try:
            _link_create(user=user, account=account, method=PersonalAccountLink.Method.MOBILE_NUMBER)
        except Conflict:
            continue
        attached.append(account)
    return attached
