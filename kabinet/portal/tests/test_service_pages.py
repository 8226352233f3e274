"""Managing services from the account page: tariff change with a quote and consent, cancelling it,
options on/off (htmx and plain POST), switching off; bad input and double submit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kabinet.billing.models import LedgerTransfer, Subscription, SubscriptionOption
from kabinet.billing.tests.factories import SubscriptionFactory
from kabinet.portal.models import IdempotencyRecord
from kabinet.portal.tests.conftest import first_form_token, form_token_for, logged_in
from kabinet.subscriptions.models import ConsentRecord

pytestmark = pytest.mark.django_db


def _balance(account) -> int:
    account.ledger_account.refresh_from_db()
    return account.ledger_account.balance_kopecks


def _sub(account) -> Subscription:
    return account.subscriptions.get(status="active")


def test_account_page_offers_only_the_switches_the_catalog_allows(owner, owner_account, catalog):
    # when
    html = logged_in(owner).get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    # then: the available tariff is offered, the archived one and the TV package are not
    assert "Услуги СПД" in html
    assert "«Домашний 300» — 590\u00a0₽" in html
    assert "Домашний старый" not in html
    assert "Статический IP" in html
    assert "Кино" not in html


def test_tariff_change_from_next_period_shows_the_quote_then_needs_consent(owner, owner_account, catalog):
    # given
    client = logged_in(owner)
    sub = _sub(owner_account)
    url = reverse("portal:tariff_change", args=[owner_account.pk, sub.pk])
    balance = _balance(owner_account)
    # when: the quote page
    quote = client.get(url, {"tariff": catalog["home300"].pk, "when": "next_period"})
    html = quote.content.decode()
    token = form_token_for(html, url)
    # then
    assert quote.status_code == 200
    assert "тариф сменится на «Домашний 300»: 590\u00a0₽ в месяц" in html
    # when: no consent
    refused = client.post(url, {"tariff": catalog["home300"].pk, "when": "next_period", "form_token": token})
    # then
    assert "Подтвердите согласие с изменением и его стоимостью." in refused.content.decode()
    sub.refresh_from_db()
    assert sub.next_tariff_id is None
    # when: with consent
    done = client.post(
        url, {"tariff": catalog["home300"].pk, "when": "next_period", "consent": "on", "form_token": token}
    )
    # then
    assert done.status_code == 302
    sub.refresh_from_db()
    assert sub.next_tariff_id == catalog["home300"].pk
    assert _balance(owner_account) == balance
    consent = ConsentRecord.objects.get(personal_account=owner_account)
    assert consent.action == "change_tariff_next"
    assert "Домашний 300" in consent.text
    # when: the same form submitted again (double click)
    again = client.post(
        url,
        {"tariff": catalog["home300"].pk, "when": "next_period", "consent": "on", "form_token": token},
        follow=True,
    )
    # then
    assert "Этот запрос уже выполнен" in again.content.decode()
    assert ConsentRecord.objects.filter(personal_account=owner_account).count() == 1


def test_a_scheduled_change_can_be_cancelled(owner, owner_account, catalog):
    # given
    sub = _sub(owner_account)
    Subscription.objects.filter(pk=sub.pk).update(
        next_tariff=catalog["home300"], next_tariff_from="2099-01-01"
    )
    client = logged_in(owner)
    page = client.get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    cancel_url = reverse("portal:tariff_change_cancel", args=[owner_account.pk, sub.pk])
    assert "Запланирована смена тарифа на «Домашний 300» с 01.01.2099." in page
    # when
    response = client.post(cancel_url, {"form_token": form_token_for(page, cancel_url)}, follow=True)
    # then
    assert "Запланированная смена тарифа отменена." in response.content.decode()
    sub.refresh_from_db()
    assert sub.next_tariff_id is None


def test_changing_to_a_tariff_that_is_not_allowed_is_refused_and_moves_no_money(
    owner, owner_account, catalog
):
    # given
    client = logged_in(owner)
    sub = _sub(owner_account)
    url = reverse("portal:tariff_change", args=[owner_account.pk, sub.pk])
    transfers = LedgerTransfer.objects.count()
    # when: the archived tariff, a TV tariff, a tariff that is not in switchable_to, a non-existing one
    archived = client.get(
        url, {"tariff": catalog["archived"].pk, "when": "now"}, follow=True
    ).content.decode()
    tv = client.post(
        url, {"tariff": catalog["tv"].pk, "when": "now", "consent": "on", "form_token": "t1"}, follow=True
    ).content.decode()
    missing = client.get(url, {"tariff": 999999, "when": "now"}, follow=True).content.decode()
    # then
    assert "Тариф «Домашний старый» архивный и больше не подключается." in archived
    assert "Тариф «Базовый ТВ» относится к другой услуге." in tv
    assert "Такого тарифа нет." in missing
    assert LedgerTransfer.objects.count() == transfers
    sub.refresh_from_db()
    assert (sub.tariff_id, sub.status, sub.next_tariff_id) == (catalog["home100"].pk, "active", None)
    assert not IdempotencyRecord.objects.filter(key="t1").exists()


def test_option_on_by_htmx_returns_the_partial_and_charges_once(owner, owner_account, catalog):
    # given
    client = logged_in(owner)
    sub = _sub(owner_account)
    page = client.get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    url = reverse("portal:option_switch", args=[owner_account.pk, sub.pk, catalog["static_ip"].pk])
    token = form_token_for(page, url)
    balance = _balance(owner_account)
    # when
    response = client.post(
        url, {"action": "enable", "consent": "1", "form_token": token}, HTTP_HX_REQUEST="true"
    )
    replay = client.post(
        url, {"action": "enable", "consent": "1", "form_token": token}, HTTP_HX_REQUEST="true"
    )
    # then
    html = response.content.decode()
    assert html.lstrip().startswith('<li class="option option-on"')
    assert "подключено" in html
    assert "Этот запрос уже выполнен" in replay.content.decode()
    assert (
        SubscriptionOption.objects.filter(
            subscription=sub, option=catalog["static_ip"], status="active"
        ).count()
        == 1
    )
    charged = balance - _balance(owner_account)
    assert charged > 0
    assert (
        LedgerTransfer.objects.filter(kind="charge", debit_account=owner_account.ledger_account).count() == 1
    )


def test_option_on_without_consent_is_refused_without_js(owner, owner_account, catalog):
    # given
    client = logged_in(owner)
    sub = _sub(owner_account)
    url = reverse("portal:option_switch", args=[owner_account.pk, sub.pk, catalog["static_ip"].pk])
    balance = _balance(owner_account)
    # when
    response = client.post(url, {"action": "enable", "form_token": "tok-1"}, follow=True)
    # then
    assert "Подтвердите согласие с изменением и его стоимостью." in response.content.decode()
    assert _balance(owner_account) == balance
    assert not SubscriptionOption.objects.filter(subscription=sub).exists()


def test_option_of_another_service_is_refused(owner, owner_account, catalog):
    # given: a TV package on an internet subscription
    client = logged_in(owner)
    sub = _sub(owner_account)
    url = reverse("portal:option_switch", args=[owner_account.pk, sub.pk, catalog["kino"].pk])
    balance = _balance(owner_account)
    # when
    response = client.post(url, {"action": "enable", "consent": "1", "form_token": "tok-2"}, follow=True)
    # then
    assert "Опция «Кино» относится к другой услуге." in response.content.decode()
    assert _balance(owner_account) == balance
    assert not SubscriptionOption.objects.filter(subscription=sub).exists()


def test_option_off_plain_post_redirects_back(owner, owner_account, catalog):
    # given
    from kabinet.billing.tests.factories import SubscriptionOptionFactory

    sub = _sub(owner_account)
    SubscriptionOptionFactory(subscription=sub, option=catalog["static_ip"])
    client = logged_in(owner)
    url = reverse("portal:option_switch", args=[owner_account.pk, sub.pk, catalog["static_ip"].pk])
    # when
    response = client.post(url, {"action": "disable", "form_token": "tok-3"})
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:account", args=[owner_account.pk]))
    assert SubscriptionOption.objects.get(subscription=sub).status == "ended"


def test_tv_package_on_from_the_tv_tab(owner, catalog):
    # given
    from kabinet.billing.tests.factories import PersonalAccountFactory
    from kabinet.portal.tests.conftest import pay

    account = PersonalAccountFactory(customer=owner.customer, service_kind="tv")
    pay(account, 50000)
    sub = SubscriptionFactory(personal_account=account, tariff=catalog["tv"])
    client = logged_in(owner)
    page = client.get(reverse("portal:account", args=[account.pk]), {"tab": "tv"}).content.decode()
    url = reverse("portal:option_switch", args=[account.pk, sub.pk, catalog["kino"].pk])
    assert "Пакеты каналов" in page
    # when
    client.post(url, {"action": "enable", "consent": "1", "form_token": form_token_for(page, url)})
    # then
    assert SubscriptionOption.objects.get(subscription=sub).option == catalog["kino"]
    history = client.get(reverse("portal:history", args=[account.pk])).content.decode()
    assert "Кино" in history


def test_switching_a_service_off_needs_confirmation(owner, owner_account):
    # given
    client = logged_in(owner)
    sub = _sub(owner_account)
    url = reverse("portal:subscription_off", args=[owner_account.pk, sub.pk])
    page = client.get(url).content.decode()
    token = first_form_token(page)
    # when
    refused = client.post(url, {"form_token": token})
    done = client.post(url, {"form_token": token, "confirm": "on"})
    # then
    assert "Подтвердите отключение услуги." in refused.content.decode()
    assert done.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "ended"


def test_voluntary_block_page_shows_the_rule_and_eligibility(owner, owner_account):
    # when
    html = logged_in(owner).get(reverse("portal:voluntary_block", args=[owner_account.pk])).content.decode()
    # then
    assert "Добровольная блокировка — от" in html
    assert "Блокировку можно включить сегодня." in html


def test_promised_payment_page_shows_the_rule_and_takes_it_with_consent(owner, owner_account):
    # given
    client = logged_in(owner)
    url = reverse("portal:promised_payment", args=[owner_account.pk])
    html = client.get(url).content.decode()
    assert "Правило" in html
    # when (balance is positive: eligibility decided by BILL-B's rule)
    from kabinet.subscriptions.services import promised_payment_quote

    quote = promised_payment_quote(personal_account=owner_account)
    # then: the page says the same as the service
    assert (quote.reason in html) if not quote.allowed else ("Можно взять" in html)


def test_after_switching_off_a_tariff_can_be_connected_with_consent(owner, owner_account, catalog):
    # given: the service is switched off
    from kabinet.subscriptions.services import subscription_disconnect

    subscription_disconnect(actor=owner, subscription=_sub(owner_account))
    client = logged_in(owner)
    page = client.get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    assert "Подключённых услуг нет." in page
    assert "«Домашний 300» — 590\u00a0₽" in page
    assert "Домашний старый" not in page
    url = reverse("portal:connect", args=[owner_account.pk])
    quote = client.get(url, {"tariff": catalog["home300"].pk}).content.decode()
    assert "Тариф «Домашний 300»: 590\u00a0₽ в месяц." in quote
    # when
    client.post(url, {"tariff": catalog["home300"].pk, "form_token": form_token_for(quote, url)})
    done = client.post(
        url, {"tariff": catalog["home300"].pk, "consent": "on", "form_token": form_token_for(quote, url)}
    )
    # then
    assert done.status_code == 302
    assert _sub(owner_account).tariff == catalog["home300"]
    assert ConsentRecord.objects.get(personal_account=owner_account).action == "connect"


def test_connect_when_a_service_is_on_is_refused_in_russian(owner, owner_account, catalog):
    # when
    response = logged_in(owner).get(
        reverse("portal:connect", args=[owner_account.pk]), {"tariff": catalog["home300"].pk}, follow=True
    )
    # then
    assert "уже подключён тариф «Домашний 100»" in response.content.decode()


def test_internet_tab_shows_wifi_and_ip_telephony_blocks(owner, owner_account):
    # given
    from kabinet.billing.tests.factories import PersonalAccountFactory

    wifi = PersonalAccountFactory(customer=owner.customer, service_kind="wifi")
    # when
    html = logged_in(owner).get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    # then
    assert 'id="block-wifi"' in html and wifi.number in html
    assert 'id="block-ip_telephony"' in html
    assert "Не подключено. Подключается по отдельному договору" in html


def test_tariff_parameters_are_shown_in_words(owner, owner_account, catalog):
    # given
    from kabinet.catalog.models import Tariff

    Tariff.objects.filter(pk=catalog["home100"].pk).update(params={"speed_mbps": 100, "data_gb": 10, "x": 1})
    # when
    html = logged_in(owner).get(reverse("portal:account", args=[owner_account.pk])).content.decode()
    # then
    assert '<p class="muted">100 Мбит/с · 10 ГБ</p>' in html
