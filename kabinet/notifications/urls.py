from django.urls import path

from kabinet.notifications import views

app_name = "notifications"
urlpatterns = [
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
    path("profile/notifications/", views.notification_preferences, name="preferences"),
]
