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
