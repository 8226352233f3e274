import datetime as dt

import pytest
import time_machine
from django.db.models import Sum
from django.urls import reverse

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import BONUS_LIABILITY, ledger_account_system
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.bonus.models import BonusLot, BonusMember
from kabinet.bonus.services import (
    BONUS_ISSUED,
    bonus_accrue_for_payment,
    bonus_enroll_missing,
    bonus_expire,
    bonus_member_enroll,
    bonus_redeem,
    bonus_rule_update,
)
from kabinet.core.exceptions import DomainError, NotFound, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments.office import payment_office_create
from kabinet.payments.registries import registry_import

HEADER = "bank;date;transaction_id;account;amount;payer\n"


def _balance(ledger_account_id: int) -> int:
    return LedgerAccount.objects.get(pk=ledger_account_id).balance_kopecks


def _points(user: User) -> int:
    return _balance(BonusMember.objects.get(user=user).ledger_account_id)


def _assert_ledger_invariants() -> None:
    # every transfer is balanced, so all balances sum to zero
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0
    # each member's points equal the remaining points of their live lots
    for member in BonusMember.objects.all():
        lots = BonusLot.objects.filter(member=member, expired_at__isnull=True).aggregate(s=Sum("remaining"))[
            "s"
        ]
        assert _balance(member.ledger_account_id) == (lots or 0)
    # points outstanding = minus the balance of bonus:issued
    issued = ledger_account_system(code=BONUS_ISSUED).balance_kopecks
    members = BonusMember.objects.aggregate(s=Sum("ledger_account__balance_kopecks"))["s"] or 0
    assert members == -issued


@pytest.fixture
def owner(db) -> User:
    customer = CustomerFactory()
    return User.objects.create_user(email="owner@example.test", password="x", customer=customer)


@pytest.fixture
def account(owner: User) -> PersonalAccount:
    return PersonalAccountFactory(customer=owner.customer)  # type: ignore[return-value]


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="staff@letai.test", password="x", is_staff=True)


@pytest.mark.django_db
def test_enroll_is_idempotent_and_creates_member_ledger_account(owner) -> None:
    first = bonus_member_enroll(user=owner)
    second = bonus_member_enroll(user=owner)
    assert first.pk == second.pk
    assert first.ledger_account.code == f"bonus:{owner.pk}"
    assert first.ledger_account.kind == "bonus"


@pytest.mark.django_db
def test_enroll_missing_joins_every_new_cabinet_but_not_staff(owner, staff) -> None:
    assert bonus_enroll_missing() == 1
    assert list(BonusMember.objects.values_list("user_id", flat=True)) == [owner.pk]
    assert bonus_enroll_missing() == 0


@pytest.mark.django_db
def test_registry_payment_accrues_points_to_account_owner_once(owner, account) -> None:
    # given the default rule: 100 points per 100 ₽ from 100 ₽
    data = (HEADER + f"Сбербанк;25.11.2026;B1;{account.number};1550;Иванов\n").encode()
    # when
    registry_import(data=data, file_name="b.csv")
    registry_import(data=data, file_name="b.csv")
    # then 1550 ₽ -> 1550 points (floor of 15.5 x 100)
    assert _points(owner) == 1550
    assert BonusLot.objects.get().points == 1550
    assert LedgerTransfer.objects.filter(key__startswith="bonus:accrual:").count() == 1
    _assert_ledger_invariants()


@pytest.mark.django_db
def test_payment_below_minimum_accrues_nothing_and_rule_change_applies(owner, account, staff) -> None:
    # given
    bonus_rule_update(actor=staff, min_payment_kopecks=50_000, points_per_100_rub=10, reason="Акция")
    # when
    p1 = payment_office_create(actor=staff, account_number=account.number, amount="499.99")
    p2 = payment_office_create(actor=staff, account_number=account.number, amount="500")
    # then
    assert p1.amount_kopecks == 49_999
    assert _points(owner) == 50
    assert AuditEvent.objects.get(action="bonus.rule_update").new == {
        "min_payment_kopecks": 50_000,
        "points_per_100_rub": 10,
    }
    assert bonus_accrue_for_payment(payment=p2) == 0  # replay accrues nothing
    _assert_ledger_invariants()


@pytest.mark.django_db
def test_subscriber_cannot_change_rule(owner) -> None:
    with pytest.raises(PermissionDenied):
        bonus_rule_update(actor=owner, points_per_100_rub=1000)
    assert AuditEvent.objects.filter(action="bonus.rule_update").count() == 0


