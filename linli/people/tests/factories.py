"""Test data for people: synthetic ID numbers, a small populated district, and register spreadsheets.

``synthetic_ids(n)`` makes valid-checksum 18-digit numbers from a seeded generator (never real records);
``build_people(d)`` puts households, residents, care records and stewards in every grid of a
``SmallDistrict`` and one user per role; ``register_rows`` / ``register_xlsx`` write import files of any
size (the 10,000-row import test uses them).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.people.models import CareCategory, CareLevel, CareRecord, Household, Resident, Steward, StewardKind
from linli.people.services import (
    care_record_open,
    household_get_or_create,
    resident_move_in,
    steward_buildings_set,
    steward_register,
    steward_transition,
)
from linli.places.tests.factories import SmallDistrict
from linli.security.validation import id_check_character

AREAS = ("110101", "310104", "440305", "510703", "420106", "330106")
HEADER = [
    "楼栋编码",
    "单元",
    "房号",
    "姓名",
    "性别",
    "出生日期",
    "证件号码",
    "联系电话",
    "与户主关系",
    "户籍类型",
    "标签",
    "迁入日期",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建华国明丽芳军强平红英伟敏静杰磊燕霞勇涛"


def synthetic_id(
    rng: random.Random, *, born: dt.date | None = None, male: bool | None = None, area: str | None = None
) -> str:
    born = born or dt.date(1930, 1, 1) + dt.timedelta(days=int(rng.random() * 30000))
    male = rng.random() < 0.5 if male is None else male
    sequence = int(rng.random() * 500) * 2 + (1 if male else 0)
    first17 = f"{area or rng.choice(AREAS)}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def synthetic_ids(n: int, *, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        out[synthetic_id(rng)] = None
    return list(out)


def synthetic_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{int(rng.random() * 1e9):09d}"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))


def care_config_ensure() -> None:
    """The seeded categories and levels (a transactional test elsewhere may have flushed them)."""
    from importlib import import_module

    seed = import_module("linli.people.migrations.0002_seed_care_categories_levels")
    for code, name, description, basis, reference, sort in seed.CATEGORIES:
        CareCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "legal_basis": basis,
                "legal_reference": reference,
                "sort_order": sort,
            },
        )
    for code, name, days, description, sort in seed.LEVELS:
        CareLevel.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "visit_interval_days": days,
                "description": description,
                "sort_order": sort,
            },
        )


@dataclass
class People:
    d: SmallDistrict
    users: dict[str, User] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)  # one per building (16)
    residents: list[Resident] = field(default_factory=list)  # two per household (32)
    care: list[CareRecord] = field(default_factory=list)  # one per grid (8)
    stewards: list[Steward] = field(
        default_factory=list
    )  # per grid: one active (with buildings), one applied

    def grid_of(self, obj: Any) -> int:
        return next(i for i, g in enumerate(self.d.grids) if g.pk == obj.grid_id)


def build_people(d: SmallDistrict, *, seed: int = 11) -> People:
    rng = random.Random(seed)
    care_config_ensure()
    w = People(d)
    for i in range(len(d.grids)):
        w.users[f"grid{i}"] = staff_with_role(Role.GRID_WORKER, district=d, index=i, username=f"gw{i}")
    for i in range(len(d.communities)):
        w.users[f"secretary{i}"] = staff_with_role(
            Role.COMMUNITY_SECRETARY, district=d, index=i, username=f"sec{i}"
        )
    for role, key in (
        (Role.BACK_OFFICE, "back_office0"),
        (Role.WINDOW_STAFF, "window0"),
        (Role.UNIT_HANDLER, "handler0"),
        (Role.AUDITOR, "auditor"),
        (Role.STREET_STAFF, "street0"),
        (Role.RED_STEWARD, "red_steward0"),
        (Role.ADMIN, "admin"),
    ):
        w.users[key] = staff_with_role(role, district=d, index=0, username=key)
    w.users["street1"] = staff_with_role(Role.STREET_STAFF, district=d, index=1, username="street1")
    ids = iter(synthetic_ids(64, seed=seed))
    for b, building in enumerate(d.buildings):
        household, _ = household_get_or_create(building=building, unit_no="1", room=f"{b + 1}01")
        w.households.append(household)
        for relation in ("head", "spouse"):
            w.residents.append(
                resident_move_in(
                    actor=None,
                    household=household,
                    name=person_name(rng),
                    id_number=next(ids),
                    phone=synthetic_phone(rng),
                    relation=relation,
                    tags=["党员"] if b % 3 == 0 else [],
                    moved_on=dt.date(2020, 1, 1),
                )
            )
    categories = list(
        CareCategory.objects.filter(code__in=["alone-elderly", "advanced-age"]).values_list("pk", flat=True)
    )
    for g, grid in enumerate(d.grids):
        resident = next(r for r in w.residents if r.grid_id == grid.pk)
        w.care.append(
            care_record_open(
                actor=w.users[f"grid{g}"],
                resident=resident,
                category_ids=categories,
                level_code="red",
                worker=w.users[f"grid{g}"],
                situation="独居,行动不便",
                opened_on=dt.date(2024, 1, 1),
            )
        )
        active = steward_register(
            actor=None,
            kind=StewardKind.RED,
            name=f"{'赵钱孙李周吴郑王'[g]}{'一二三四五六七八'[g]}管家",
            community=grid.community,
            grid=grid,
            duty="联系楼栋居民,收集诉求",
            duty_phone=f"1390000{g:04d}",
        )
        for action in ("vet", "activate"):
            steward_transition(steward_id=active.pk, action=action, actor=None)
        steward_buildings_set(
            steward_id=active.pk, building_ids=[b.pk for b in d.buildings if b.grid_id == grid.pk]
        )
        applied = steward_register(
            actor=None,
            kind=StewardKind.PART_TIME,
            name=f"候选{'甲乙丙丁戊己庚辛'[g]}",
            community=grid.community,
            grid=grid,
            duty="送餐途中留意独居老人",
            duty_phone=f"1380000{g:04d}",
        )
        w.stewards += [Steward.objects.get(pk=active.pk), applied]
    return w


# --- spreadsheets -------------------------------------------------------------------------------
def register_rows(
    n: int, building_codes: Sequence[str], *, seed: int = 3, start_room: int = 0
) -> list[list[Any]]:
    """``n`` valid register rows spread over the buildings (about three people per room)."""
    rng = random.Random(seed)
    ids = synthetic_ids(n, seed=seed)
    rows = []
    for i in range(n):
        room = start_room + i // 3
        rows.append(
            [
                building_codes[room % len(building_codes)],
                str(1 + room % 3),
                f"{100 + room // len(building_codes)}",
                person_name(rng),
                "",
                "",
                ids[i],
                synthetic_phone(rng) if rng.random() < 0.8 else "",
                "户主" if i % 3 == 0 else "配偶" if i % 3 == 1 else "子女",
                rng.choice(["户籍", "流动", "租住"]),
                "党员" if rng.random() < 0.1 else "",
                "2023-05-01",
            ]
        )
    return rows


def register_xlsx(rows: Iterable[Sequence[Any]], *, header: Sequence[str] = HEADER) -> bytes:
    """An .xlsx with ``header`` and ``rows`` as given: str cells stay text, int/float cells are numbers,
    strings starting with "=" become formulas (openpyxl writes them as such)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_cells(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
