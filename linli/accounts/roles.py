"""Roles and what each may do. The capability table is data; checks read it, never a list of roles."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    GRID_WORKER = "grid_worker", _("网格员")
    RED_STEWARD = "red_steward", _("红色小管家")
    WINDOW_STAFF = "window_staff", _("窗口人员")
    BACK_OFFICE = "back_office", _("后台人员")
    COMMUNITY_SECRETARY = "community_secretary", _("社区书记")
    STREET_STAFF = "street_staff", _("街道工作人员")
    DISTRICT_STAFF = "district_staff", _("区级工作人员")
    UNIT_HANDLER = "unit_handler", _("职能部门/物业")
    AUDITOR = "auditor", _("审计员")
    ADMIN = "admin", _("系统管理员")


class ScopeKind(models.TextChoices):
    """What a membership's scope is anchored on."""

    REGION = "region", _("行政区域")
    GRID = "grid", _("网格")
    UNIT = "unit", _("单位")
    GLOBAL = "global", _("全局")


# role -> the kind of anchor its membership needs
ROLE_SCOPE_KIND: dict[str, str] = {
    Role.RESIDENT: ScopeKind.REGION,
    Role.GRID_WORKER: ScopeKind.GRID,
    Role.RED_STEWARD: ScopeKind.REGION,
    Role.WINDOW_STAFF: ScopeKind.REGION,
    Role.BACK_OFFICE: ScopeKind.REGION,
    Role.COMMUNITY_SECRETARY: ScopeKind.REGION,
    Role.STREET_STAFF: ScopeKind.REGION,
    Role.DISTRICT_STAFF: ScopeKind.REGION,
    Role.UNIT_HANDLER: ScopeKind.UNIT,
    Role.AUDITOR: ScopeKind.REGION,
    Role.ADMIN: ScopeKind.GLOBAL,
}

STAFF_ROLES = frozenset(r for r in Role.values if r != Role.RESIDENT)


class Capability(models.TextChoices):
    VIEW_PLACES = "places.view", _("查看辖区与网格")
    EDIT_PLACES = "places.edit", _("维护辖区与网格")
    VIEW_PEOPLE = "people.view", _("查看居民信息")
    VIEW_WORKBENCH = "core.workbench", _("使用工作台")
    MANAGE_ACCOUNTS = "accounts.manage", _("管理账号与授权")
    VIEW_AUDIT = "audit.view", _("查看审计日志")


# Which capabilities each role has inside its scope. Later modules add their own rows here.
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset(),
    Role.GRID_WORKER: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH}),
    Role.RED_STEWARD: frozenset({Capability.VIEW_PLACES, Capability.VIEW_WORKBENCH}),
    Role.WINDOW_STAFF: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH}),
    Role.BACK_OFFICE: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH}),
    Role.COMMUNITY_SECRETARY: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    ),
    Role.STREET_STAFF: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    ),
    Role.DISTRICT_STAFF: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.EDIT_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    ),
    Role.UNIT_HANDLER: frozenset({Capability.VIEW_WORKBENCH}),
    # Auditors read the trail, not residents' data (separation of duties, AC-5).
    Role.AUDITOR: frozenset({Capability.VIEW_AUDIT, Capability.VIEW_WORKBENCH}),
    Role.ADMIN: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.EDIT_PLACES,
            Capability.MANAGE_ACCOUNTS,
            Capability.VIEW_WORKBENCH,
        }
    ),
}
