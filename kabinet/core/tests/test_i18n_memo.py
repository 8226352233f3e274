"""{% translate %} memoised per language (kabinet.core.templatetags.i18n_memo) renders what Django's would."""

from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from kabinet.core.templatetags import i18n_memo

SOURCE = '{% load i18n %}{% translate "Мои счета" %}|{% translate "Мои счета" as label %}{{ label|upper }}'


def _render_in(language: str) -> str:
    template = engines["django"].from_string(SOURCE)
    with translation.override(language):
        return template.render({}, RequestFactory().get("/"))


def test_each_language_gets_its_own_text_from_the_memo():
    # given: the memo is empty
    i18n_memo._rendered.clear()
    # when: the same template renders in Russian, English, Tatar, and Russian again
    rendered = [_render_in(code) for code in ("ru", "en", "tt", "ru")]
    # then
    assert rendered == [
        "Мои счета|МОИ СЧЕТА",
        "My accounts|MY ACCOUNTS",
        "Минем счётлар|МИНЕМ СЧЁТЛАР",
        "Мои счета|МОИ СЧЕТА",
    ]
    assert set(i18n_memo._rendered) == {
        ("ru", True, "Мои счета"),
        ("en", True, "Мои счета"),
        ("tt", True, "Мои счета"),
    }


def test_a_render_without_a_request_is_not_memoised():
    # given
    i18n_memo._rendered.clear()
    template = engines["django"].from_string('{% load i18n %}{% translate "Мои счета" %}')
    # when
    with translation.override("en"):
        text = template.render({})
    # then: no LANGUAGE_CODE from the context processors, so Django's own path, and nothing kept
    assert text == "My accounts"
    assert i18n_memo._rendered == {}


def test_a_language_block_inside_a_page_translates_into_its_own_language():
    # given: a Russian page with an English block, rendered twice (the second time from the memo)
    i18n_memo._rendered.clear()
    template = engines["django"].from_string(
        '{% load i18n %}{% translate "Мои счета" %}|{% language "en" %}{% translate "Мои счета" %}'
        '{% endlanguage %}|{% translate "Мои счета" %}'
    )
    # when
    with translation.override("ru"):
        rendered = [template.render({}, RequestFactory().get("/")) for _ in range(2)]
    # then
    assert rendered == ["Мои счета|My accounts|Мои счета"] * 2
