from django.apps import AppConfig


class BonusConfig(AppConfig):
    name = "kabinet.bonus"
    label = "bonus"
    default_auto_field = "django.db.models.BigAutoField"
