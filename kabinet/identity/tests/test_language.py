"""The language switcher (POST /language/) and the language remembered per subscriber."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kabinet.identity.models import User
from kabinet.identity.tests.factories import PASSWORD, PhoneUserFactory

pytestmark = pytest.mark.django_db


def _html_lang(client: Client, path: str = "/accounts/login/") -> str:
    response = client.get(path)
    match = re.search(r'<html lang="([a-z-]+)"', response.content.decode())
    assert match is not None
    return match.group(1)


def _login(client: Client, user: User) -> None:
    response = client.post("/accounts/login/", {"login": user.phone, "password": PASSWORD})
    assert response.status_code == 302


def test_anonymous_switch_sets_cookie_and_session_and_redirects_back(client: Client) -> None:
    # when
    response = client.post("/language/", {"language": "tt", "next": "/accounts/login/"})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert response.cookies["django_language"].value == "tt"
    assert client.session["kabinet_language"] == "tt"
    assert _html_lang(client) == "tt"


def test_logged_in_switch_remembers_the_language_on_the_user(client: Client) -> None:
    # given
    user = PhoneUserFactory.create()
    _login(client, user)
    # when
    response = client.post("/language/", {"language": "en", "next": "/cabinet/"})
    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    assert _html_lang(client, "/cabinet/") == "en"


def test_remembered_language_applies_at_login_on_a_fresh_browser(client: Client) -> None:
    # given: the subscriber chose Tatar earlier, on another device
    user = PhoneUserFactory.create()
    User.objects.filter(pk=user.pk).update(language="tt")
    fresh = Client()
    assert _html_lang(fresh) == "ru"
    # when
    _login(fresh, user)
    response = fresh.get("/cabinet/")
    # then
    assert response.status_code == 200
    assert '<html lang="tt">' in response.content.decode()
    assert response["Content-Language"] == "tt"
    assert response.cookies["django_language"].value == "tt"


def test_remembered_language_wins_over_a_cookie_left_by_someone_else(client: Client) -> None:
    # given: the browser was switched to English before this subscriber (Tatar) logged in
    user = PhoneUserFactory.create()
    User.objects.filter(pk=user.pk).update(language="tt")
    client.post("/language/", {"language": "en", "next": "/"})
    assert _html_lang(client) == "en"
    # when
    _login(client, user)
    # then
    assert _html_lang(client, "/cabinet/") == "tt"


def test_language_stays_after_logout(client: Client) -> None:
    # given
    user = PhoneUserFactory.create()
    User.objects.filter(pk=user.pk).update(language="tt")
    _login(client, user)
    client.get("/cabinet/")
    # when
    client.post("/accounts/logout/")
    # then
    assert _html_lang(client) == "tt"


def test_session_language_applies_without_a_cookie(client: Client) -> None:
    # given
    client.post("/language/", {"language": "en", "next": "/"})
    del client.cookies["django_language"]
    # when / then
    assert _html_lang(client) == "en"


def test_unknown_language_is_refused_and_changes_nothing(client: Client) -> None:
    # given
    user = PhoneUserFactory.create()
    _login(client, user)
    # when
    response = client.post("/language/", {"language": "de", "next": "/cabinet/"})
    # then
    assert response.status_code == 400
    assert "django_language" not in response.cookies
    user.refresh_from_db()
    assert user.language == ""
    assert _html_lang(client, "/cabinet/") == "ru"


def test_foreign_next_url_is_not_followed(client: Client) -> None:
    # when
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_get_is_not_allowed(client: Client) -> None:
    # when
    response = client.get("/language/?language=en")
    # then
    assert response.status_code == 405
    assert "django_language" not in response.cookies


def test_footer_form_posts_to_the_remembering_switcher(client: Client) -> None:
    # when
    page = client.get("/accounts/login/").content.decode()
    # then
    assert 'action="/language/"' in page


def test_language_chosen_before_login_becomes_the_subscribers_language(client: Client) -> None:
    # given: a visitor switches to English on the login page, then logs in
    user = PhoneUserFactory.create()
    client.post("/language/", {"language": "en", "next": "/accounts/login/"})
    _login(client, user)
    # when
    client.get("/cabinet/")
    # then: remembered on the account, so another browser gets it too
    user.refresh_from_db()
    assert user.language == "en"
    fresh = Client()
    _login(fresh, user)
    assert _html_lang(fresh, "/cabinet/") == "en"


def test_a_remembered_language_is_not_overwritten_by_the_session(client: Client) -> None:
    # given: the subscriber's language is Tatar; someone chose English on this browser before login
    user = PhoneUserFactory.create()
    User.objects.filter(pk=user.pk).update(language="tt")
    client.post("/language/", {"language": "en", "next": "/accounts/login/"})
    # when
    _login(client, user)
    page_lang = _html_lang(client, "/cabinet/")
    # then
    user.refresh_from_db()
    assert user.language == "tt"
    assert page_lang == "tt"
