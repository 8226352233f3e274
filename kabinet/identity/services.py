"""Writes on login identities: registration by phone, email and questionnaire, phone codes, recovery.

Phone codes (registration, login from USSD, password recovery by SMS) are our own: allauth keeps its
codes in the browser session, which a USSD request does not have, and asks for the password before the
code. A code is 6 digits, valid 5 minutes, refused after 5 wrong attempts; a new one can be requested
60 seconds after the previous request for the same number. Only the latest code of a number counts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError
from kabinet.core.phones import format_phone
from kabinet.customers.models import Customer
from kabinet.identity.models import PhoneCode, User
from kabinet.notifications.sms import sms_send


class CodeError(DomainError):
    code = "invalid_code"


class TooSoon(DomainError):
    code = "too_soon"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac("kabinet.identity.phone_code", f"{phone}:{code}").hexdigest()


def _generate_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _check_resend_interval(phone: str, now: Any) -> None:
    last = PhoneCode.objects.filter(phone=phone).order_by("-created_at", "-id").first()
    if last is None:
        return
    wait = settings.PHONE_CODE_RESEND_SECONDS - int((now - last.created_at).total_seconds())
    if wait > 0:
        raise TooSoon(
            ngettext(
                "Новый код можно запросить через %(n)d секунду.",
                "Новый код можно запросить через %(n)d секунд.",
                wait,
            )
            % {"n": wait},
            retry_after=wait,
        )


def phone_code_issue(*, phone: str, purpose: str, text: str | None) -> PhoneCode:
    """Write a code row for ``phone`` and send an SMS.

    ``text`` is the SMS with a ``{code}`` placeholder; with ``None`` nothing is sent and the row can never
    match (used when the request must look the same as a real one, e.g. an already registered number).
    Raises ``TooSoon`` if the previous request for this number was less than 60 seconds ago.
    """
    now = timezone.now()
    # Two requests racing for one number could both pass the interval check; the per-number rate limit
    # in the views (kabinet_phone_code_request) caps that, and only the latest code counts anyway.
    with transaction.atomic():
        _check_resend_interval(phone, now)
        code = _generate_code()
        row = PhoneCode.objects.create(
            phone=phone,
            purpose=purpose,
            code_hash=_code_hash(phone, code),
            deliverable=text is not None and "{code}" in text,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
        )
    if text is not None:
        sms_send(to=phone, text=text.replace("{code}", code))
    return row


def phone_code_verify(*, phone: str, code: str) -> PhoneCode:
    """Check ``code`` against the latest code sent to ``phone``; on success the code is used up.

    The answer never tells whether the number is registered: a number with no code and a wrong code
    get the same kinds of messages.
    """
    now = timezone.now()
    max_attempts = settings.PHONE_CODE_MAX_ATTEMPTS
    code = (code or "").strip().replace(" ", "").replace("-", "")
    error: str | None = None
    with transaction.atomic():
        row = PhoneCode.objects.select_for_update().filter(phone=phone).order_by("-created_at", "-id").first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            error = _("Код устарел или не запрашивался. Запросите новый код.")
        elif row.failed_attempts >= max_attempts:
            error = _("Попытки ввода кода исчерпаны. Запросите новый код.")
        elif not row.deliverable or not constant_time_compare(row.code_hash, _code_hash(phone, code)):
            row.failed_attempts += 1
            row.save(update_fields=["failed_attempts"])
            left = max_attempts - row.failed_attempts
            if left <= 0:
                error = _("Неверный код. Попытки исчерпаны: запросите новый код.")
            else:
                error = ngettext(
                    "Неверный код. Осталась %(n)d попытка.", "Неверный код. Осталось попыток: %(n)d.", left
                ) % {"n": left}
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
    if error is not None:
        raise CodeError(error, field="code")
    assert row is not None
    return row


# --- Registration ------------------------------------------------------------------------------------


def phone_signup_start(*, phone: str) -> PhoneCode:
    """Send a registration code; a registered number gets a reminder instead (same answer on screen)."""
    if User.objects.filter(phone=phone, phone_verified=True).exists():
        text = _(
            "Номер %(phone)s уже зарегистрирован в личном кабинете Летай. Войдите или восстановите "
            "пароль: %(url)s"
        ) % {"phone": format_phone(phone), "url": _site_url("/accounts/login/")}
        return phone_code_issue(phone=phone, purpose=PhoneCode.Purpose.SIGNUP, text=text)
    text = _("Код регистрации в личном кабинете Летай: {code}. Никому его не сообщайте.")
    return phone_code_issue(phone=phone, purpose=PhoneCode.Purpose.SIGNUP, text=text)


def customer_create_for_user(*, user: User) -> Customer:
    """A new subscriber's Customer record (an individual); called once per registration."""
    customer = Customer.objects.create(
        kind=Customer.Kind.INDIVIDUAL,
        display_name=format_phone(user.phone) if user.phone else (user.email or ""),
    )
    user.customer = customer
    user.save(update_fields=["customer"])
    return customer


