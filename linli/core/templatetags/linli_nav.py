"""``{% workbench_nav %}``: the workbench sidebar, built from the menu registry for the current user."""

from __future__ import annotations

from typing import Any

from django import template

from linli.core.navigation import WORKBENCH, nav_links

register = template.Library()


@register.inclusion_tag("core/_workbench_nav.html", takes_context=True)
def workbench_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        return {"links": [], "active": ""}
    links = nav_links(WORKBENCH, request.user)
    # The entry whose URL is the longest prefix of this page is the current one ("/" only on itself).
    path = request.path
    matches = [
        link for link in links if path == link.href or (link.href != "/" and path.startswith(link.href))
    ]
    active = max(matches, key=lambda link: len(link.href)).key if matches else ""
    return {"links": links, "active": active}
