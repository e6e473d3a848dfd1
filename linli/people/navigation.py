"""The people entries of the staff workbench (registered from ``apps.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.navigation import WORKBENCH, NavEntry, nav_register


def people_nav_register() -> None:
    nav_register(
        WORKBENCH,
        NavEntry(
            "my_households",
            _("我的住户"),
            "people:mine",
            _("网格内的楼栋与住户"),
            icon="household",
            capability=Capability.PEOPLE_EDIT,
            order=14,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "care",
            _("关爱走访"),
            "people:care_list",
            _("分类分色关爱对象,超期走访优先"),
            icon="user",
            capability=Capability.CARE_VIEW,
            order=15,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "register",
            _("居民登记"),
            "people:register",
            _("按楼栋、网格查询,导入导出"),
            icon="community",
            capability=Capability.VIEW_PEOPLE,
            order=16,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "stewards",
            _("网格员与小管家"),
            "people:stewards",
            _("招募、联审、上岗与三亮公示"),
            icon="grid",
            capability=Capability.VIEW_PEOPLE,
            order=17,
        ),
    )
