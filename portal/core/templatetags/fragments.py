"""{% fragment "name" vary_on... %}…{% endfragment %}: a generation-stamped fragment cache.

Like Django's {% cache %}, but the value is checked against the content
generation read once per request (see portal.core.fragments), so a write never
has to delete keys and a cached page costs one cache round trip. Never wrap
per-user output or a CSRF token in it: the key is shared by every visitor.
"""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from portal.core.fragments import fragment_key, is_miss, request_cache

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist: NodeList, name: FilterExpression, vary_on: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on

    def render(self, context: Context) -> SafeString:
        key = fragment_key(str(self.name.resolve(context)), *(v.resolve(context) for v in self.vary_on))
        store = request_cache(context.get("request"))
        html = store.get(key)
        if is_miss(html):
            html = self.nodelist.render(context)
            store.set(key, str(html))
        return mark_safe(html)  # noqa: S308 - our own rendered template output


@register.tag("fragment")
def do_fragment(parser: Parser, token: Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name: {% fragment 'name' vary_on... %}")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]])
