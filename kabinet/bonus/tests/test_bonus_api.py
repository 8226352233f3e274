import json

import pytest
from django.test import Client

from kabinet.billing.models import LedgerAccount, PersonalAccount
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.identity.models import User
from kabinet.payments.office import payment_office_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return User.objects.create_user(email="api-bonus@example.test", password="x", customer=CustomerFactory())


def test_balance_history_and_redeem_through_the_api(owner) -> None:
    # given 400 points from a 400 ₽ office payment
    account: PersonalAccount = PersonalAccountFactory(customer=owner.customer)  # type: ignore[assignment]
    staff = User.objects.create_user(email="cashier@letai.test", password="x", is_staff=True)
    payment_office_create(actor=staff, account_number=account.number, amount="400")
    client = Client()
    client.force_login(owner)
    # when
    balance = client.get("/api/v1/bonus").json()
    body = json.dumps({"personal_account_id": account.pk, "points": 150})
    first = client.post(
        "/api/v1/bonus/redeem", body, content_type="application/json", headers={"Idempotency-Key": "r1"}
    )
    again = client.post(
        "/api/v1/bonus/redeem", body, content_type="application/json", headers={"Idempotency-Key": "r1"}
    )
    too_much = client.post(
        "/api/v1/bonus/redeem",
        json.dumps({"personal_account_id": account.pk, "points": 9999}),
        content_type="application/json",
        headers={"Idempotency-Key": "r2"},
    )
    # then
    assert balance["points"] == 400
    assert balance["rule"]["points_per_100_rub"] == 100
    assert [m["points"] for m in balance["history"]] == [400]
    assert first.status_code == 200
    assert first.json() == {"amount_kopecks": 150, "points_left": 250}
    assert again.json() == {"amount_kopecks": 150, "points_left": 250}
    assert too_much.status_code == 400
    assert too_much.json()["error"]["message"] == "Недостаточно баллов: доступно 250."
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 40000 + 150


def test_anonymous_gets_401() -> None:
    assert Client().get("/api/v1/bonus").status_code == 401
