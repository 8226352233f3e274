"""Which news a subscriber sees. Targeting is evaluated in Python over a small, recent set of items:
the number of published items in the window is tens, the subscriber's accounts a handful."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from kabinet.news.models import NewsItem


@dataclass(frozen=True)
class AccountFacts:
    service_kind: str
    address: str


def news_published() -> QuerySet[NewsItem]:
    return NewsItem.objects.filter(is_published=True, published_at__lte=timezone.now())


def news_matches(item: NewsItem, accounts: Iterable[AccountFacts]) -> bool:
    if not item.is_targeted:
        return True
    for account in accounts:
        if item.target_service_kinds and account.service_kind not in item.target_service_kinds:
            continue
        if item.target_localities and not any(
            loc.lower() in account.address.lower() for loc in item.target_localities
        ):
            continue
        return True
    return False


def news_for_accounts(
    *, accounts: Iterable[AccountFacts], limit: int = 5, kinds: list[str] | None = None
) -> list[NewsItem]:
    """Current news and not-yet-ended maintenance for a subscriber with these accounts (one query)."""
    now = timezone.now()
    accounts = list(accounts)
    qs = news_published().filter(Q(ends_at__isnull=True) | Q(ends_at__gte=now))
    if kinds:
        qs = qs.filter(kind__in=kinds)
    result = []
    for item in qs[:200]:
        if news_matches(item, accounts):
            result.append(item)
            if len(result) >= limit:
                break
    return result


def news_list_public() -> QuerySet[NewsItem]:
    """News visible to everyone (untargeted), for the public news page."""
    return news_published().filter(target_service_kinds=[], target_localities=[])


def news_get(*, pk: int) -> NewsItem | None:
    return news_published().filter(pk=pk).first()
