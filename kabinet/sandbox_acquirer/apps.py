from django.apps import AppConfig


class SandboxAcquirerConfig(AppConfig):
    name = "kabinet.sandbox_acquirer"
    label = "sandbox_acquirer"
    default_auto_field = "django.db.models.BigAutoField"
