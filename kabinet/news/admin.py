from django.contrib import admin

from kabinet.news.models import NewsItem


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "published_at", "is_published")
    list_filter = ("kind", "is_published")
