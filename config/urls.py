from django.conf import settings
from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language prefix is not used: see docs)
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("kabinet.api.urls")),
    path("backoffice/", include("kabinet.backoffice.urls")),
    path("django-admin/", admin.site.urls),
    path("", include("kabinet.identity.urls")),
    path("", include("kabinet.billing.urls")),
    path("", include("kabinet.subscriptions.urls")),
    path("", include("kabinet.payments.urls")),
    path("", include("kabinet.bonus.urls")),
    path("", include("kabinet.support.urls")),
    path("", include("kabinet.news.urls")),
    path("", include("kabinet.notifications.urls")),
    path("", include("kabinet.portal.urls")),
]

if settings.SANDBOX_ACQUIRER:
    # First: its prefix is its own, and the API's requests then skip trying every page's pattern.
    urlpatterns.insert(0, path("sandbox-acquirer/", include("kabinet.sandbox_acquirer.urls")))
