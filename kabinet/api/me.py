"""/api/v1/me: who is logged in (the app shows it and decides which screens to offer)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user

router = Router(tags=["identity"], auth=SUBSCRIBER_AUTH)


class CustomerOut(Schema):
    id: int
    kind: str
    verification: str
    display_name: str


class MeOut(Schema):
    id: int
    phone: str | None
    phone_verified: bool
    email: str | None
    email_verified: bool
    customer: CustomerOut | None


@router.get("", response=MeOut, summary="The logged-in subscriber")
def me(request: HttpRequest) -> MeOut:
    user = request_user(request)
    customer = user.customer
    return MeOut(
        id=user.pk,
        phone=user.phone,
        phone_verified=user.phone_verified,
        email=user.email,
        email_verified=user.email_verified,
        customer=CustomerOut(
            id=customer.pk,
            kind=customer.kind,
            verification=customer.verification,
            display_name=customer.display_name,
        )
        if customer
        else None,
    )
