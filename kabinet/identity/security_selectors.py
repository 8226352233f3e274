"""Reads for staff screens: finding a subscriber by phone (any usual spelling) or email."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.db.models import QuerySet

from kabinet.core.phones import PhoneInputError, looks_like_phone, normalize_phone
from kabinet.identity.models import User


def staff_user_search(*, query: str) -> QuerySet[User]:
    """Users whose phone or email is exactly the query (after normalising); empty for junk."""
    query = (query or "").strip()
    if not query:
        return User.objects.none()
    if "@" in query:
        return User.objects.filter(email__iexact=query).select_related("customer")
    if looks_like_phone(query):
        try:
            phone = normalize_phone(query)
        except PhoneInputError:
            return User.objects.none()
        return User.objects.filter(phone=phone).select_related("customer")
    return User.objects.none()


def user_has_totp(*, user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
