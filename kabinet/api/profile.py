"""/api/v1/profile: the subscriber's contacts and language, and notification preferences.

Changing the phone needs a session authenticated in the last 10 minutes (kabinet.identity.reauth): a
stale one gets 403 ``reauthentication_required``; the app then calls
``POST /_allauth/app/v1/auth/reauthenticate`` with the password (or logs in again) and repeats.
"""

from __future__ import annotations

from allauth.core import ratelimit
from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
from kabinet.core.exceptions import DomainError
from kabinet.core.phones import PhoneInputError, normalize_phone
from kabinet.identity import services as identity_services
from kabinet.identity.reauth import recent_authentication_check
from kabinet.notifications.services import notification_preferences_get, notification_preferences_update

router = Router(tags=["profile"], auth=SUBSCRIBER_AUTH)


class ProfileOut(Schema):
    phone: str | None
    phone_verified: bool
    email: str | None
    email_verified: bool
    language: str
    customer_kind: str | None
    customer_verification: str | None


class PreferencesOut(Schema):
    news_opt_in: bool
    offers_opt_in: bool
    channel_email: bool
    channel_sms: bool
    channel_push: bool


class PreferencesIn(Schema):
    """Flags to change; an omitted flag keeps its value."""

    news_opt_in: bool | None = None
    offers_opt_in: bool | None = None
    channel_email: bool | None = None
    channel_sms: bool | None = None
    channel_push: bool | None = None


class PhoneIn(Schema):
    phone: str


class PhoneCodeSentOut(Schema):
    phone: str
    resend_after_seconds: int


class PhoneConfirmIn(Schema):
    phone: str
    code: str


def _phone(text: str) -> str:
    try:
        return normalize_phone(text)
    except PhoneInputError as exc:
        raise PhoneInputError(exc.message, field="phone") from exc


def _too_many() -> DomainError:
    error = DomainError(_("Слишком много запросов. Попробуйте через несколько минут."), code="rate_limited")
    error.status = 429
    return error


def _require_recent_authentication(request: HttpRequest) -> None:
    # The app's session token has its own session (where its logins are recorded); else the browser's.
    token = request.headers.get("X-Session-Token")
    found = authenticate_by_x_session_token(token) if token else None
    session = found[1] if found else request.session
    recent_authentication_check(session=session, user=request_user(request))


@router.get("", response=ProfileOut, summary="Contacts, language and customer of the subscriber")
def profile(request: HttpRequest) -> ProfileOut:
    return _profile_out(request)


def _profile_out(request: HttpRequest) -> ProfileOut:
    user = request_user(request)
    customer = user.customer
    return ProfileOut(
        phone=user.phone,
        phone_verified=user.phone_verified,
        email=user.email,
        email_verified=user.email_verified,
        language=user.language or settings.LANGUAGE_CODE,
        customer_kind=customer.kind if customer else None,
        customer_verification=customer.verification if customer else None,
    )


@router.get("/notifications", response=PreferencesOut, summary="Notification preferences")
def notifications_get(request: HttpRequest) -> PreferencesOut:
    prefs = notification_preferences_get(user=request_user(request))
    return PreferencesOut(**prefs.as_dict())


@router.put("/notifications", response=PreferencesOut, summary="Change notification preferences")
def notifications_put(request: HttpRequest, payload: PreferencesIn) -> PreferencesOut:
    prefs = notification_preferences_update(user=request_user(request), **payload.dict())
    return PreferencesOut(**prefs.as_dict())


@router.post(
    "/phone", response={202: PhoneCodeSentOut}, summary="Send a code to a new phone number (step 1 of 2)"
)
def phone_change_start(request: HttpRequest, payload: PhoneIn) -> Status:
    _require_recent_authentication(request)
    phone = _phone(payload.phone)
    if not ratelimit.consume(request, action="kabinet_phone_code_request", key=phone):
        raise _too_many()
    identity_services.phone_change_start(user=request_user(request), phone=phone)
    return Status(202, PhoneCodeSentOut(phone=phone, resend_after_seconds=settings.PHONE_CODE_RESEND_SECONDS))


@router.post(
    "/phone/confirm",
    response=ProfileOut,
    summary="The code from the SMS makes the new number the login (step 2)",
)
def phone_change_confirm(request: HttpRequest, payload: PhoneConfirmIn) -> ProfileOut:
    _require_recent_authentication(request)
    phone = _phone(payload.phone)
    if not ratelimit.consume(request, action="kabinet_phone_code_verify"):
        raise _too_many()
    identity_services.phone_change_confirm(user=request_user(request), phone=phone, code=payload.code)
    return _profile_out(request)
