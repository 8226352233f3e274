"""Demo catalog of the reference operator («Летай», Tatarstan) and the demo subscribers' services.

Idempotent: tariffs, options and bundles are looked up by code, personal accounts by number,
subscriptions by (account, tariff, start); money moves through ``ledger_transfer_post`` with
deterministic keys (the billing run's own keys for fees), so running it again moves nothing.
Runs after the identity loader and gives its demo users (kabinet.demo.identity) personal accounts;
skips them if they are missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from kabinet.billing.models import (
    LedgerTransfer,
    PersonalAccount,
    Subscription,
    SubscriptionOption,
)
from kabinet.billing.numbers import personal_account_number_from_base
from kabinet.billing.services import (
    CLEARING_ACQUIRER,
    ledger_account_system,
    ledger_transfer_post,
    personal_account_open,
    revenue_account_code,
)
from kabinet.catalog.models import Bundle, Option, Tariff
from kabinet.catalog.selectors import bundle_price_kopecks
from kabinet.catalog.services import bundle_create, option_create, tariff_archive, tariff_create
from kabinet.customers.models import Contract, Customer
from kabinet.identity.models import User
from kabinet.subscriptions.calendar import month_key, month_words
from kabinet.subscriptions.models import BundleMembership, PromisedPaymentRule

DEMO_PHONE = "+79170000001"
DEMO_EMAIL = "demo@letai.example"
PRICES_FROM = dt.date(2026, 1, 1)

# code, name, service kind, period, price (kopecks), params, voluntary block fee per day (kopecks)
TARIFFS: list[tuple[str, str, str, str, int, dict[str, Any], int]] = [
    ("letai-base", "Летай Базовый", "mobile", "day", 800, {"data_gb": 10, "minutes": 300, "sms": 100}, 100),
    ("letai-super", "Летай Супер", "mobile", "day", 1100, {"data_gb": 30, "minutes": 600, "sms": 300}, 100),
    ("letai-unlim", "Летай Безлимит", "mobile", "day", 1500, {"unlimited_data": True, "minutes": 1000}, 100),
    ("home-50", "Домашний 50", "internet", "month", 35000, {"speed_mbps": 50}, 0),
    ("home-100", "Домашний 100", "internet", "month", 41500, {"speed_mbps": 100}, 0),
    ("home-300", "Домашний 300", "internet", "month", 59000, {"speed_mbps": 300}, 0),
    ("home-500", "Домашний 500", "internet", "month", 79000, {"speed_mbps": 500}, 0),
    ("tv-basic", "Базовый ТВ", "tv", "month", 11900, {"channels": 150, "hd_channels": 40}, 0),
    ("tv-extended", "Расширенный ТВ", "tv", "month", 29900, {"channels": 250, "hd_channels": 90}, 0),
    ("phone-time", "Домашний телефон Повременный", "landline", "month", 20000, {"minutes": 0}, 0),
    ("phone-unlim", "Домашний телефон Безлимитный", "landline", "month", 38000, {"unlimited_local": True}, 0),
    ("ipt-base", "IP-телефония Базовый", "ip_telephony", "month", 15000, {"lines": 1}, 0),
    ("ipt-office", "IP-телефония Офис", "ip_telephony", "month", 35000, {"lines": 4}, 0),
    ("wifi-home", "Wi-Fi точка доступа", "wifi", "month", 9900, {"access_points": 1}, 0),
    ("wifi-mesh", "Wi-Fi Mesh", "wifi", "month", 24900, {"access_points": 3}, 0),
    (
        "video-cloud-7",
        "Видеонаблюдение Облако 7",
        "video_surveillance",
        "month",
        19900,
        {"archive_days": 7},
        0,
    ),
    (
        "video-cloud-30",
        "Видеонаблюдение Облако 30",
        "video_surveillance",
        "month",
        39900,
        {"archive_days": 30},
        0,
    ),
]
ARCHIVED = {"home-50"}
SWITCHES: dict[str, list[str]] = {
    "letai-base": ["letai-super", "letai-unlim"],
    "letai-super": ["letai-base", "letai-unlim"],
    "letai-unlim": ["letai-base", "letai-super"],
    "home-50": ["home-100", "home-300", "home-500"],
    "home-100": ["home-300", "home-500"],
    "home-300": ["home-100", "home-500"],
    "home-500": ["home-100", "home-300"],
    "tv-basic": ["tv-extended"],
    "tv-extended": ["tv-basic"],
    "phone-time": ["phone-unlim"],
    "phone-unlim": ["phone-time"],
    "ipt-base": ["ipt-office"],
    "ipt-office": ["ipt-base"],
    "wifi-home": ["wifi-mesh"],
    "wifi-mesh": ["wifi-home"],
    "video-cloud-7": ["video-cloud-30"],
    "video-cloud-30": ["video-cloud-7"],
}
# code, name, kind, service kind, period, price (kopecks), compatible tariff codes (empty: all)
OPTIONS: list[tuple[str, str, str, str, str, int, list[str]]] = [
    ("static-ip", "Статический IP-адрес", "option", "internet", "month", 15000, []),
    ("speed-boost", "Ускорение до 1 Гбит/с", "option", "internet", "month", 20000, ["home-300", "home-500"]),
    ("turbo-day", "Турбо на сутки", "option", "internet", "once", 5000, []),
    ("antivirus", "Антивирус", "option", "internet", "month", 9900, []),
    ("mobile-internet", "Мобильный интернет", "option", "mobile", "day", 0, []),
    ("data-5gb", "Пакет +5 ГБ", "data_package", "mobile", "once", 15000, []),
    ("data-20gb", "Пакет +20 ГБ", "data_package", "mobile", "once", 35000, []),
    ("social-unlim", "Безлимитные соцсети", "option", "mobile", "day", 300, ["letai-base", "letai-super"]),
    ("tv-kino", "Кино и сериалы", "tv_package", "tv", "month", 19900, []),
    ("tv-kids", "Детский", "tv_package", "tv", "month", 9900, []),
    ("tv-sport", "Спорт", "tv_package", "tv", "month", 29900, []),
    ("tv-tatar", "Татарча", "tv_package", "tv", "month", 4900, []),
    ("tv-4k", "Ultra HD 4K", "tv_package", "tv", "month", 14900, ["tv-extended"]),
    ("camera-indoor", "Камера внутренняя", "camera", "video_surveillance", "month", 15000, []),
    ("camera-outdoor", "Камера уличная", "camera", "video_surveillance", "month", 25000, []),
    ("landline-long", "Междугородная связь без ограничений", "option", "landline", "month", 19000, []),
    ("ipt-number", "Дополнительный городской номер", "option", "ip_telephony", "month", 10000, []),
]
BUNDLES: list[tuple[str, str, list[str], int]] = [
    ("inet-tv", "Интернет + ТВ", ["home-100", "tv-basic"], 1000),
    ("inet-tv-max", "Интернет + ТВ Максимум", ["home-500", "tv-extended"], 1500),
]


def load_catalog() -> list[str]:
    with transaction.atomic():
        tariffs: dict[str, Tariff] = {
            t.code: t for t in Tariff.objects.filter(code__in=[r[0] for r in TARIFFS])
        }
        for code, name, kind, period, price, params, block_fee in TARIFFS:
            if code not in tariffs:
                tariffs[code] = tariff_create(
                    code=code,
                    name=name,
                    service_kind=kind,
                    period=period,
                    price_kopecks=price,
                    effective_from=PRICES_FROM,
                    params=params,
                    voluntary_block_fee_kopecks=block_fee,
                )
        for code, targets in SWITCHES.items():
            tariff = tariffs[code]
            if not tariff.switchable_to.exists():
                tariff.switchable_to.set([tariffs[t] for t in targets])
        for code in ARCHIVED:
            tariff_archive(tariff=tariffs[code], reason="Демо: архивный тариф")
        existing = set(Option.objects.filter(code__in=[r[0] for r in OPTIONS]).values_list("code", flat=True))
        for code, name, kind, service_kind, period, price, compatible in OPTIONS:
            if code not in existing:
                option_create(
                    code=code,
                    name=name,
                    kind=kind,
                    service_kind=service_kind,
                    period=period,
                    price_kopecks=price,
                    effective_from=PRICES_FROM,
                    compatible_tariffs=[tariffs[c] for c in compatible],
                )
        for code, name, members, discount in BUNDLES:
            if not Bundle.objects.filter(code=code).exists():
                bundle_create(
                    code=code,
                    name=name,
                    tariffs=[tariffs[c] for c in members],
                    discount_bp=discount,
                    description="Скидка на абонентскую плату за интернет и телевидение вместе.",
                )
        if not PromisedPaymentRule.objects.exists():
            PromisedPaymentRule.objects.create(
                name="Обещанный платёж",
                max_amount_kopecks=50000,
                term_days=5,
                interval_days=30,
                min_account_age_days=30,
            )
    return []


# --- Demo subscribers' accounts ------------------------------------------------------------------


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _customer_for(user: User, *, last_name: str, first_name: str, contract_number: str) -> Contract:
    customer = user.customer
    if customer is None:
        customer = Customer.objects.create(kind=Customer.Kind.INDIVIDUAL)
        user.customer = customer
        user.save(update_fields=["customer"])
    if not customer.last_name:
        customer.last_name, customer.first_name = last_name, first_name
        customer.display_name = f"{last_name} {first_name}"
        customer.address = "г. Казань, ул. Н. Ершова, д. 1, кв. 1"
        customer.save(update_fields=["last_name", "first_name", "display_name", "address", "updated_at"])
    contract, _created = Contract.objects.get_or_create(
        number=contract_number,
        defaults={"customer": customer, "signed_at": dt.date(2025, 6, 1), "phone": user.phone or ""},
    )
    return contract


def _account(*, contract: Contract, base: int, service_kind: str, phone: str = "") -> PersonalAccount:
    number = personal_account_number_from_base(base)
    account = PersonalAccount.objects.filter(number=number).select_related("ledger_account").first()
    if account is None:
        account = personal_account_open(
            customer=contract.customer,
            contract=contract,
            service_kind=service_kind,
            number=number,
            phone=phone,
            address="" if phone else "г. Казань, ул. Н. Ершова, д. 1, кв. 1",
        )
    return account


def _subscribe(
    *, account: PersonalAccount, code: str, started_on: dt.date, bundle: str | None = None
) -> Subscription:
    tariff = Tariff.objects.get(code=code)
    # Looked up without the start date: a later run (another month) must not add a second subscription.
    sub = Subscription.objects.filter(personal_account=account, tariff=tariff).order_by("pk").first()
    if sub is not None:
        return sub
    price = tariff.price_on(started_on) or 0
    bundle_obj = Bundle.objects.get(code=bundle) if bundle else None
    if bundle_obj is not None:
        price = bundle_price_kopecks(bundle=bundle_obj, price_kopecks=price)
    sub = Subscription.objects.create(
        personal_account=account,
        tariff=tariff,
        status=Subscription.Status.ACTIVE,
        started_on=started_on,
        price_kopecks=price,
        period=tariff.period,
    )
    if bundle_obj is not None:
        BundleMembership.objects.create(subscription=sub, bundle=bundle_obj)
    return sub


def _add_option(*, sub: Subscription, code: str, started_on: dt.date) -> SubscriptionOption:
    option = Option.objects.get(code=code)
    so = SubscriptionOption.objects.filter(subscription=sub, option=option).order_by("pk").first()
    if so is None:
        so = SubscriptionOption.objects.create(
            subscription=sub,
            option=option,
            status=SubscriptionOption.Status.ACTIVE,
            started_on=started_on,
            price_kopecks=option.price_on(started_on) or 0,
            period=option.period,
        )
    return so


def _pay(*, account: PersonalAccount, n: int, amount_kopecks: int, day: dt.date) -> None:
    day = min(day, timezone.localdate())
    ledger_transfer_post(
        key=f"payment:demo:{account.number}:{n}",
        debit=ledger_account_system(code=CLEARING_ACQUIRER),
        credit=account.ledger_account,
        amount_kopecks=amount_kopecks,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=day,
        description="Оплата банковской картой",
        ref=f"demo-{n}",
    )


def _charge(
    *, account: PersonalAccount, key: str, amount: int, day: dt.date, text: str, sub: Subscription
) -> None:
    if amount <= 0:
        return
    ledger_transfer_post(
        key=key,
        debit=account.ledger_account,
        credit=ledger_account_system(code=revenue_account_code(account.service_kind)),
        amount_kopecks=amount,
        kind=LedgerTransfer.Kind.CHARGE,
        value_date=day,
        description=text,
        subscription=sub,
    )


def _bill_history(*, sub: Subscription, today: dt.date) -> None:
    """The fees the billing run would have charged from the start to today, under its own keys."""
    account = sub.personal_account
    if sub.period == "day":
        day = sub.started_on
        while day <= today:
            _charge(
                account=account,
                key=f"charge:{sub.pk}:{day.isoformat()}",
                amount=sub.price_kopecks,
                day=day,
                text=f"Абонентская плата по тарифу «{sub.tariff.name}» за {day:%d.%m.%Y}",
                sub=sub,
            )
            day += dt.timedelta(days=1)
    else:
        month = sub.started_on.replace(day=1)
        while month <= today:
            _charge(
                account=account,
                key=f"charge:{sub.pk}:{month_key(month)}",
                amount=sub.price_kopecks,
                day=month,
                text=f"Абонентская плата по тарифу «{sub.tariff.name}» за {month_words(month)}",
                sub=sub,
            )
            month = _months_back(month, -1)
    for so in SubscriptionOption.objects.filter(subscription=sub).select_related("option"):
        if so.period == "once":
            _charge(
                account=account,
                key=f"charge:opt:{so.pk}:once",
                amount=so.price_kopecks,
                day=so.started_on,
                text=f"Подключение опции «{so.option.name}»",
                sub=sub,
            )
        elif so.period == "month":
            month = so.started_on.replace(day=1)
            while month <= today:
                _charge(
                    account=account,
                    key=f"charge:opt:{so.pk}:{month_key(month)}",
                    amount=so.price_kopecks,
                    day=month,
                    text=f"Плата за опцию «{so.option.name}» за {month_words(month)}",
                    sub=sub,
                )
                month = _months_back(month, -1)


def load_customer_services() -> list[str]:
    today = timezone.localdate()
    start = _months_back(today, 3)
    lines: list[str] = []
    phone_user = User.objects.filter(phone=DEMO_PHONE).select_related("customer").first()
    if phone_user is not None:
        with transaction.atomic():
            contract = _customer_for(
                phone_user, last_name="Галиев", first_name="Рустам", contract_number="ЛТ-2025-000101"
            )
            internet = _account(contract=contract, base=100000101, service_kind="internet")
            sub = _subscribe(account=internet, code="home-100", started_on=start, bundle="inet-tv")
            _add_option(sub=sub, code="static-ip", started_on=start)
            for n, amount in enumerate((55000, 55000, 55000, 100000)):
                _pay(
                    account=internet,
                    n=n + 1,
                    amount_kopecks=amount,
                    day=_months_back(today, 3 - n) + dt.timedelta(days=2),
                )
            _bill_history(sub=sub, today=today)

            tv = _account(contract=contract, base=100000102, service_kind="tv")
            sub = _subscribe(account=tv, code="tv-basic", started_on=start, bundle="inet-tv")
            _add_option(sub=sub, code="tv-kino", started_on=_months_back(today, 1))
            for n, amount in enumerate((30000, 30000, 30000, 40000)):
                _pay(
                    account=tv,
                    n=n + 1,
                    amount_kopecks=amount,
                    day=_months_back(today, 3 - n) + dt.timedelta(days=4),
                )
            _bill_history(sub=sub, today=today)

            mobile = _account(contract=contract, base=100000103, service_kind="mobile", phone=DEMO_PHONE)
            mobile_start = today - dt.timedelta(days=40)
            sub = _subscribe(account=mobile, code="letai-base", started_on=mobile_start)
            _add_option(sub=sub, code="mobile-internet", started_on=mobile_start)
            _add_option(sub=sub, code="data-5gb", started_on=today - dt.timedelta(days=10))
            _pay(account=mobile, n=1, amount_kopecks=30000, day=mobile_start)
            _pay(account=mobile, n=2, amount_kopecks=20000, day=today - dt.timedelta(days=12))
            _bill_history(sub=sub, today=today)
        lines.append("the phone subscriber has internet, TV and mobile personal accounts with history")
    email_user = User.objects.filter(email=DEMO_EMAIL).select_related("customer").first()
    if email_user is not None:
        with transaction.atomic():
            contract = _customer_for(
                email_user, last_name="Сафина", first_name="Алсу", contract_number="ЛТ-2025-000202"
            )
            internet = _account(contract=contract, base=100000201, service_kind="internet")
            sub = _subscribe(account=internet, code="home-300", started_on=start)
            for n, amount in enumerate((60000, 60000, 60000, 120000)):
                _pay(
                    account=internet,
                    n=n + 1,
                    amount_kopecks=amount,
                    day=_months_back(today, 3 - n) + dt.timedelta(days=1),
                )
            _bill_history(sub=sub, today=today)
        lines.append("the email subscriber has an internet personal account with history")
    return lines
