from django.urls import path

from kabinet.portal import service_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("cabinet/", views.dashboard, name="dashboard"),
    path("cabinet/attach/", views.attach, name="attach"),
    path("cabinet/attach/confirm/", views.attach_confirm, name="attach_confirm"),
    path("cabinet/accounts/<int:account_id>/", views.account_detail, name="account"),
    path("cabinet/accounts/<int:account_id>/detach/", views.detach, name="detach"),
    path("cabinet/accounts/<int:account_id>/history/", views.history, name="history"),
    path(
        "cabinet/accounts/<int:account_id>/history/export.<str:fmt>",
        views.history_export,
        name="history_export",
    ),
    path(
        "cabinet/accounts/<int:account_id>/subscriptions/<int:subscription_id>/tariff/",
        service_views.tariff_change,
        name="tariff_change",
    ),
    path(
        "cabinet/accounts/<int:account_id>/subscriptions/<int:subscription_id>/cancel-change/",
        service_views.tariff_change_cancel,
        name="tariff_change_cancel",
    ),
    path(
        "cabinet/accounts/<int:account_id>/subscriptions/<int:subscription_id>/options/<int:option_id>/",
        service_views.option_switch,
        name="option_switch",
    ),
    path(
        "cabinet/accounts/<int:account_id>/subscriptions/<int:subscription_id>/off/",
        service_views.subscription_off,
        name="subscription_off",
    ),
    path("cabinet/accounts/<int:account_id>/connect/", service_views.connect, name="connect"),
    path("cabinet/accounts/<int:account_id>/consents/", service_views.consents, name="consents"),
    path("cabinet/accounts/<int:account_id>/block/", service_views.voluntary_block, name="voluntary_block"),
    path(
        "cabinet/accounts/<int:account_id>/promised-payment/",
        service_views.promised_payment,
        name="promised_payment",
    ),
]
