"""Company news and planned maintenance notices, optionally targeted to the affected subscribers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kabinet.catalog.models import ServiceKind
from kabinet.core.models import TimeStampedModel


class NewsItem(TimeStampedModel):
    class Kind(models.TextChoices):
        NEWS = "news", _("Новость")
        MAINTENANCE = "maintenance", _("Плановые работы")
        OFFER = "offer", _("Предложение")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEWS)
    title = models.CharField(max_length=255)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    published_at = models.DateTimeField(db_index=True)
    is_published = models.BooleanField(default=True)
    # Maintenance window (shown while it has not ended).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Targeting: empty lists mean everyone. A subscriber sees the item when one of their personal
    # accounts has a listed service kind and (if localities are listed) an address in one of them.
    target_service_kinds = models.JSONField(default=list, blank=True)
    target_localities = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_targeted(self) -> bool:
        return bool(self.target_service_kinds or self.target_localities)

    def target_service_kind_labels(self) -> list[str]:
        labels = dict(ServiceKind.choices)
        return [str(labels.get(k, k)) for k in self.target_service_kinds]
