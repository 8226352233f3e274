"""Read-only views of the catalog in Django admin. Changes go through the back office, which calls
``kabinet.catalog.services`` (price versions are never edited, only added, and every change is audited)."""

from django.contrib import admin

from kabinet.catalog.models import Bundle, Option, PriceVersion, Tariff


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class PriceVersionInline(admin.TabularInline):
    model = PriceVersion
    fields = ("effective_from", "price_kopecks", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Tariff)
class TariffAdmin(_ReadOnly):
    list_display = ("name", "code", "service_kind", "period", "status")
    list_filter = ("service_kind", "period", "status")
    search_fields = ("name", "code")
    inlines = [PriceVersionInline]


@admin.register(Option)
class OptionAdmin(_ReadOnly):
    list_display = ("name", "code", "kind", "service_kind", "period", "is_available")
    list_filter = ("service_kind", "kind", "period", "is_available")
    search_fields = ("name", "code")
    inlines = [PriceVersionInline]


@admin.register(Bundle)
class BundleAdmin(_ReadOnly):
    list_display = ("name", "code", "discount_bp", "is_available")
