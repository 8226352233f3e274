"""Login identities. A User is a phone and/or an email with a password; it belongs to a Customer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kabinet.customers.models import Customer


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str | None = None, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email=email, password=password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # Phone in E.164 (+79171234567); email lower-cased. At least one of them is set.
    phone = models.CharField(_("телефон"), max_length=16, unique=True, null=True, blank=True)
    phone_verified = models.BooleanField(default=False)
    email = models.EmailField(_("электронная почта"), unique=True, null=True, blank=True)
    email_verified = models.BooleanField(default=False)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)  # type: ignore[misc]
    date_joined = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=8, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=255, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=False) | Q(email__isnull=False), name="user_has_phone_or_email"
            )
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"user #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # allauth writes "" when the last address is removed (/accounts/email/); no address is NULL here
        # (the column is unique) and is not a confirmed address.
        if not self.email:
            self.email = None
            self.email_verified = False
            fields = kwargs.get("update_fields")
            if fields is not None and "email" in fields:
                kwargs["update_fields"] = {*fields, "email_verified"}
        super().save(*args, **kwargs)

    @property
    def login_name(self) -> str:
        return self.phone or self.email or ""


# Devices a subscriber has logged in from (new-device login notices): kabinet/identity/devices.py.
from kabinet.identity.devices import KnownDevice  # noqa: E402, F401


class PhoneCode(models.Model):
    """A one-time SMS code sent to a phone number for our own phone flows.

    Purposes: registration by phone, login from a USSD request, password recovery by SMS, a new number
    in the profile. Only a hash of
    the code is stored. A row is written for every request (also when nothing is delivered, e.g. the
    number is already registered) so the resend interval behaves the same for every number.
    """

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("Регистрация")
        LOGIN = "login", _("Вход")
        RESET = "reset", _("Восстановление пароля")
        CHANGE = "change", _("Смена номера в профиле")

    phone = models.CharField(max_length=16, db_index=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    code_hash = models.CharField(max_length=128)
    # False when the request was answered without sending a code (nothing can match it).
    deliverable = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.phone}"
