"""The party entries of the resident home and the staff workbench (registered from ``apps.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.navigation import RESIDENT, WORKBENCH, NavEntry, nav_register


def party_nav_register() -> None:
    nav_register(
        RESIDENT,
        NavEntry("party_checkin", _("党员报到"), "party:checkin", _("我是党员我报到"), icon="user", order=40),
    )
    nav_register(
        RESIDENT,
        NavEntry(
            "my_hours", _("志愿时长"), "party:my_hours", _("我的志愿服务时长与证明"), icon="user", order=41
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "party",
            _("党建与志愿"),
            "party:home",
            _("党组织、党员报到、志愿服务时长"),
            icon="community",
            capability=Capability.PARTY_VIEW,
            order=40,
        ),
    )
