"""Demo news: a company announcement, an offer and a targeted maintenance notice."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kabinet.news.models import NewsItem


def load_news() -> list[str]:
    now = timezone.now()
    items = [
        {
            "title": "Скорость до 500 Мбит/с теперь во всех районах Казани",
            "kind": NewsItem.Kind.NEWS,
            "summary": "Тариф «Домашний 500» доступен для подключения по всей Казани.",
            "body": "Мы завершили модернизацию сети: тариф «Домашний 500» теперь можно подключить "
            "в любом районе Казани. Сменить тариф можно в личном кабинете, на вкладке «Услуги СПД».",
            "published_at": now - dt.timedelta(days=3),
        },
        {
            "title": "«Летай Бонус»: баллы за каждый платёж",
            "kind": NewsItem.Kind.OFFER,
            "summary": "Оплачивайте услуги картой и копите баллы.",
            "body": "Каждый новый личный кабинет автоматически участвует в программе «Летай Бонус».",
            "published_at": now - dt.timedelta(days=1),
        },
        {
            "title": "Плановые работы на сети телевидения в Казани",
            "kind": NewsItem.Kind.MAINTENANCE,
            "summary": "Возможны перерывы в вещании до 30 минут.",
            "body": "Проводим плановое обновление оборудования. Возможны кратковременные перерывы в вещании.",
            "published_at": now - dt.timedelta(hours=2),
            "starts_at": (now + dt.timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0),
            "ends_at": (now + dt.timedelta(days=2)).replace(hour=5, minute=0, second=0, microsecond=0),
            "target_service_kinds": ["tv"],
        },
    ]
    for item in items:
        title = item.pop("title")
        NewsItem.objects.get_or_create(title=title, defaults=item)
    return []