@pytest.mark.django_db
def test_redeem_moves_points_and_money_once(owner, account, staff) -> None:
    # given 1000 points
    payment_office_create(actor=staff, account_number=account.number, amount="1000")
    balance_before = _balance(account.ledger_account_id)
    # when
    transfer = bonus_redeem(user=owner, personal_account_id=account.pk, points=300, idempotency_key="k1")
    replay = bonus_redeem(user=owner, personal_account_id=account.pk, points=300, idempotency_key="k1")
    # then
    assert replay.pk == transfer.pk
    assert transfer.amount_kopecks == 300  # 1 point = 1 kopeck
    assert _points(owner) == 700
    assert _balance(account.ledger_account_id) == balance_before + 300
    assert ledger_account_system(code=BONUS_LIABILITY).balance_kopecks == -300
    assert BonusLot.objects.get().remaining == 700
    _assert_ledger_invariants()


@pytest.mark.django_db
def test_redeem_refuses_more_than_balance_zero_and_foreign_account(owner, account, staff) -> None:
    payment_office_create(actor=staff, account_number=account.number, amount="100")
    stranger_account: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    with pytest.raises(DomainError) as exc:
        bonus_redeem(user=owner, personal_account_id=account.pk, points=101, idempotency_key="a")
    assert exc.value.message == "Недостаточно баллов: доступно 100."
    with pytest.raises(DomainError):
        bonus_redeem(user=owner, personal_account_id=account.pk, points=0, idempotency_key="b")
    with pytest.raises(NotFound):
        bonus_redeem(user=owner, personal_account_id=stranger_account.pk, points=10, idempotency_key="c")
    assert _points(owner) == 100
    assert LedgerTransfer.objects.filter(key__startswith="bonus:redeem:").count() == 0


@pytest.mark.django_db
def test_points_expire_after_period_oldest_lot_first(owner, account, staff) -> None:
    # given two lots earned 200 days apart, expiry 365 days, 150 points redeemed from the older
    bonus_rule_update(actor=staff, expiry_days=365)
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        payment_office_create(actor=staff, account_number=account.number, amount="200")
        bonus_redeem(user=owner, personal_account_id=account.pk, points=150, idempotency_key="r")
    with time_machine.travel(dt.datetime(2026, 7, 29, 12, 0, tzinfo=dt.UTC), tick=False):
        payment_office_create(actor=staff, account_number=account.number, amount="300")
    assert _points(owner) == 350
    # when: a day before the first lot's date nothing expires; on it, the rest of the first lot does
    assert bonus_expire(now=dt.datetime(2027, 1, 9, 12, 0, tzinfo=dt.UTC)) == 0
    expired = bonus_expire(now=dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC))
    again = bonus_expire(now=dt.datetime(2027, 1, 11, 12, 0, tzinfo=dt.UTC))
    # then
    assert (expired, again) == (50, 0)
    assert _points(owner) == 300
    assert LedgerTransfer.objects.filter(key__startswith="bonus:expire:").count() == 1
    _assert_ledger_invariants()
    # and the second lot expires on its own date
    assert bonus_expire(now=dt.datetime(2027, 7, 29, 12, 0, tzinfo=dt.UTC)) == 300
    assert _points(owner) == 0
    _assert_ledger_invariants()


@pytest.mark.django_db
def test_rules_page_public_and_with_balance_for_subscriber(client, owner, account, staff) -> None:
    # anonymous
    response = client.get(reverse("bonus:rules"))
    assert response.status_code == 200
    assert "За каждые 100 ₽ пополнения начисляется 100 баллов" in response.content.decode()
    # subscriber: joins on first visit, sees balance, redeems through the form
    payment_office_create(actor=staff, account_number=account.number, amount="250")
    client.force_login(owner)
    page = client.get(reverse("bonus:rules")).content.decode()
    assert "data-bonus-points>250<" in page
    response = client.post(
        reverse("bonus:redeem"), {"personal_account": account.pk, "points": "50", "token": "tok-1"}
    )
    assert response.status_code == 302
    assert _points(owner) == 200
    response = client.post(
        reverse("bonus:redeem"), {"personal_account": account.pk, "points": "9999", "token": "tok-2"}
    )
    assert response.status_code == 400
    assert "Недостаточно баллов: доступно 200." in response.content.decode()
    assert _points(owner) == 200


@pytest.mark.django_db
def test_balance_include_renders_for_member(rf, owner) -> None:
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = owner
    html = render_to_string("bonus/_balance.html", request=request)
    assert "data-bonus-points>0<" in html
    assert BonusMember.objects.filter(user=owner).exists()
