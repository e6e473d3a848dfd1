"""Test data for cases: a small district with one user per role, known rules, and a submit helper.

Rules are (re)created by ``case_rules_ensure`` rather than relied on from the data migrations: a
transactional test elsewhere flushes the tables, and deadlines in tests must not depend on the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from linli.accounts.models import Unit, UnitKind, User
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.accounts.tests.factories import ResidentFactory, UserFactory, staff_with_role
from linli.cases.models import Case, Category, Channel, EscalationLevel, SlaPolicy, Status, StatusCategory
from linli.cases.services import case_submit
from linli.places.tests.factories import LAT0, LNG0, STEP, SmallDistrict, build_small_district
from linli.workdays.rules import calendar_invalidate

LADDER = [("estate", "小区", 10), ("community", "社区", 20), ("street", "街道", 30), ("district", "区", 40)]
CATEGORIES = [
    ("city", "市容环境", None, "complaint"),
    ("city.litter", "暴露垃圾", "city", "complaint"),
    ("road", "路灯/井盖/道路", None, "complaint"),
    ("road.manhole", "井盖缺失", "road", "complaint"),
    ("road.streetlight", "路灯不亮", "road", "complaint"),
    ("general", "综合", None, "inquiry"),
    ("general.other", "其他事项", "general", "inquiry"),
]


def case_rules_ensure() -> None:
    """The ladder, a few categories, and exactly one catch-all SLA policy (4 h / 4 h / 5 working days)."""
    for code, name, rank in LADDER:
        EscalationLevel.objects.update_or_create(
            code=code, defaults={"name": name, "rank": rank, "is_active": True}
        )
    for code, name, parent, kind in CATEGORIES:
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": Category.objects.get(code=parent) if parent else None,
                "default_kind": kind,
                "is_active": True,
            },
        )
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(
        triage_hours=Decimal(4), accept_hours=Decimal(4), resolve_amount=Decimal(5), resolve_unit="days"
    )
    calendar_invalidate()


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def grid_point(d: SmallDistrict, index: int, *, in_estate: bool = True) -> tuple[float, float]:
    """(lat, lng) inside grid ``index``; inside its estate or in the grid but outside any estate."""
    gx = LNG0 + index * STEP
    if in_estate:
        return (LAT0 + 0.005, gx + 0.005)
    return (LAT0 + 0.0005, gx + 0.0005)


@dataclass
class World:
    d: SmallDistrict
    resident: User
    resident2: User
    secretary0: User  # community 0 (street 0): triage, assign, supervise, review
    secretary1: User  # community 1 (street 0)
    secretary2: User  # community 2 (street 1)
    back_office0: User  # community 0: triage, assign, handle
    window0: User  # community 0: intake only
    street0: User
    street1: User
    district_staff: User
    grid0: User  # grid worker of grid 0 (community 0)
    grid1: User  # grid worker of grid 1 (community 0)
    grid2: User  # grid worker of grid 2 (community 1)
    unit0: Unit  # property company of community 0
    unit1: Unit  # property company of community 1
    handler0: User  # unit0's handler
    handler1: User  # unit1's handler
    auditor: User
    admin: User

    def staff(self) -> list[User]:
        return [
            self.secretary0,
            self.secretary1,
            self.secretary2,
            self.back_office0,
            self.window0,
            self.street0,
            self.street1,
            self.district_staff,
            self.grid0,
            self.grid1,
            self.grid2,
            self.handler0,
            self.handler1,
            self.auditor,
            self.admin,
        ]


def build_world(d: SmallDistrict | None = None) -> World:
    d = d or build_small_district()
    case_rules_ensure()
    handler0 = staff_with_role(Role.UNIT_HANDLER, district=d, index=0, username="handler0")
    handler1 = staff_with_role(Role.UNIT_HANDLER, district=d, index=1, username="handler1")
    return World(
        d=d,
        resident=ResidentFactory(),
        resident2=ResidentFactory(),
        secretary0=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=0),
        secretary1=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=1),
        secretary2=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=2),
        back_office0=staff_with_role(Role.BACK_OFFICE, district=d, index=0),
        window0=staff_with_role(Role.WINDOW_STAFF, district=d, index=0),
        street0=staff_with_role(Role.STREET_STAFF, district=d, index=0),
        street1=staff_with_role(Role.STREET_STAFF, district=d, index=1),
        district_staff=staff_with_role(Role.DISTRICT_STAFF, district=d, index=0),
        grid0=staff_with_role(Role.GRID_WORKER, district=d, index=0),
        grid1=staff_with_role(Role.GRID_WORKER, district=d, index=1),
        grid2=staff_with_role(Role.GRID_WORKER, district=d, index=2),
        unit0=Unit.objects.get(name="测试物业0"),
        unit1=Unit.objects.get(name="测试物业1"),
        handler0=handler0,
        handler1=handler1,
        auditor=staff_with_role(Role.AUDITOR, district=d, index=0),
        admin=staff_with_role(Role.ADMIN, district=d, index=0),
    )


def unit_make(d: SmallDistrict, *, name: str, community_index: int = 0) -> tuple[Unit, User]:
    community = d.communities[community_index]
    unit = Unit.objects.create(
        name=name, kind=UnitKind.DEPARTMENT, region=community, region_path=community.path
    )
    user = UserFactory(username=f"h-{name}")
    membership_grant(user=user, role=Role.UNIT_HANDLER, unit_id=unit.id)
    return unit, user


def submit(
    w: World,
    *,
    grid: int = 0,
    in_estate: bool = True,
    reporter: User | None = None,
    now: datetime | None = None,
    **kw: Any,
) -> Case:
    lat, lng = grid_point(w.d, grid, in_estate=in_estate)
    fields: dict[str, Any] = {
        "text": "小区门口垃圾堆了三天没人清运",
        "channel": Channel.RESIDENT,
        "reporter": reporter or w.resident,
        "category_id": category("city.litter").pk,
        "lat": lat,
        "lng": lng,
    }
    fields.update(kw)
    if now is not None:
        fields["now"] = now
    return case_submit(**fields).case


def force_state(case: Case, status: str, **fields: Any) -> Case:
    """Put a case into a state directly (tests only: the table test needs every status as a start)."""
    from linli.cases.models import STATUS_INFO

    Case.objects.filter(pk=case.pk).update(
        status=status, status_category=STATUS_INFO[status].category, **fields
    )
    case.refresh_from_db()
    return case


__all__ = ["Status", "StatusCategory"]
