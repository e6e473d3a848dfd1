"""Demo responsible units and one demo login for every role, anchored where that role really works.

``demo_people(district)`` is the plan (pure); ``demo_people_load(district)`` writes whatever of it is
missing. All staff share ``settings.LINLI_DEMO_PASSWORD``; the demo resident signs in by SMS code (the
console SMS backend writes the code to the server log), so that account has no usable password.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password

from linli.accounts.models import Unit, UnitKind, User, UserKind
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.places.demo import names
from linli.places.demo.geography import DemoDistrict
from linli.places.models import Grid, Region

RESIDENT_PHONE = "13900000001"
# Never derived from the phone: usernames are shown and logged where phones are masked.
RESIDENT_USERNAME = "resident"
ESTATES_PER_PROPERTY_COMPANY = 6
ANCHOR_GLOBAL, ANCHOR_REGION, ANCHOR_GRID, ANCHOR_UNIT = "global", "region", "grid", "unit"

# (username, role, where it is anchored in words) for the login table; the anchors are the first street,
# the first community (建国门社区, always first by construction) and its first grid.
_FIRST_COMMUNITY = names.LEAD_COMMUNITIES[0]
STAFF_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("district_admin", Role.ADMIN, "全区"),
    ("district_staff", Role.DISTRICT_STAFF, names.DISTRICT_NAME),
    ("auditor", Role.AUDITOR, names.DISTRICT_NAME),
    ("security_admin", Role.SECURITY_ADMIN, "全区"),
    ("street_staff", Role.STREET_STAFF, names.STREET_NAMES[0]),
    ("secretary", Role.COMMUNITY_SECRETARY, _FIRST_COMMUNITY),
    ("window", Role.WINDOW_STAFF, _FIRST_COMMUNITY),
    ("backoffice", Role.BACK_OFFICE, _FIRST_COMMUNITY),
    ("gridworker", Role.GRID_WORKER, f"{_FIRST_COMMUNITY}第1网格"),
    ("steward", Role.RED_STEWARD, f"{_FIRST_COMMUNITY}的小区"),
    ("unit_handler", Role.UNIT_HANDLER, "区城管局"),
    ("property_handler", Role.UNIT_HANDLER, "物业公司"),
)


@dataclass(frozen=True)
class DemoUnit:
    name: str
    kind: str
    region_code: str
    phone: str
    estate_codes: tuple[str, ...] = ()  # property companies: the estates they manage


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    anchor_kind: str
    anchor: str  # a region code, a grid code, a unit name, or "" for global
    phone: str = ""

    @property
    def is_resident(self) -> bool:
        return self.role == Role.RESIDENT


@dataclass(frozen=True)
class DemoPeople:
    units: tuple[DemoUnit, ...]
    users: tuple[DemoUser, ...]


def _person_name(rng: random.Random) -> str:
    # Only random() is used, for the same cross-version guarantee as the geography.
    surname = names.SURNAMES[int(rng.random() * len(names.SURNAMES))]
    given = "".join(
        names.GIVEN_CHARS[int(rng.random() * len(names.GIVEN_CHARS))]
        for _ in range(1 if rng.random() < 0.35 else 2)
    )
    return surname + given


def demo_people(district: DemoDistrict) -> DemoPeople:
    rng = random.Random(district.seed + 1)  # noqa: S311 - reproducible demo data, not secrets
    phone = iter(f"0816-2{int(rng.random() * 1e6):06d}" for _ in range(10_000))
    d = district.district
    units = [DemoUnit(n, UnitKind.DEPARTMENT, d.code, next(phone)) for n in names.DEPARTMENTS]
    units += [DemoUnit(n, UnitKind.UTILITY, d.code, next(phone)) for n in names.UTILITIES]

    # Property companies: each manages a run of neighbouring estates inside one community.
    company_names = [
        f"绵阳{brand}{suffix}"
        for suffix in ("物业服务有限公司", "物业管理有限公司", "物业服务中心", "物业")
        for brand in names.PROPERTY_BRANDS
    ]
    companies: list[DemoUnit] = []
    for community in district.communities:
        estates = [e.code for e in district.estates if e.parent_code == community.code]
        for start in range(0, len(estates), ESTATES_PER_PROPERTY_COMPANY):
            i = len(companies)
            name = company_names[i % len(company_names)] + (
                "" if i < len(company_names) else f"{i // len(company_names) + 1}分公司"
            )
            run = tuple(estates[start : start + ESTATES_PER_PROPERTY_COMPANY])
            companies.append(DemoUnit(name, UnitKind.PROPERTY, community.code, next(phone), run))
    units += companies

    first_community = district.communities[0]
    first_grid = next(g for g in district.grids if g.community_code == first_community.code)
    first_estate = next(e for e in district.estates if e.parent_code == first_community.code)
    first_company = next(c for c in companies if first_estate.code in c.estate_codes)
    anchors = {
        "district_admin": (ANCHOR_GLOBAL, ""),
        "district_staff": (ANCHOR_REGION, d.code),
        "auditor": (ANCHOR_REGION, d.code),
        "security_admin": (ANCHOR_GLOBAL, ""),
        "street_staff": (ANCHOR_REGION, district.streets[0].code),
        "secretary": (ANCHOR_REGION, first_community.code),
        "window": (ANCHOR_REGION, first_community.code),
        "backoffice": (ANCHOR_REGION, first_community.code),
        "gridworker": (ANCHOR_GRID, first_grid.code),
        "steward": (ANCHOR_REGION, first_estate.code),
        "unit_handler": (ANCHOR_UNIT, "区城管局"),
        "property_handler": (ANCHOR_UNIT, first_company.name),
    }
    users = [
        DemoUser(username, _person_name(rng), role, *anchors[username]) for username, role, _ in STAFF_LOGINS
    ]
    users.append(
        DemoUser(
            RESIDENT_USERNAME,
            _person_name(rng),
            Role.RESIDENT,
            ANCHOR_REGION,
            first_estate.code,
            phone=RESIDENT_PHONE,
        )
    )
    users += [
        DemoUser(f"gw-{g.code}", _person_name(rng), Role.GRID_WORKER, ANCHOR_GRID, g.code)
        for g in district.grids
    ]
    return DemoPeople(units=tuple(units), users=tuple(users))


def demo_logins() -> list[tuple[str, str, str]]:
    """(role in Chinese, what to type as the login, password or how to sign in) for every role."""
    password = settings.LINLI_DEMO_PASSWORD
    rows = [(f"{Role(role).label}({where})", username, password) for username, role, where in STAFF_LOGINS]
    rows.append((str(Role.RESIDENT.label), RESIDENT_PHONE, "短信验证码登录(验证码见服务器日志)"))
    return rows


def demo_people_load(district: DemoDistrict) -> tuple[int, int]:
    """Create the plan's missing units, users and their memberships. Returns (units, users) created.

    Runs inside the caller's transaction. Users are bulk-created with ONE password hash computed once:
    PBKDF2 at Django's work factor costs ~0.3 s per call, so hashing per user would make 280 grid workers
    take minutes; every demo staff account shares the same published password anyway, so a shared salt
    reveals nothing that the README does not.
    """
    plan = demo_people(district)
    prefix = f"/{district.district.code}/"
    units_created = _units_ensure(plan.units, prefix)
    existing = set(
        User.objects.filter(username__in=[u.username for u in plan.users]).values_list("username", flat=True)
    )
    missing = [u for u in plan.users if u.username not in existing]
    if not missing:
        return units_created, 0
    # Someone may already have signed in with the demo phone by SMS: reuse that resident account.
    # Phones are encrypted at rest; they are found through their blind index, one phone at a time.
    taken_phones: dict[str, str] = {}
    for demo in missing:
        owner = User.objects.filter(phone_index__matches=demo.phone).first() if demo.phone else None
        if owner is not None:
            taken_phones[demo.phone] = owner.username
    staff_hash = make_password(settings.LINLI_DEMO_PASSWORD)
    rows = []
    for demo in missing:
        if demo.phone in taken_phones:
            continue
        user = User(
            username=demo.username,
            display_name=demo.display_name,
            phone=demo.phone,
            kind=UserKind.RESIDENT if demo.is_resident else UserKind.STAFF,
        )
        if demo.is_resident:
            user.set_unusable_password()  # residents sign in with an SMS code only
        else:
            user.password = staff_hash
        if demo.role == Role.ADMIN:
            # The README promises the demo admin the Django admin; seed_demo refuses to run in production.
            user.is_staff = user.is_superuser = True
        rows.append(user)
    User.objects.bulk_create(rows, batch_size=500)

    wanted = {u.username for u in missing} | set(taken_phones.values())
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    region_codes = {u.anchor for u in missing if u.anchor_kind == ANCHOR_REGION}
    region_ids = dict(Region.objects.filter(code__in=region_codes).values_list("code", "id"))
    grid_ids = dict(Grid.objects.filter(region_path__startswith=prefix).values_list("code", "id"))
    unit_ids = dict(Unit.objects.filter(region_path__startswith=prefix).values_list("name", "id"))
    for demo in missing:
        user = users[taken_phones.get(demo.phone, demo.username)]
        if demo.is_resident and user.kind != UserKind.RESIDENT:
            continue
        if demo.anchor_kind == ANCHOR_REGION:
            membership_grant(user=user, role=demo.role, region_id=region_ids[demo.anchor])
        elif demo.anchor_kind == ANCHOR_GRID:
            membership_grant(user=user, role=demo.role, grid_id=grid_ids[demo.anchor])
        elif demo.anchor_kind == ANCHOR_UNIT:
            membership_grant(user=user, role=demo.role, unit_id=unit_ids[demo.anchor])
        else:
            membership_grant(user=user, role=demo.role)
    return units_created, len(rows)


def _units_ensure(units: tuple[DemoUnit, ...], prefix: str) -> int:
    """Bulk-create the units not there yet (accounts has no unit service yet; these are plain rows)."""
    existing = set(Unit.objects.filter(region_path__startswith=prefix).values_list("name", flat=True))
    regions = {
        code: (pk, path)
        for code, pk, path in Region.objects.filter(code__in={u.region_code for u in units}).values_list(
            "code", "id", "path"
        )
    }
    rows = [
        Unit(
            name=u.name,
            kind=u.kind,
            region_id=regions[u.region_code][0],
            region_path=regions[u.region_code][1],
            phone=u.phone,
        )
        for u in units
        if u.name not in existing
    ]
    Unit.objects.bulk_create(rows, batch_size=500)
    return len(rows)
