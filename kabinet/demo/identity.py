"""Demo subscribers (identity): one registered by phone, one by email, both confirmed.

Other loaders find them by phone / email (DEMO_PHONE, DEMO_EMAIL) to give them personal accounts.
"""

from __future__ import annotations

from kabinet.core.phones import format_phone
from kabinet.identity import services
from kabinet.identity.models import User

DEMO_PHONE = "+79170000001"
DEMO_EMAIL = "demo@letai.example"
DEMO_PASSWORD = "Demo12345"


def load_subscribers() -> list[str]:
    phone_user = User.objects.filter(phone=DEMO_PHONE).first()
    if phone_user is None:
        phone_user = services.user_register_by_phone(phone=DEMO_PHONE, password=DEMO_PASSWORD)
    if User.objects.filter(email=DEMO_EMAIL).first() is None:
        services.user_create_with_email(email=DEMO_EMAIL, password=DEMO_PASSWORD, verified=True)
    return [
        f"subscriber by phone: {format_phone(DEMO_PHONE)} (or 8 917 000-00-01) / {DEMO_PASSWORD}",
        f"subscriber by email: {DEMO_EMAIL} / {DEMO_PASSWORD}",
    ]
