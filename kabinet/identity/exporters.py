"""The subscriber's data download (JSON), assembled from a list of exporters.

Identity registers its own sections here (user, customer, contacts, contracts, social accounts,
devices). Apps above identity add theirs from their ``AppConfig.ready`` without identity importing
them::

    from kabinet.identity.exporters import exporter_register

    class BillingConfig(AppConfig):
        def ready(self) -> None:
            exporter_register("personal_accounts", billing_export_for_user)

An exporter takes the user and returns JSON-serialisable data (dates as ISO strings) for its section.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils import timezone

Exporter = Callable[[Any], Any]

_EXPORTERS: dict[str, Exporter] = {}

EXPORT_FORMAT_VERSION = 1


def exporter_register(section: str, exporter: Exporter) -> None:
    """Add (or replace, when the same app registers again) the exporter of one section."""
    _EXPORTERS[section] = exporter


def exporter_sections() -> list[str]:
    return list(_EXPORTERS)


def _iso(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_data_export(*, user: Any) -> dict[str, Any]:
    """Everything the cabinet holds about this subscriber, one key per registered section."""
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
    }
    for section, exporter in _EXPORTERS.items():
        data[section] = exporter(user)
    return data


def _export_user(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "phone": user.phone,
        "phone_verified": user.phone_verified,
        "email": user.email,
        "email_verified": user.email_verified,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "language": user.language,
        "is_active": user.is_active,
    }


def _export_customer(user: Any) -> dict[str, Any] | None:
    customer = user.customer
    if customer is None:
        return None
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "display_name": customer.display_name,
        "verification": customer.verification,
        "last_name": customer.last_name,
        "first_name": customer.first_name,
        "middle_name": customer.middle_name,
        "passport": customer.passport,
        "address": customer.address,
        "organization_name": customer.organization_name,
        "inn": customer.inn,
        "kpp": customer.kpp,
        "ogrn": customer.ogrn,
        "legal_address": customer.legal_address,
        "contact_person": customer.contact_person,
        "contact_position": customer.contact_position,
        "created_at": _iso(customer.created_at),
    }


def _export_contacts(user: Any) -> list[dict[str, Any]]:
    contacts: list[dict[str, Any]] = []
    if user.phone:
        contacts.append({"kind": "phone", "value": user.phone, "verified": user.phone_verified})
    if user.email:
        contacts.append({"kind": "email", "value": user.email, "verified": user.email_verified})
    customer = user.customer
    if customer is not None:
        if customer.contact_phone and customer.contact_phone != user.phone:
            contacts.append({"kind": "contact_phone", "value": customer.contact_phone, "verified": False})
        if customer.contact_email and customer.contact_email != user.email:
            contacts.append({"kind": "contact_email", "value": customer.contact_email, "verified": False})
    return contacts


def _export_contracts(user: Any) -> list[dict[str, Any]]:
    if user.customer is None:
        return []
    return [
        {
            "number": c.number,
            "signed_at": _iso(c.signed_at),
            "status": c.status,
            "terminated_at": _iso(c.terminated_at),
            "phone": c.phone,
        }
        for c in user.customer.contracts.order_by("signed_at", "pk")
    ]


def _export_social_accounts(user: Any) -> list[dict[str, Any]]:
    from allauth.socialaccount.models import SocialAccount

    return [
        {"provider": a.provider, "uid": a.uid, "date_joined": _iso(a.date_joined)}
        for a in SocialAccount.objects.filter(user=user).order_by("pk")
    ]


def _export_devices(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "user_agent": d.user_agent,
            "first_seen_at": _iso(d.first_seen_at),
            "last_seen_at": _iso(d.last_seen_at),
        }
        for d in user.known_devices.order_by("first_seen_at", "pk")
    ]


def _export_notification_preferences(user: Any) -> dict[str, bool] | None:
    from kabinet.notifications.models import NotificationPreference

    prefs = NotificationPreference.objects.filter(user=user).first()
    # No row yet: the defaults apply (the same as notification_preferences_get would create).
    return (prefs or NotificationPreference(user=user)).as_dict()


exporter_register("user", _export_user)
exporter_register("customer", _export_customer)
exporter_register("contacts", _export_contacts)
exporter_register("contracts", _export_contracts)
exporter_register("social_accounts", _export_social_accounts)
exporter_register("known_devices", _export_devices)
exporter_register("notification_preferences", _export_notification_preferences)
