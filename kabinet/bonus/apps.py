from django.apps import AppConfig


class BonusConfig(AppConfig):
    name = "kabinet.bonus"
    label = "bonus"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Летай Бонус"

    def ready(self) -> None:
        # Points accrue on every credited payment (payments and bonus share a layer and do not import
        # each other's services: the payments app calls its hooks, we register ours here).
        from kabinet.bonus.services import bonus_accrue_for_payments, bonus_reverse_for_refund
        from kabinet.payments.hooks import payments_credited_hook_register, payments_refunded_hook_register

        payments_credited_hook_register(bonus_accrue_for_payments)
        # ... and are taken back (in proportion) when a payment is refunded.
        payments_refunded_hook_register(bonus_reverse_for_refund)
