"""Demo staff member for the back office, with TOTP two-factor already set up."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP

from kabinet.identity.models import User

STAFF_EMAIL = "staff@letai.example"
STAFF_PASSWORD = "Staff12345!"
# A fixed demo secret (base32) so the printed line stays valid between runs; never used in production
# (`kabinet demo` refuses to run there).
STAFF_TOTP_SECRET = "KABINETDEMOSTAFFTOTPSECRETLETAI2"


def load_staff() -> list[str]:
    user = User.objects.filter(email=STAFF_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            email=STAFF_EMAIL, password=STAFF_PASSWORD, is_staff=True, email_verified=True
        )
    EmailAddress.objects.get_or_create(
        user=user, email=STAFF_EMAIL, defaults={"verified": True, "primary": True}
    )
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, STAFF_TOTP_SECRET)
    uri = f"otpauth://totp/Letai:{STAFF_EMAIL}?secret={STAFF_TOTP_SECRET}&issuer=Letai"
    return [
        f"back office (/backoffice/login/): {STAFF_EMAIL} / {STAFF_PASSWORD}, then the 6-digit code of an",
        f"  authenticator app set up with TOTP secret {STAFF_TOTP_SECRET} ({uri})",
        f"  or printed by `.venv/bin/kabinet totp_code {STAFF_EMAIL}`",
    ]
