"""Django's ``i18n`` template library, with ``{% translate "constant" %}`` memoised per language.

Registered under the name ``i18n`` in ``settings.TEMPLATES`` (``OPTIONS["libraries"]``), so templates keep
``{% load i18n %}`` and ``makemessages`` extracts the strings as before. Every other tag and filter is
Django's own.

Why: each ``{% translate %}`` goes through the active-translation lookups (thread- and context-local) and
the catalogue on every render; a page such as the dashboard has dozens, and they were about a third of its
rendering time. A constant message without filters, context or ``as`` renders to the same text for a given
language and autoescape setting, so that text is kept in a per-process dictionary (bounded by the number
of such strings in the templates times the languages). The language is the ``LANGUAGE_CODE`` that the
``i18n`` context processor put into the context when rendering started; without it (a template rendered
with no request, e.g. an email) nothing is memoised. ``{% language %}`` is Django's tag with one change:
inside it, ``LANGUAGE_CODE`` is the language it switched to, so the memo keeps following the language.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.templatetags import i18n as django_i18n
from django.utils import translation

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)

_rendered: dict[tuple[str, bool, Any], Any] = {}


class MemoTranslateNode(django_i18n.TranslateNode):
    def render(self, context: Any) -> Any:
        language = context.get("LANGUAGE_CODE")
        expression = self.filter_expression
        if (
            not isinstance(language, str)
            or self.noop
            or self.asvar
            or self.message_context is not None
            or expression.filters
            or not isinstance(expression.var, template.Variable)
            or expression.var.literal is None
        ):
            return super().render(context)
        key = (language, bool(context.autoescape), expression.var.literal)
        value = _rendered.get(key)
        if value is None:
            value = super().render(context)
            _rendered[key] = value
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser: Any, token: Any) -> Any:
    node = django_i18n.do_translate(parser, token)
    node.__class__ = MemoTranslateNode
    return node


class MemoLanguageNode(django_i18n.LanguageNode):
    def render(self, context: Any) -> Any:
        with translation.override(self.language.resolve(context)):
            with context.push(LANGUAGE_CODE=translation.get_language()):
                return self.nodelist.render(context)


@register.tag("language")
def language(parser: Any, token: Any) -> Any:
    node = django_i18n.language(parser, token)
    node.__class__ = MemoLanguageNode
    return node
