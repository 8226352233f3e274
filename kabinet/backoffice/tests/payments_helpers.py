"""Small helpers shared by the back-office payments and registry tests."""

from __future__ import annotations

from kabinet.billing.models import LedgerAccount, PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory

HEADER = "bank;date;transaction_id;account;amount;payer\n"


def make_account() -> PersonalAccount:
    return PersonalAccountFactory()  # type: ignore[return-value]


def balance_of(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks
