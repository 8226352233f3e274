"""/api/v1/profile: the subscriber's contacts and language, and notification preferences."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
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


@router.get("", response=ProfileOut, summary="Contacts, language and customer of the subscriber")
def profile(request: HttpRequest) -> ProfileOut:
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
