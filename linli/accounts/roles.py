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
    # 等保 三员: system admin, security admin and auditor are held by different people (AC-5, linli.security.duties).
    SECURITY_ADMIN = "security_admin", _("安全管理员")


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
    Role.SECURITY_ADMIN: ScopeKind.GLOBAL,
}

STAFF_ROLES = frozenset(r for r in Role.values if r != Role.RESIDENT)


class Capability(models.TextChoices):
    VIEW_PLACES = "places.view", _("查看辖区与网格")
    EDIT_PLACES = "places.edit", _("维护辖区与网格")
    VIEW_PEOPLE = "people.view", _("查看居民信息")
    REVEAL_PEOPLE = "people.reveal", _("查看完整个人信息(须填理由,留审计)")
    VIEW_WORKBENCH = "core.workbench", _("使用工作台")
    MANAGE_ACCOUNTS = "accounts.manage", _("管理账号与授权")
    VIEW_AUDIT = "audit.view", _("查看审计日志")
    MANAGE_SECURITY = "security.manage", _("管理安全策略(解除锁定、重置动态口令、会话)")
    # The closed loop (linli.cases): each workflow action names the capability it needs.
    CASES_VIEW = "cases.view", _("查看诉求工单")
    CASES_INTAKE = "cases.intake", _("代客登记诉求")
    CASES_TRIAGE = "cases.triage", _("梳理诉求")
    CASES_ASSIGN = "cases.assign", _("交办诉求")
    CASES_HANDLE = "cases.handle", _("办理诉求")
    CASES_SUPERVISE = "cases.supervise", _("督办诉求")
    CASES_REVIEW = "cases.review", _("评议与回访")
    # Service stations (linli.stations): the station network, its hours, menus and coverage planning.
    STATIONS_VIEW = "stations.view", _("查看服务阵地与覆盖规划")
    STATIONS_EDIT = "stations.edit", _("维护服务阵地(信息、时间、菜单、七有)")
    # Appointments, window records, 代办, rooms and tools (linli.bookings), on the stations in scope.
    BOOKINGS_VIEW = "bookings.view", _("查看预约、窗口服务记录、场地与工具")
    BOOKINGS_MANAGE = "bookings.manage", _("预约签到取号、窗口登记、号源、场地审批、工具借还")
    BOOKINGS_AGENCY = "bookings.agency", _("帮办代办:代为申请并登记代办进度")
    # 一台账三清单 and organisations (linli.needs), inside the membership's region (or grid for grid workers).
    NEEDS_VIEW = "needs.view", _("查看需求、资源、项目清单与社会组织")
    NEEDS_REPORT = "needs.report", _("登记居民需求(走访、议事所得)")
    NEEDS_MANAGE = "needs.manage", _("维护三清单:资源匹配、项目认领与进度、社会组织孵化")
    # People (linli.people): the household register, the 分类分色 care registry, grid workers and stewards.
    PEOPLE_EDIT = "people.edit", _("维护居民登记(户、人、迁入迁出、导入)")
    PEOPLE_EXPORT = "people.export", _("导出居民登记(默认脱敏)")
    CARE_VIEW = "care.view", _("查看分类分色关爱对象(敏感个人信息)")
    CARE_EDIT = "care.edit", _("维护关爱对象、走访计划与走访记录")
    STEWARDS_MANAGE = "stewards.manage", _("管理网格员与小管家(招募、联审、上岗、三亮)")
    # Patrols (linli.patrols): tracks are personal data, readable by the worker and by the named roles.
    PATROLS_RECORD = "patrols.record", _("网格巡查:开始、结束巡查,上传轨迹,上报发现的问题")
    PATROLS_VIEW = "patrols.view", _("查看辖区内网格员的巡查轨迹(敏感个人信息,留审计)")
    PATROLS_COVERAGE = "patrols.coverage", _("查看网格巡查覆盖率")
    # Party organisations, members' check-in, volunteers and their service hours (linli.party).
    PARTY_VIEW = "party.view", _("查看党组织、党员报到、志愿者与服务时长")
    PARTY_MANAGE = "party.manage", _("党员报到审核、党组织维护、志愿服务时长登记与证明")


# Case capabilities per role (linli.cases). Residents have none: they see their own cases as owners.
_CASES_HANDLER = frozenset({Capability.CASES_VIEW, Capability.CASES_INTAKE, Capability.CASES_HANDLE})
_CASES_DISPATCHER = _CASES_HANDLER | {Capability.CASES_TRIAGE, Capability.CASES_ASSIGN}
_CASES_SUPERVISOR = _CASES_DISPATCHER | {Capability.CASES_SUPERVISE, Capability.CASES_REVIEW}

# Which capabilities each role has inside its scope. Later modules add their own rows here.
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset(),
    Role.GRID_WORKER: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH})
    | _CASES_HANDLER,
    Role.RED_STEWARD: frozenset({Capability.VIEW_PLACES, Capability.VIEW_WORKBENCH}) | _CASES_HANDLER,
    Role.WINDOW_STAFF: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH})
    | {Capability.CASES_VIEW, Capability.CASES_INTAKE},
    Role.BACK_OFFICE: frozenset({Capability.VIEW_PLACES, Capability.VIEW_PEOPLE, Capability.VIEW_WORKBENCH})
    | _CASES_DISPATCHER,
    Role.COMMUNITY_SECRETARY: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.REVEAL_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    )
    | _CASES_SUPERVISOR,
    Role.STREET_STAFF: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.REVEAL_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    )
    | _CASES_SUPERVISOR,
    Role.DISTRICT_STAFF: frozenset(
        {
            Capability.VIEW_PLACES,
            Capability.EDIT_PLACES,
            Capability.VIEW_PEOPLE,
            Capability.REVEAL_PEOPLE,
            Capability.VIEW_WORKBENCH,
            Capability.MANAGE_ACCOUNTS,
        }
    )
    | _CASES_SUPERVISOR,
    Role.UNIT_HANDLER: frozenset({Capability.VIEW_WORKBENCH, Capability.CASES_VIEW, Capability.CASES_HANDLE}),
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
    # The security admin runs the sign-in controls, not the data or the accounts' roles (AC-5).
    Role.SECURITY_ADMIN: frozenset({Capability.MANAGE_SECURITY, Capability.VIEW_WORKBENCH}),
}