def user_register_by_phone(*, phone: str, password: str) -> User:
    """Create a subscriber with a phone proven by an SMS code and a password."""
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(phone=phone).first()
        if existing is not None:
            if existing.phone_verified:
                raise Conflict(
                    _("Этот номер уже зарегистрирован: войдите или восстановите пароль."), code="phone_taken"
                )
            # The code proves the number belongs to this person, not to whoever typed it unverified.
            existing.phone = None
            if existing.email is None:
                raise Conflict(_("Этот номер уже используется."), code="phone_taken")
            existing.save(update_fields=["phone"])
        user = User(phone=phone, phone_verified=True)
        user.set_password(password)
        user.save()
        customer_create_for_user(user=user)
        audit_log(actor=user, action="user.register", target=user, new={"method": "phone", "phone": phone})
    return user


def user_create_with_email(*, email: str, password: str, verified: bool) -> User:
    """A subscriber registered by email outside the signup page (demo data, back office, tests).

    Keeps allauth's EmailAddress row in step with ``User.email_verified``.
    """
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    with transaction.atomic():
        user = User(email=email, email_verified=verified)
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
        customer_create_for_user(user=user)
        audit_log(actor=user, action="user.register", target=user, new={"method": "email", "email": email})
    return user


@dataclass(frozen=True)
class OrganizationQuestionnaire:
    organization_name: str
    inn: str
    kpp: str
    ogrn: str
    legal_address: str
    contact_person: str
    contact_position: str
    contact_phone: str
    contact_email: str


def organization_register(*, questionnaire: OrganizationQuestionnaire, password: str) -> User:
    """An organization customer awaiting verification, and its user who logs in by the contact email.

    The email must be confirmed before the cabinet opens (like any email registration).
    """
    q = questionnaire
    with transaction.atomic():
        if User.objects.filter(email=q.contact_email).exists():
            raise Conflict(_("Этот адрес уже зарегистрирован."), code="email_taken")
        customer = Customer.objects.create(
            kind=Customer.Kind.ORGANIZATION,
            verification=Customer.Verification.PENDING,
            display_name=q.organization_name,
            organization_name=q.organization_name,
            inn=q.inn,
            kpp=q.kpp,
            ogrn=q.ogrn,
            legal_address=q.legal_address,
            contact_person=q.contact_person,
            contact_position=q.contact_position,
            contact_phone=q.contact_phone,
            contact_email=q.contact_email,
        )
        user = User(email=q.contact_email, customer=customer)
        user.set_password(password)
        user.save()
        audit_log(
            actor=user,
            action="customer.organization_register",
            target=customer,
            new={"inn": q.inn, "ogrn": q.ogrn, "organization_name": q.organization_name},
        )
    return user


def registration_purge_expired(*, email: str | None = None) -> int:
    """Remove email registrations never confirmed within the link's lifetime (7 days).

    Such a user has an unconfirmed email, no confirmed phone and has never logged in. Its Customer goes
    too unless something else already refers to it. Returns the number of users removed.
    """
    cutoff = timezone.now() - timedelta(days=settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS)
    stale = User.objects.filter(
        email__isnull=False,
        email_verified=False,
        phone_verified=False,
        is_staff=False,
        last_login__isnull=True,
        date_joined__lt=cutoff,
    )
    if email is not None:
        stale = stale.filter(email=email.lower())
    removed = 0
    for user in stale.select_related("customer"):
        with transaction.atomic():
            customer = user.customer
            audit_log(
                actor=None,
                action="user.registration_expired",
                target=user,
                old={"email": user.email, "date_joined": user.date_joined.isoformat()},
            )
            user.delete()
            removed += 1
            if customer is not None and not customer.users.exists():
                try:
                    with transaction.atomic():
                        customer.delete()
                except ProtectedError:
                    pass
    return removed


