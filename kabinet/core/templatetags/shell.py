"""``{% shell_memo "name" %} ... {% endshell_memo %}``: a fragment of the page shell rendered once per
language and process.

Every page renders the same header and footer; only the language changes them (and a few
per-request values, such as the CSRF token, which stay outside the fragments). A fragment is checked
when the template is compiled: it may contain only text, constant ``{% translate %}``, and variables,
``{% if %}``, ``{% for %}`` and ``{% blocktranslate %}`` over the shell's per-process constants
(``SHELL_CONSTANTS``: the operator's details, the shell's links and languages, the dev-outbox flag and
the language itself). Anything else (the user, the request, a CSRF token, another tag) is a
``TemplateSyntaxError``, so a per-request value cannot be cached and shown to someone else by mistake.
The memo key is the fragment's name, the language (``LANGUAGE_CODE`` from the ``i18n`` context
processor) and autoescaping; without a language in the context the fragment is simply rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import FilterExpression, Node, NodeList, TextNode, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Context names that are the same for every request of a process, given the language
# (kabinet.core.context_processors.site, and LANGUAGE_CODE from django's i18n processor).
SHELL_CONSTANTS = frozenset({"OPERATOR", "SHELL_URLS", "SHELL_LANGUAGES", "DEV_OUTBOX", "LANGUAGE_CODE"})

_rendered: dict[tuple[str, str, bool], SafeString] = {}


@receiver(setting_changed)
def _forget_on_settings_change(**kwargs: Any) -> None:
    """Tests change settings (the operator's details, the dev outbox): the fragments are stale then."""
    _rendered.clear()


def _check_variable(var: Any, allowed: frozenset[str], name: str) -> None:
    if isinstance(var, Variable) and var.lookups is not None and var.lookups[0] not in allowed:
        raise template.TemplateSyntaxError(
            f"shell_memo {name!r}: {var.var!r} is not a shell constant ({', '.join(sorted(allowed))})"
        )


def _check_expression(expression: FilterExpression, allowed: frozenset[str], name: str) -> None:
    _check_variable(expression.var, allowed, name)
    for _func, args in expression.filters:
        for lookup, arg in args:
            if lookup:
                _check_variable(arg, allowed, name)


def _check_condition(condition: Any, allowed: frozenset[str], name: str) -> None:
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        _check_expression(value, allowed, name)
    for side in ("first", "second"):
        operand = getattr(condition, side, None)
        if operand is not None:
            _check_condition(operand, allowed, name)


def _check_nodelist(nodelist: Iterable[Any], allowed: frozenset[str], name: str) -> None:
    for node in nodelist:
        _check_node(node, allowed, name)


def _check_node(node: Node, allowed: frozenset[str], name: str) -> None:
    if isinstance(node, TextNode):
        return
    if isinstance(node, VariableNode):
        _check_expression(node.filter_expression, allowed, name)
        return
    if isinstance(node, TranslateNode):
        if node.asvar or node.filter_expression.var.__class__ is not Variable:
            raise template.TemplateSyntaxError(f"shell_memo {name!r}: only constant {{% translate %}}")
        if node.filter_expression.var.literal is None:
            _check_expression(node.filter_expression, allowed, name)
        return
    if isinstance(node, BlockTranslateNode):
        if node.asvar or node.counter is not None:
            raise template.TemplateSyntaxError(f"shell_memo {name!r}: no counted or stored blocktranslate")
        for expression in node.extra_context.values():
            _check_expression(expression, allowed, name)
        return
    if isinstance(node, IfNode):
        for condition, branch in node.conditions_nodelists:
            if condition is not None:
                _check_condition(condition, allowed, name)
            _check_nodelist(branch, allowed, name)
        return
    if isinstance(node, ForNode):
        if isinstance(node.sequence, FilterExpression):
            _check_expression(node.sequence, allowed, name)
        inner = allowed | set(node.loopvars) | {"forloop"}
        _check_nodelist(node.nodelist_loop, frozenset(inner), name)
        _check_nodelist(node.nodelist_empty, frozenset(inner), name)
        return
    raise template.TemplateSyntaxError(
        f"shell_memo {name!r}: {type(node).__name__} may depend on the request; keep it outside the fragment"
    )


class ShellMemoNode(Node):
    child_nodelists = ("nodelist",)

    def __init__(self, name: str, nodelist: NodeList) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context: Any) -> str:
        language = context.get("LANGUAGE_CODE")
        if not isinstance(language, str):
            return str(self.nodelist.render(context))
        key = (self.name, language, bool(context.autoescape))
        value = _rendered.get(key)
        if value is None:
            value = _rendered[key] = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered template
        return value


@register.tag("shell_memo")
def shell_memo(parser: Any, token: Any) -> ShellMemoNode:
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('usage: {% shell_memo "name" %} ... {% endshell_memo %}')
    name = bits[1][1:-1]
    nodelist = parser.parse(("endshell_memo",))
    parser.delete_first_token()
    _check_nodelist(nodelist, SHELL_CONSTANTS, name)
    return ShellMemoNode(name, nodelist)
