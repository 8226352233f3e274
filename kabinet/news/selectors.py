"""Which news a subscriber sees. Targeting is evaluated in Python over a small, recent set of items:
the number of published items in the window is tens, the subscriber's accounts a handful."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.db.models import QuerySet
from django.utils import timezone

from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import row_reader
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


# The dashboard asks for the current news on every view: a hand-written statement, its rows made into
# NewsItems the way the ORM would (kabinet.core.sql_rows: fields go through the model's converters, e.g.
# the JSON target lists), spares the ORM's query compilation, which cost more than the query.
_CURRENT_NEWS_SQL = """
SELECT {columns} FROM {table}
WHERE {is_published} = %s AND {published_at} <= %s AND ({ends_at} IS NULL OR {ends_at} >= %s){kinds}
ORDER BY {published_at} DESC, {id} DESC
LIMIT %s
"""


@cache
def _current_news_sql(kind_count: int) -> str:
    def col(name: str) -> str:
        return sql_column(NewsItem, name)

    kinds = f" AND {col('kind')} IN ({', '.join(['%s'] * kind_count)})" if kind_count else ""
    return _CURRENT_NEWS_SQL.format(
        columns=row_reader(NewsItem).columns,
        table=sql_table(NewsItem),
        is_published=col("is_published"),
        published_at=col("published_at"),
        ends_at=col("ends_at"),
        id=col("id"),
        kinds=kinds,
    )


def news_for_accounts(
    *, accounts: Iterable[AccountFacts], limit: int = 5, kinds: list[str] | None = None
) -> list[NewsItem]:
    """Current news and not-yet-ended maintenance for a subscriber with these accounts (one query)."""
    now = timezone.now()
    accounts = list(accounts)
    kinds = list(kinds or [])
    with hot_cursor() as cursor:
        cursor.execute(_current_news_sql(len(kinds)), [True, now, now, *kinds, 200])
        rows = cursor.fetchall()
    reader = row_reader(NewsItem)
    result = []
    for row in rows:
        item = reader.instance(row)
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
