from django.apps import AppConfig


class BonusConfig(AppConfig):
    name = "kabinet.bonus"
    label = "bonus"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Летай Бонус"

    def ready(self) -> None:
        # Points accrue on every credited payment (payments and bonus share a layer and do not import
        # each other's services: the payments app calls its hooks, we register ours here).
        from kabinet.bonus.services import bonus_accrue_for_payments
        from kabinet.payments.hooks import payments_credited_hook_register

        payments_credited_hook_register(bonus_accrue_for_payments)
