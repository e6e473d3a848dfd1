"""The patrols entries of the staff workbench (registered from ``apps.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.navigation import WORKBENCH, NavEntry, nav_register


def patrols_nav_register() -> None:
    nav_register(
        WORKBENCH,
        NavEntry(
            "patrol",
            _("开始巡查"),
            "patrols:record",
            _("手机巡查:记录轨迹、随手上报"),
            icon="locate",
            capability=Capability.PATROLS_RECORD,
            order=24,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "patrols",
            _("巡查记录"),
            "patrols:list",
            _("巡查轨迹、里程与发现的问题"),
            icon="map",
            capability=Capability.PATROLS_VIEW,
            order=25,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "patrol_coverage",
            _("巡查覆盖"),
            "patrols:coverage",
            _("每周各网格楼栋巡查覆盖率"),
            icon="map",
            capability=Capability.PATROLS_COVERAGE,
            order=26,
        ),
    )
