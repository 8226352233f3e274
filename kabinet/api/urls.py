from django.urls import path

from kabinet.api.main import api

urlpatterns = [path("", api.urls)]
