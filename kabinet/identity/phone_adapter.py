"""The registration/login half of the allauth adapter (helper ID-A): phones stored on our User, SMS
sending, the Customer of a new user, the email-confirmed flag, and our login stages.

Kept in its own module so the adapter class (kabinet.identity.adapters) stays a short list of mixins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from kabinet.core.phones import PhoneInputError, normalize_phone
from kabinet.notifications.sms import sms_send

if TYPE_CHECKING:
    from allauth.account.models import EmailAddress
    from django.contrib.auth.base_user import AbstractBaseUser


class PhoneAccountAdapterMixin:
    # --- phones (allauth passes raw text: normalise it ourselves) ---------------------------------
    def phone_form_field(self, **kwargs: Any) -> Any:
        from kabinet.identity.forms import RuPhoneField

        # allauth uses this field where a phone is a login (login by code, telling phone from email).
        return RuPhoneField(login=True, **kwargs)

    def clean_phone(self, phone: str) -> str:
        return normalize_phone(phone)

    def set_phone(self, user: AbstractBaseUser, phone: str, verified: bool) -> None:
        user.phone = normalize_phone(phone)  # type: ignore[attr-defined]
        user.phone_verified = verified  # type: ignore[attr-defined]
        user.save(update_fields=["phone", "phone_verified"])  # type: ignore[misc]

    def get_phone(self, user: AbstractBaseUser) -> tuple[str, bool] | None:
        phone = getattr(user, "phone", None)
        if not phone:
            return None
        return phone, bool(getattr(user, "phone_verified", False))

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        if getattr(user, "phone", None) == phone and not user.phone_verified:  # type: ignore[attr-defined]
            user.phone_verified = True  # type: ignore[attr-defined]
            user.save(update_fields=["phone_verified"])  # type: ignore[misc]

    def get_user_by_phone(self, phone: str) -> AbstractBaseUser | None:
        from kabinet.identity.models import User

        try:
            e164 = normalize_phone(phone)
        except PhoneInputError:
            return None
        return User.objects.filter(phone=e164).first()

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any
    ) -> None:
        sms_send(
            to=phone,
            text=_("Код для входа в личный кабинет Летай: %(code)s. Никому его не сообщайте.")
            % {"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        # A code asked for an unregistered number: the screen looks the same, and no SMS goes out (an
        # SMS to any typed number would let anyone spam strangers at the operator's cost).
        return None

    def send_account_already_exists_sms(self, phone: str) -> None:
        return None

    # --- registration ------------------------------------------------------------------------------
    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        from kabinet.identity.services import customer_create_for_user

        user = super().save_user(request, user, form, commit=commit)  # type: ignore[misc]
        if commit and user.customer_id is None:
            customer_create_for_user(user=user)
        return user

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        from kabinet.identity.services import user_email_sync, user_mark_email_verified

        confirmed = super().confirm_email(request, email_address)  # type: ignore[misc]
        if email_address.user_id:
            user_mark_email_verified(user=email_address.user, email=email_address.email)  # type: ignore[arg-type]
            user_email_sync(user=email_address.user)  # type: ignore[arg-type]
        return bool(confirmed)

    def can_delete_email(self, email_address: EmailAddress) -> bool:
        # The primary address is the login of a user without a confirmed phone: it stays.
        user = email_address.user
        if email_address.primary and not (user.phone and user.phone_verified):  # type: ignore[attr-defined]
            return False
        return bool(super().can_delete_email(email_address))  # type: ignore[misc]

    def send_notification_mail(
        self, template_prefix: str, user: Any, context: Any = None, email: Any = None
    ) -> None:
        # allauth sends "email_changed" right after it makes another address primary (/accounts/email/):
        # the moment User.email_verified must follow the new primary address.
        if template_prefix == "account/email/email_changed" and getattr(user, "pk", None):
            from kabinet.identity.services import user_email_sync

            user_email_sync(user=user)
        super().send_notification_mail(template_prefix, user, context=context, email=email)  # type: ignore[misc]

    def get_login_stages(self) -> list[str]:
        stages: list[str] = super().get_login_stages()  # type: ignore[misc]
        return [
            "kabinet.identity.stages.EmailConfirmationGateStage"
            if s == "allauth.account.stages.EmailVerificationStage"
            else s
            for s in stages
        ]
