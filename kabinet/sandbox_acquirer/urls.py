from django.urls import path

from kabinet.sandbox_acquirer import views

app_name = "sandbox_acquirer"
urlpatterns = [
    path("api/v3/payments", views.api_payments, name="api_payments"),
    path("api/v3/payments/<str:payment_id>", views.api_payment, name="api_payment"),
    path("api/v3/payments/<str:payment_id>/capture", views.api_payment_capture, name="api_payment_capture"),
    path("api/v3/payments/<str:payment_id>/cancel", views.api_payment_cancel, name="api_payment_cancel"),
    path("api/v3/refunds", views.api_refunds, name="api_refunds"),
    path("api/v3/refunds/<str:refund_id>", views.api_refund, name="api_refund"),
    path("checkout/<str:payment_id>/", views.checkout, name="checkout"),
    path("checkout/<str:payment_id>/3ds/", views.secure, name="secure"),
    path("notifications/flush/", views.flush, name="flush"),
]
