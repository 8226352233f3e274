from django.urls import path

from kabinet.news import views

app_name = "news"
urlpatterns = [
    path("news/", views.news_list, name="list"),
    path("news/<int:pk>/", views.news_detail, name="detail"),
]