def phone_codes_purge_old(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete phone code rows older than a day (a code lives 5 minutes; the rows only serve the
    resend interval and the attempt counter)."""
    deleted, _by_model = PhoneCode.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def user_mark_email_verified(*, user: User, email: str) -> None:
    if user.email == email.lower() and not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        audit_log(actor=user, action="user.email_verified", target=user, new={"email": user.email})


# --- Password recovery by SMS, USSD ------------------------------------------------------------------


def phone_password_reset_start(*, phone: str) -> PhoneCode:
    """A recovery code goes only to a confirmed number of an active user; others get nothing."""
    if User.objects.filter(phone=phone, phone_verified=True, is_active=True).exists():
        text = _("Код для восстановления пароля в личном кабинете Летай: {code}. Никому его не сообщайте.")
        return phone_code_issue(phone=phone, purpose=PhoneCode.Purpose.RESET, text=text)
    return phone_code_issue(phone=phone, purpose=PhoneCode.Purpose.RESET, text=None)


def user_set_password_by_phone(*, phone: str, password: str) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(phone=phone, phone_verified=True, is_active=True)
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_log(actor=user, action="user.password_reset", target=user, new={"method": "sms"})
    return user


def ussd_request(*, phone: str) -> str:
    """A USSD request from ``phone``: send a login code (or a registration code for a new number).

    Returns the text the USSD gateway shows on the phone.
    """
    code_url = _site_url("/sms-code/")
    user = User.objects.filter(phone=phone, phone_verified=True).first()
    try:
        if user is not None and user.is_active:
            phone_code_issue(
                phone=phone,
                purpose=PhoneCode.Purpose.LOGIN,
                text=_("Код для входа в личный кабинет Летай: {code}. Введите номер и код на %(url)s")
                % {"url": code_url},
            )
            return _("Код для входа в личный кабинет отправлен в SMS.")
        if user is not None:
            return _("Личный кабинет для этого номера отключён. Обратитесь на горячую линию.")
        phone_code_issue(
            phone=phone,
            purpose=PhoneCode.Purpose.SIGNUP,
            text=_("Код регистрации в личном кабинете Летай: {code}. Введите номер и код на %(url)s")
            % {"url": code_url},
        )
        return _("Код для регистрации в личном кабинете отправлен в SMS.")
    except TooSoon as exc:
        return exc.message


# --- Changing contacts in the profile ----------------------------------------------------------------


def _phone_change_check(*, user: User, phone: str) -> None:
    if user.phone == phone and user.phone_verified:
        raise DomainError(_("Этот номер уже привязан к вашему кабинету."), code="phone_same", field="phone")
    # Neutral wording: the answer must not tell whether someone else is registered with the number.
    if User.objects.filter(phone=phone).exclude(pk=user.pk).exists():
        raise Conflict(
            _("Этот номер нельзя привязать к вашему кабинету."), code="phone_not_allowed", field="phone"
        )


def phone_change_start(*, user: User, phone: str) -> PhoneCode:
    """Send a code to the NEW number ``phone`` (E.164); refused if the number belongs to someone else."""
    _phone_change_check(user=user, phone=phone)
    text = _("Код для привязки номера к личному кабинету Летай: {code}. Никому его не сообщайте.")
    return phone_code_issue(phone=phone, purpose=PhoneCode.Purpose.CHANGE, text=text)


def phone_change_confirm(*, user: User, phone: str, code: str) -> User:
    """Check the code sent to the new number and make it the user's confirmed phone (audited)."""
    _phone_change_check(user=user, phone=phone)
    row = phone_code_verify(phone=phone, code=code)
    if row.purpose != PhoneCode.Purpose.CHANGE:
        raise CodeError(_("Код устарел или не запрашивался. Запросите новый код."), field="code")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        _phone_change_check(user=locked, phone=phone)
        old = {"phone": locked.phone, "phone_verified": locked.phone_verified}
        locked.phone = phone
        locked.phone_verified = True
        locked.save(update_fields=["phone", "phone_verified"])
        audit_log(
            actor=user,
            action="identity.phone_change",
            target=locked,
            old=old,
            new={"phone": phone, "phone_verified": True},
        )
    user.phone, user.phone_verified = locked.phone, locked.phone_verified
    return locked


def user_email_sync(*, user: User) -> None:
    """Make ``User.email``/``email_verified`` follow the primary allauth address (after allauth confirms
    an address or makes another one primary)."""
    from allauth.account.models import EmailAddress

    primary = EmailAddress.objects.filter(user=user, primary=True).first()
    if primary is None:
        return
    email, verified = primary.email.lower(), bool(primary.verified)
    if (user.email, user.email_verified) == (email, verified):
        return
    old = {"email": user.email, "email_verified": user.email_verified}
    User.objects.filter(pk=user.pk).update(email=email, email_verified=verified)
    user.email, user.email_verified = email, verified
    audit_log(
        actor=user,
        action="identity.email_change",
        target=user,
        old=old,
        new={"email": email, "email_verified": verified},
    )
