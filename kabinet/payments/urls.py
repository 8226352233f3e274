from django.urls import path

import kabinet.payments.views as views

app_name = "payments"
urlpatterns = [
    path("pay/", views.pay, name="pay"),
    path("pay/status/<uuid:public_id>/", views.status, name="status"),
    path("pay/status/<uuid:public_id>/steps/", views.status_steps, name="status_steps"),
    path("pay/receipt/<uuid:public_id>/", views.receipt, name="receipt"),
    path("terms/", views.terms, name="terms"),
    path("cabinet/payments/", views.history, name="history"),
    path("cabinet/payments/new/", views.cabinet_pay, name="cabinet_pay"),
    path("payments/notifications/yookassa/", views.notification, name="notification"),
]

# E-wallets and autopay in the profile (helper PAY-B: kabinet.payments.views_wallets).
import kabinet.payments.views_wallets as views_wallets  # noqa: E402

urlpatterns += [
    path("cabinet/wallets/", views_wallets.wallets, name="wallets"),
    path("cabinet/wallets/pay/", views_wallets.wallet_pay, name="wallet_pay"),
    path("cabinet/wallets/<int:link_id>/topup/", views_wallets.wallet_topup_view, name="wallet_topup"),
    path("cabinet/wallets/<int:link_id>/unlink/", views_wallets.wallet_unlink_view, name="wallet_unlink"),
    path("cabinet/autopay/", views_wallets.autopay, name="autopay"),
    path("cabinet/autopay/<int:setting_id>/switch/", views_wallets.autopay_switch, name="autopay_switch"),
]
