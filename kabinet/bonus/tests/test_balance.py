"""The balance card's read: points, their value and the nearest expiry, in one query for a member."""

import datetime as dt

import pytest
import time_machine

from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.bonus.models import BonusMember
from kabinet.bonus.selectors import bonus_balance_for_user
from kabinet.bonus.services import bonus_member_enroll, bonus_redeem, bonus_rule_update
from kabinet.identity.models import User
from kabinet.payments.office import payment_office_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return User.objects.create_user(email="balance@example.test", password="x", customer=CustomerFactory())


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(email="staff-balance@letai.test", password="x", is_staff=True)


def test_balance_shows_points_value_and_the_nearest_expiring_lot(owner, staff, django_assert_num_queries):
    # given: three lots, the oldest partly spent; two expire on the same day; 1 point = 2 kopecks
    account = PersonalAccountFactory(customer=owner.customer)
    bonus_rule_update(actor=staff, expiry_days=100, kopecks_per_point=2, min_payment_kopecks=0)
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        payment_office_create(actor=staff, account_number=account.number, amount="200", idempotency_key="a")
        payment_office_create(actor=staff, account_number=account.number, amount="50", idempotency_key="b")
        bonus_redeem(user=owner, personal_account_id=account.pk, points=120, idempotency_key="r")
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        payment_office_create(actor=staff, account_number=account.number, amount="300", idempotency_key="c")
    # when
    with django_assert_num_queries(1):
        balance = bonus_balance_for_user(user=owner)
    # then: 200 + 50 - 120 + 300 points; the March lots keep 130 points, due on 9 June
    assert balance is not None
    assert balance.points == 430
    assert balance.value_kopecks == 860
    assert balance.next_expiry_points == 130
    assert balance.next_expiry_at == dt.datetime(2026, 6, 9, 12, 0, tzinfo=dt.UTC)


def test_balance_of_a_member_without_points_has_no_expiry(owner):
    # given
    bonus_member_enroll(user=owner)
    # when
    balance = bonus_balance_for_user(user=owner)
    # then
    assert balance is not None
    assert (balance.points, balance.value_kopecks, balance.next_expiry_points) == (0, 0, 0)
    assert balance.next_expiry_at is None


def test_balance_enrols_a_new_cabinet_user_and_none_for_staff(owner, staff):
    # given
    assert not BonusMember.objects.filter(user=owner).exists()
    # when
    balance = bonus_balance_for_user(user=owner)
    # then
    assert balance is not None and balance.points == 0
    assert BonusMember.objects.filter(user=owner).count() == 1
    assert bonus_balance_for_user(user=staff) is None
