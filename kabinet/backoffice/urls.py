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

# Billing: customers (search, card, identity verification), personal accounts, billing runs.
from kabinet.backoffice.views import billing  # noqa: E402

urlpatterns += [
    path("customers/", billing.customer_search_view, name="customer_search"),
    path("customers/<int:customer_id>/", billing.customer_detail, name="customer_detail"),
    path(
        "customers/<int:customer_id>/identity/",
        billing.customer_identity_verify,
        name="customer_identity_verify",
    ),
    path("contracts/<int:contract_id>/terminate/", billing.contract_terminate, name="contract_terminate"),
    path("accounts/<int:account_id>/", billing.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/adjust/", billing.account_adjust, name="account_adjust"),
    path("accounts/<int:account_id>/flags/", billing.account_flags, name="account_flags"),
    path("accounts/<int:account_id>/status/", billing.account_status, name="account_status"),
    path("accounts/<int:account_id>/ledger/", billing.account_ledger, name="account_ledger"),
    path("billing/runs/", billing.billing_runs, name="billing_runs"),
]

# Catalog: tariffs, options, bundles and their price versions.
from kabinet.backoffice.views import catalog  # noqa: E402

urlpatterns += [
    path("catalog/tariffs/", catalog.tariff_list, name="tariff_list"),
    path("catalog/tariffs/new/", catalog.tariff_create, name="tariff_create"),
    path("catalog/tariffs/<int:tariff_id>/", catalog.tariff_detail, name="tariff_detail"),
    path("catalog/tariffs/<int:tariff_id>/edit/", catalog.tariff_edit, name="tariff_edit"),
    path("catalog/tariffs/<int:tariff_id>/price/", catalog.tariff_price, name="tariff_price"),
    path("catalog/tariffs/<int:tariff_id>/status/", catalog.tariff_status, name="tariff_status"),
    path("catalog/tariffs/<int:tariff_id>/switchable/", catalog.tariff_switchable, name="tariff_switchable"),
    path("catalog/options/", catalog.option_list, name="option_list"),
    path("catalog/options/new/", catalog.option_create, name="option_create"),
    path("catalog/options/<int:option_id>/", catalog.option_detail, name="option_detail"),
    path("catalog/options/<int:option_id>/edit/", catalog.option_edit, name="option_edit"),
    path("catalog/options/<int:option_id>/price/", catalog.option_price, name="option_price"),
    path(
        "catalog/options/<int:option_id>/availability/",
        catalog.option_availability,
        name="option_availability",
    ),
    path("catalog/bundles/", catalog.bundle_list, name="bundle_list"),
    path("catalog/bundles/new/", catalog.bundle_create, name="bundle_create"),
    path("catalog/bundles/<int:bundle_id>/", catalog.bundle_detail, name="bundle_detail"),
]

# Payments: search and timeline, refunds, office cash, bank registries and review, rules (helper PAY-B).
from kabinet.backoffice.views import payments  # noqa: E402

urlpatterns += [
    path("payments/", payments.payment_search, name="payment_search"),
    path("payments/office/", payments.office_payment, name="office_payment"),
    path("payments/registries/", payments.registry_list, name="registry_list"),
    path("payments/registries/<int:import_id>/", payments.registry_detail, name="registry_detail"),
    path("payments/registries/<int:import_id>/retry/", payments.registry_retry, name="registry_retry"),
    path("payments/review/", payments.registry_review, name="registry_review"),
    path(
        "payments/review/<int:line_id>/resolve/", payments.registry_line_resolve, name="registry_line_resolve"
    ),
    path(
        "payments/review/<int:line_id>/reject/",
        payments.registry_line_reject_view,
        name="registry_line_reject",
    ),
    path("payments/rules/", payments.payment_rules_edit, name="payment_rules"),
    path("payments/bonus-rules/", payments.bonus_rules_edit, name="bonus_rules"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment_detail"),
    path("payments/<int:payment_id>/refund/", payments.payment_refund_view, name="payment_refund"),
]
