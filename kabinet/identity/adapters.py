"""django-allauth adapters: phone storage and SMS sending for allauth's phone flows."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from kabinet.identity.devices import device_login_check
from kabinet.identity.phone_adapter import PhoneAccountAdapterMixin


class AccountAdapter(PhoneAccountAdapterMixin, DefaultAccountAdapter):
    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        # Every completed login (after the second factor) passes here: remember the device and send
        # a notice when it is new (kabinet.identity.devices).
        super().login(request, user)
        device_login_check(request=request, user=user)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A social network logs in a subscriber who linked it in the profile; registration is by phone
        # or email only (a User needs one of them, and a Customer record).
        return False
