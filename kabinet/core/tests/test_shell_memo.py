"""{% shell_memo %}: shell fragments rendered once per language, and only over per-process constants."""

from __future__ import annotations

import pytest
from django.template import TemplateSyntaxError, engines
from django.test import RequestFactory
from django.utils import translation

from kabinet.core.templatetags import shell

FRAGMENT = (
    '{% load i18n shell %}{% shell_memo "t" %}{% translate "Мои счета" %} {{ OPERATOR.name }}'
    "{% for code, name in SHELL_LANGUAGES %} {{ code }}{% if code == LANGUAGE_CODE %}*{% endif %}{% endfor %}"
    "{% endshell_memo %}|{{ counter }}"
)


def _render(source: str, language: str, **context: object) -> str:
    template = engines["django"].from_string(source)
    with translation.override(language):
        return template.render(context, RequestFactory().get("/"))


def test_a_fragment_renders_once_per_language_and_the_rest_every_time() -> None:
    # given an empty memo
    shell._rendered.clear()
    # when the same template renders twice in Russian and once in Tatar
    first = _render(FRAGMENT, "ru", counter=1)
    second = _render(FRAGMENT, "ru", counter=2)
    tatar = _render(FRAGMENT, "tt", counter=3)
    # then the fragment follows the language and the text outside it follows the request
    assert first == "Мои счета Летай ru* tt en|1"
    assert second == "Мои счета Летай ru* tt en|2"
    assert tatar == "Минем счётлар Летай ru tt* en|3"
    assert set(shell._rendered) == {("t", "ru", True), ("t", "tt", True)}


def test_the_memo_is_what_is_served_after_the_first_render() -> None:
    # given a fragment already rendered in Russian
    shell._rendered.clear()
    _render(FRAGMENT, "ru")
    # when the memo is changed behind the template's back
    shell._rendered[("t", "ru", True)] = shell.mark_safe("из памяти")
    # then the next render serves it: the fragment is not rendered again
    assert _render(FRAGMENT, "ru", counter=7) == "из памяти|7"


def test_without_a_language_in_the_context_the_fragment_is_not_kept() -> None:
    shell._rendered.clear()
    template = engines["django"].from_string('{% load shell %}{% shell_memo "t" %}x{% endshell_memo %}')
    assert template.render({}) == "x"
    assert shell._rendered == {}


@pytest.mark.parametrize(
    "inside",
    [
        "{{ user.email }}",
        "{{ request.path }}",
        "{% csrf_token %}",
        "{% url 'portal:dashboard' %}",
        "{{ OPERATOR.name|default:user.email }}",
        "{% if user.is_authenticated %}x{% endif %}",
        "{% for item in cards %}{{ item }}{% endfor %}",
        "{% blocktranslate with n=user.pk %}{{ n }}{% endblocktranslate %}",
        "{% translate 'x' as label %}",
    ],
)
def test_a_per_request_value_inside_a_fragment_does_not_compile(inside: str) -> None:
    source = '{% load i18n shell %}{% shell_memo "t" %}' + inside + "{% endshell_memo %}"
    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string(source)


def test_the_page_shell_follows_the_language_and_keeps_the_csrf_token_per_request() -> None:
    # given the memo filled by a Russian page
    shell._rendered.clear()
    request = RequestFactory().get("/")
    with translation.override("ru"):
        ru = engines["django"].get_template("base.html").render({}, request)
    # when the English page and a second Russian page (another request) render
    with translation.override("en"):
        en = engines["django"].get_template("base.html").render({}, RequestFactory().get("/"))
    with translation.override("ru"):
        ru_again = engines["django"].get_template("base.html").render({}, RequestFactory().get("/"))
    # then each has its own language in the shell, and each request its own CSRF token
    assert "Горячая линия, круглосуточно" in ru and "Горячая линия, круглосуточно" not in en
    assert ru.count('name="csrfmiddlewaretoken"') == 1  # the language form (a guest has no logout form)
    token = ru.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    token_again = ru_again.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert token != token_again


def test_a_settings_change_forgets_the_fragments(settings) -> None:  # type: ignore[no-untyped-def]
    shell._rendered.clear()
    _render(FRAGMENT, "ru")
    settings.OPERATOR = {**settings.OPERATOR, "name": "Другой оператор"}
    assert _render(FRAGMENT, "ru").startswith("Мои счета Другой оператор")
