from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "kabinet.identity"
    label = "identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A customer left without an active contract loses cabinet access (kabinet.customers.services).
        from kabinet.customers.services import customer_no_active_contract_handler_register
        from kabinet.identity import exporters  # noqa: F401  (registers identity's data-export sections)
        from kabinet.identity.deactivation import users_suspend_for_customer

        customer_no_active_contract_handler_register(users_suspend_for_customer)
