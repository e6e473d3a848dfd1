"""The menus of the resident home and the staff workbench, as data.

Each module adds its own entries (in its ``AppConfig.ready()``, or by naming its URL here ahead of time).
An entry is shown only when its URL name resolves and the user may use it, so a menu never links to a
page that does not exist yet (工单 appears once the cases app has its ``cases:workbench`` URL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability

RESIDENT = "resident"
WORKBENCH = "workbench"


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    description: str | Promise = ""
    # Which icon of core/_icon.html to draw.
    icon: str = ""
    # A capability the user needs (empty: anyone may see the entry).
    capability: str = ""
    # The Django admin: only for accounts with is_staff (the admin site's own rule).
    admin_site: bool = False
    # Sign-in entries make no sense once signed in.
    anonymous_only: bool = False
    order: int = 100
    # A further test on the signed-in user, for entries no capability describes (an organisation's
    # representative); it should cost at most one query.
    visible_to: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str | Promise
    href: str
    description: str | Promise
    icon: str


_MENUS: dict[str, list[NavEntry]] = {
    RESIDENT: [
        NavEntry(
            "report",
            _("我要反映"),
            "cases:report",
            _("身边的问题,拍照上报"),
            icon="report",
            order=10,
        ),
        NavEntry(
            "stations",
            _("附近驿站"),
            "stations:nearby",
            _("党群服务中心与驿站"),
            icon="station",
            order=20,
        ),
        NavEntry("map", _("地图"), "places:map", _("街道、社区一目了然"), icon="map", order=30),
        NavEntry(
            "login",
            _("登录"),
            "accounts:phone_login",
            _("手机号 + 短信验证码"),
            icon="user",
            anonymous_only=True,
            order=90,
        ),
    ],
    WORKBENCH: [
        NavEntry("home", _("工作台"), "core:home", icon="home", order=0),
        NavEntry(
            "map",
            _("地图"),
            "places:map",
            _("辖区、社区与网格"),
            icon="map",
            capability=Capability.VIEW_PLACES,
            order=10,
        ),
        NavEntry("cases", _("工单"), "cases:workbench", _("诉求受理与办理"), icon="case", order=20),
        NavEntry(
            "admin",
            _("后台管理"),
            "admin:index",
            _("基础数据与账号"),
            icon="settings",
            admin_site=True,
            order=90,
        ),
    ],
}


def nav_register(menu: str, entry: NavEntry) -> None:
    """Add (or replace, by key) an entry of a menu; call from an app's ``ready()``."""
    entries = [e for e in _MENUS.setdefault(menu, []) if e.key != entry.key]
    entries.append(entry)
    entries.sort(key=lambda e: (e.order, e.key))
    _MENUS[menu] = entries


def _href(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def nav_links(menu: str, user: object) -> list[NavLink]:
    """The entries of ``menu`` this user may follow, with their URLs, in menu order."""
    authenticated = bool(getattr(user, "is_authenticated", False))
    links = []
    for entry in sorted(_MENUS.get(menu, []), key=lambda e: (e.order, e.key)):
        if entry.anonymous_only and authenticated:
            continue
        if entry.admin_site and not (authenticated and getattr(user, "is_staff", False)):
            continue
        if entry.capability and not user_has_capability(user, entry.capability):  # type: ignore[arg-type]
            continue
        if entry.visible_to is not None and not (authenticated and entry.visible_to(user)):
            continue
        href = _href(entry.url_name)
        if href is None:
            continue
        links.append(NavLink(entry.key, entry.label, href, entry.description, entry.icon))
    return links
