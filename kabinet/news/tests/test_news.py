import datetime as dt

import pytest
from django.utils import timezone

from kabinet.core.exceptions import DomainError
from kabinet.news.models import NewsItem
from kabinet.news.selectors import AccountFacts, news_for_accounts
from kabinet.news.services import news_publish


def publish(**kwargs):
    defaults = {"actor": None, "title": "Заголовок", "body": "Текст"}
    return news_publish(**{**defaults, **kwargs})


@pytest.mark.django_db
def test_targeted_maintenance_reaches_only_affected_subscribers() -> None:
    # given
    everyone = publish(title="Для всех")
    tv_kazan = publish(
        title="Работы ТВ в Казани",
        kind=NewsItem.Kind.MAINTENANCE,
        starts_at=timezone.now() + dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1, hours=3),
        target_service_kinds=["tv"],
        target_localities=["Казань"],
    )
    internet_subscriber = [AccountFacts("internet", "Казань, ул. Баумана, 1")]
    tv_kazan_subscriber = [AccountFacts("tv", "г. Казань, ул. Пушкина, 5")]
    tv_elsewhere = [AccountFacts("tv", "Набережные Челны, пр. Мира, 3")]
    # when / then
    assert news_for_accounts(accounts=internet_subscriber) == [everyone]
    assert news_for_accounts(accounts=tv_kazan_subscriber) == [tv_kazan, everyone]
    assert news_for_accounts(accounts=tv_elsewhere) == [everyone]


@pytest.mark.django_db
def test_ended_maintenance_and_unpublished_news_are_hidden() -> None:
    publish(
        title="Прошло",
        kind=NewsItem.Kind.MAINTENANCE,
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=1),
    )
    hidden = publish(title="Скрыто")
    hidden.is_published = False
    hidden.save()
    assert news_for_accounts(accounts=[]) == []


@pytest.mark.django_db
def test_publish_refuses_bad_input_and_creates_nothing() -> None:
    with pytest.raises(DomainError, match="заголовок"):
        publish(title=" ")
    with pytest.raises(DomainError, match="Неизвестная услуга"):
        publish(target_service_kinds=["radio"])
    assert NewsItem.objects.count() == 0


@pytest.mark.django_db
def test_public_pages_show_untargeted_news_only(client) -> None:
    open_item = publish(title="Новый тариф")
    targeted = publish(title="Только ТВ", target_service_kinds=["tv"])
    page = client.get("/news/").content.decode()
    assert "Новый тариф" in page
    assert "Только ТВ" not in page
    assert client.get(f"/news/{open_item.pk}/").status_code == 200
    assert client.get(f"/news/{targeted.pk}/").status_code == 200
    assert client.get("/news/999999/").status_code == 404


@pytest.mark.django_db
def test_scheduled_news_waits_for_its_time_and_kinds_and_limit_filter(django_assert_num_queries) -> None:
    # given: an offer, a news item published in an hour, and six news items
    offer = publish(title="Акция", kind=NewsItem.Kind.OFFER)
    later = publish(title="Позже")
    later.published_at = timezone.now() + dt.timedelta(hours=1)
    later.save()
    news = [publish(title=f"Новость {i}") for i in range(6)]
    # when
    with django_assert_num_queries(1):
        offers = news_for_accounts(accounts=[], kinds=[NewsItem.Kind.OFFER, NewsItem.Kind.MAINTENANCE])
    first_five = news_for_accounts(accounts=[])
    # then: newest first; the scheduled item is not shown yet
    assert offers == [offer]
    assert first_five == list(reversed(news))[:5]
    assert later not in news_for_accounts(accounts=[], limit=10)
