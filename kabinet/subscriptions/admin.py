from django.contrib import admin

from kabinet.subscriptions.models import (
    BundleMembership,
    ConsentRecord,
    PromisedPayment,
    PromisedPaymentRule,
    VoluntaryBlock,
)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "personal_account", "user", "action", "subject", "price_kopecks", "ip")
    list_filter = ("action",)
    search_fields = ("personal_account__number", "subject")
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(VoluntaryBlock)
class VoluntaryBlockAdmin(admin.ModelAdmin):
    list_display = (
        "personal_account",
        "status",
        "starts_on",
        "planned_end_on",
        "ended_on",
        "fee_per_day_kopecks",
    )
    list_filter = ("status",)
    search_fields = ("personal_account__number",)
    readonly_fields = [f.name for f in VoluntaryBlock._meta.fields]


@admin.register(PromisedPaymentRule)
class PromisedPaymentRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "service_kind", "is_active", "max_amount_kopecks", "term_days", "interval_days")
    list_filter = ("is_active", "service_kind")


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(admin.ModelAdmin):
    list_display = ("personal_account", "amount_kopecks", "taken_on", "due_on", "status")
    list_filter = ("status",)
    search_fields = ("personal_account__number",)
    readonly_fields = [f.name for f in PromisedPayment._meta.fields]


@admin.register(BundleMembership)
class BundleMembershipAdmin(admin.ModelAdmin):
    list_display = ("subscription", "bundle", "created_at")
