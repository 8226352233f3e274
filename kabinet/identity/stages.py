"""allauth login stages of our own.

allauth's "mandatory" email verification would demand an email from phone users too, so verification
stays "optional" globally and this stage makes it mandatory for users whose only contact is an
unconfirmed email: they cannot enter the cabinet; they get the link again and see the "confirm your
email" page. The same page ends every email registration, new address or already registered.
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage

from kabinet.identity.services import user_mark_email_verified


def needs_email_confirmation(user: Any) -> bool:
    # Staff accounts are made by administrators (createsuperuser, back office), not by a signup.
    return bool(
        user is not None
        and not getattr(user, "is_staff", False)
        and getattr(user, "email", None)
        and not getattr(user, "email_verified", False)
        and not getattr(user, "phone_verified", False)
    )


class EmailConfirmationGateStage(EmailVerificationStage):
    def handle(self) -> tuple[Any, bool]:
        login = self.login
        user = login.user
        if (
            needs_email_confirmation(user)
            and EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
        ):
            # allauth confirmed the address on its own (e.g. a login code sent to it): keep our flag in step.
            user_mark_email_verified(user=user, email=user.email)
        if login.signup or needs_email_confirmation(user):
            login.email_verification = app_settings.EmailVerificationMethod.MANDATORY
        return super().handle()
