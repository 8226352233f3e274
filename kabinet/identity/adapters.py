"""django-allauth adapters: phone storage and SMS sending for allauth's phone flows."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext

from kabinet.identity.devices import device_login_check
from kabinet.identity.phone_adapter import PhoneAccountAdapterMixin
from kabinet.identity.reauth import (
    authentication_record_login,
    recently_authenticated,
    sms_reauthentication_available,
)


class AccountAdapter(PhoneAccountAdapterMixin, DefaultAccountAdapter):
    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        # Every completed login (after the second factor) passes here: remember the device and send
        # a notice when it is new (kabinet.identity.devices).
        super().login(request, user)
        # The login time makes the session fresh for sensitive changes (kabinet.identity.reauth).
        authentication_record_login(request, user)  # type: ignore[arg-type]
        device_login_check(request=request, user=user)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # allauth's own guarded actions (email addresses, social links) follow our rule: a login or a
        # reauthentication within ACCOUNT_REAUTHENTICATION_TIMEOUT. Two-factor settings keep allauth's
        # stricter one (an explicit reauthentication, even right after logging in).
        required = super().is_reauthentication_required(app=app, **kwargs)
        if not required or app == "allauth.mfa":
            return required
        request = context.request
        if request is None:
            return True
        return not recently_authenticated(session=request.session, user=request.user)

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        if sms_reauthentication_available(user):
            methods.append(
                {
                    "id": "kabinet_sms",
                    "description": gettext("Код по SMS"),
                    "url": reverse("identity:reauthenticate_sms"),
                }
            )
        return methods


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A social network logs in a subscriber who linked it in the profile; registration is by phone
        # or email only (a User needs one of them, and a Customer record).
        return False
