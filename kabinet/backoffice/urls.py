from django.urls import path

from kabinet.backoffice import views
from kabinet.backoffice.views import identity

app_name = "backoffice"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("", views.home, name="home"),
    # Identity: subscribers, organizations' verification, switching cabinets off.
    path("users/", identity.user_search, name="user_search"),
    path("users/<int:user_id>/", identity.user_detail, name="user_detail"),
    path("users/<int:user_id>/deactivate/", identity.user_deactivate_view, name="user_deactivate"),
    path("customers/<int:customer_id>/verification/", identity.customer_verify, name="customer_verify"),
]
