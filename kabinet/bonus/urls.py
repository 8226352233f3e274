from django.urls import path

from kabinet.bonus import views

app_name = "bonus"
urlpatterns = [
    path("bonus/", views.rules, name="rules"),
    path("bonus/redeem/", views.redeem, name="redeem"),
]
