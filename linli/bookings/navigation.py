"""The bookings entries of the resident home and the staff workbench (registered from ``apps.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.navigation import RESIDENT, WORKBENCH, NavEntry, nav_register


def bookings_nav_register() -> None:
    nav_register(
        RESIDENT,
        NavEntry("book", _("预约办事"), "bookings:book", _("选阵地、选事项、选时间"), icon="case", order=25),
    )
    nav_register(
        RESIDENT,
        NavEntry(
            "agency", _("帮办代办"), "bookings:agency_new", _("行动不便?我们替您跑腿"), icon="user", order=26
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "desk",
            _("窗口受理"),
            "bookings:desk",
            _("取号签到、一窗受理登记"),
            icon="case",
            capability=Capability.BOOKINGS_MANAGE,
            order=22,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "agency",
            _("帮办代办"),
            "bookings:agency_desk",
            _("代办申请与进度"),
            icon="user",
            capability=Capability.BOOKINGS_AGENCY,
            order=23,
        ),
    )
    nav_register(
        WORKBENCH,
        NavEntry(
            "resources",
            _("场地与工具"),
            "bookings:resources_desk",
            _("场地审批、工具借还"),
            icon="station",
            capability=Capability.BOOKINGS_MANAGE,
            order=32,
        ),
    )
