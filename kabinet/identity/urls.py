from django.urls import path

from kabinet.identity import contact_views, language, reauth_views, security_views, views

app_name = "identity"
urlpatterns = [
    path("language/", language.language_set, name="language_set"),
    path("profile/", security_views.profile, name="profile"),
    # Security extras, data download, switching the cabinet off (kabinet.identity.security_views).
    path("profile/phone/", contact_views.phone_change, name="phone_change"),
    path("profile/reauthenticate/sms/", reauth_views.reauthenticate_sms, name="reauthenticate_sms"),
    path("profile/data.json", security_views.data_export, name="data_export"),
    path("profile/deactivate/", security_views.deactivate, name="deactivate"),
    path("profile/deactivate/code/", security_views.deactivate_code, name="deactivate_code"),
    path("profile/sessions/end-all/", security_views.sessions_end_all, name="sessions_end_all"),
    path("cabinet-switched-off/", security_views.deactivated, name="deactivated"),
    # Registration and recovery by phone, the organization questionnaire, USSD (kabinet.identity.views).
    path("register/phone/", views.phone_signup, name="phone_signup"),
    path("register/business/", views.corporate_signup, name="corporate_signup"),
    path("sms-code/", views.sms_code, name="sms_code"),
    path("sms-code/password/", views.phone_set_password, name="phone_set_password"),
    path("password/reset/sms/", views.phone_password_reset, name="phone_password_reset"),
    path("ussd/", views.ussd, name="ussd"),
]
