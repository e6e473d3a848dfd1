"""The cases entries of the resident home and the staff workbench (registered from ``apps.ready``).

我要反映 (``cases:report``) and 工单 (``cases:workbench``) are declared in ``linli.core.navigation``
already; this re-registers 工单 for users who may see cases (an auditor has the workbench but no cases)
and adds the other screens.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.navigation import RESIDENT, WORKBENCH, NavEntry, nav_register


def cases_nav_register() -> None:
    nav_register(
        RESIDENT,
        NavEntry("my_cases", _("我的诉求"), "cases:mine", _("办理进度与评价"), icon="case", order=12),
    )
    nav_register(
        RESIDENT,
        NavEntry(
            "public_cases", _("办理公示"), "cases:public", _("已办结的问题"), icon="community", order=35
        ),
    )
    entries = [
        NavEntry(
            "cases",
            _("工单"),
            "cases:workbench",
            _("诉求受理与办理"),
            icon="case",
            capability=Capability.CASES_VIEW,
            order=20,
        ),
        NavEntry(
            "case_intake",
            _("代客登记"),
            "cases:intake",
            _("窗口、热线代群众登记诉求"),
            icon="report",
            capability=Capability.CASES_INTAKE,
            order=21,
        ),
        NavEntry(
            "case_map",
            _("工单地图"),
            "cases:map",
            _("辖区内未办结工单分布"),
            icon="locate",
            capability=Capability.CASES_VIEW,
            order=22,
        ),
        NavEntry(
            "case_overdue",
            _("超期督办"),
            "cases:overdue",
            _("超过办结时限的工单"),
            icon="case",
            capability=Capability.CASES_SUPERVISE,
            order=23,
        ),
        NavEntry(
            "case_posters",
            _("楼栋二维码"),
            "cases:posters",
            _("打印楼栋扫码上报海报(三亮)"),
            icon="grid",
            capability=Capability.VIEW_PLACES,
            order=24,
        ),
    ]
    for entry in entries:
        nav_register(WORKBENCH, entry)
