"""Factories of identity objects. Users are made through the services so the Customer record and
allauth's EmailAddress row exist exactly as after a real registration."""

from __future__ import annotations

import factory

from kabinet.identity import services
from kabinet.identity.models import User

PASSWORD = "Secret123"


class PhoneUserFactory(factory.Factory[User]):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+7917{n:07d}")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: str) -> User:
        return services.user_register_by_phone(phone=kwargs["phone"], password=kwargs["password"])


class EmailUserFactory(factory.Factory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.ru")
    password = PASSWORD
    verified = True

    @classmethod
    def _create(cls, model_class: type[User], *args: object, **kwargs: object) -> User:
        return services.user_create_with_email(
            email=str(kwargs["email"]), password=str(kwargs["password"]), verified=bool(kwargs["verified"])
        )