# Stations (linli.stations), inside each role's scope: front-line staff see the network and plan coverage;
# the community secretary, back office, street and district staff also edit their stations.
for _role, _caps in {
    Role.GRID_WORKER: {Capability.STATIONS_VIEW},
    Role.WINDOW_STAFF: {Capability.STATIONS_VIEW},
    Role.BACK_OFFICE: {Capability.STATIONS_VIEW, Capability.STATIONS_EDIT},
    Role.COMMUNITY_SECRETARY: {Capability.STATIONS_VIEW, Capability.STATIONS_EDIT},
    Role.STREET_STAFF: {Capability.STATIONS_VIEW, Capability.STATIONS_EDIT},
    Role.DISTRICT_STAFF: {Capability.STATIONS_VIEW, Capability.STATIONS_EDIT},
}.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps

# Bookings (linli.bookings), inside each role's scope: window staff, back office and the secretary run the
# desk (check-in, window records, slots, room approvals, tool loans); street and district staff oversee;
# grid workers (and the window, back office, secretary) file and carry out 代办 for residents.
for _role, _caps in {
    Role.GRID_WORKER: {Capability.BOOKINGS_AGENCY},
    Role.WINDOW_STAFF: {Capability.BOOKINGS_VIEW, Capability.BOOKINGS_MANAGE, Capability.BOOKINGS_AGENCY},
    Role.BACK_OFFICE: {Capability.BOOKINGS_VIEW, Capability.BOOKINGS_MANAGE, Capability.BOOKINGS_AGENCY},
    Role.COMMUNITY_SECRETARY: {
        Capability.BOOKINGS_VIEW,
        Capability.BOOKINGS_MANAGE,
        Capability.BOOKINGS_AGENCY,
    },
    Role.STREET_STAFF: {Capability.BOOKINGS_VIEW},
    Role.DISTRICT_STAFF: {Capability.BOOKINGS_VIEW},
}.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps

# People (linli.people), inside each role's scope. The care registry (分类分色, sensitive personal data under
# PIPL art. 28) is readable only by the roles that visit or run it: the grid worker (own grid), the back
# office and the community secretary (their community). Not window staff, unit handlers, auditors or the
# street and district levels (they get counts from dashboards, not records).
for _role, _caps in {
    Role.GRID_WORKER: {
        Capability.PEOPLE_EDIT,
        Capability.PEOPLE_EXPORT,
        Capability.CARE_VIEW,
        Capability.CARE_EDIT,
    },
    Role.BACK_OFFICE: {
        Capability.PEOPLE_EDIT,
        Capability.PEOPLE_EXPORT,
        Capability.CARE_VIEW,
        Capability.CARE_EDIT,
        Capability.STEWARDS_MANAGE,
    },
    Role.COMMUNITY_SECRETARY: {
        Capability.PEOPLE_EDIT,
        Capability.PEOPLE_EXPORT,
        Capability.CARE_VIEW,
        Capability.CARE_EDIT,
        Capability.STEWARDS_MANAGE,
    },
    Role.STREET_STAFF: {Capability.PEOPLE_EXPORT, Capability.STEWARDS_MANAGE},
    Role.DISTRICT_STAFF: {Capability.PEOPLE_EXPORT},
}.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps

# 一台账三清单 (linli.needs): front-line staff see the lists and file needs from visits and meetings; the
# back office, the secretary and street / district staff match resources, run projects and incubation.
for _role, _caps in {
    Role.GRID_WORKER: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT},
    Role.RED_STEWARD: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT},
    Role.WINDOW_STAFF: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT},
    Role.BACK_OFFICE: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT, Capability.NEEDS_MANAGE},
    Role.COMMUNITY_SECRETARY: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT, Capability.NEEDS_MANAGE},
    Role.STREET_STAFF: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT, Capability.NEEDS_MANAGE},
    Role.DISTRICT_STAFF: {Capability.NEEDS_VIEW, Capability.NEEDS_REPORT, Capability.NEEDS_MANAGE},
}.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps

# Patrols (linli.patrols), inside each role's scope (PI-3): grid workers record their own patrols and see
# their grid's coverage; only the community secretary and street staff read other workers' tracks.
# Party and volunteers (linli.party): the secretary runs check-ins and the hours ledger of the community.
for _role, _caps in {
    Role.GRID_WORKER: {Capability.PATROLS_RECORD, Capability.PATROLS_COVERAGE},
    Role.COMMUNITY_SECRETARY: {
        Capability.PATROLS_VIEW,
        Capability.PATROLS_COVERAGE,
        Capability.PARTY_VIEW,
        Capability.PARTY_MANAGE,
    },
    Role.STREET_STAFF: {Capability.PATROLS_VIEW, Capability.PATROLS_COVERAGE, Capability.PARTY_VIEW},
    Role.DISTRICT_STAFF: {Capability.PATROLS_COVERAGE, Capability.PARTY_VIEW},
    Role.BACK_OFFICE: {Capability.PARTY_VIEW},
}.items():
    ROLE_CAPABILITIES[_role] = ROLE_CAPABILITIES[_role] | _caps
