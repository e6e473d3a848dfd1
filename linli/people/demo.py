"""Plausible register, care registry and stewards for the demo district, deterministic and idempotent.

``people_seed_demo()`` fills 建国门社区 (the first community of seed 000; others on request): every building gets
its households (the places demo already counts ~200 per grid), each household one to four residents with
generated names, ages, synthetic ID numbers (a random birth date and sequence with a correct GB 11643 check
character: they validate, but come from no record of any person) and phones, about 5% of residents on the
分类分色 care registry with a visit history (some overdue), and per grid the grid worker, red stewards for
its estates, a student and a part-time steward at different stages of recruitment.

Called by ``manage.py seed_demo`` after the places are loaded (about 4 s for 建国门社区's 1,600 households
and 4,100 residents); ``manage.py seed_demo_people --community 灵通社区`` adds more communities. Re-running
adds nothing to a community that already has households.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.people.models import (
    CareCategory,
    CareLevel,
    CareRecord,
    CareRecordEvent,
    CareVisit,
    Gender,
    Household,
    MoveKind,
    Registration,
    Relation,
    Resident,
    ResidentMove,
    Steward,
    StewardEvent,
    StewardKind,
    StewardStatus,
    VisitKind,
    tags_join,
)
from linli.people.selectors.care import care_next_due
from linli.places.demo import names
from linli.places.models import Grid, Level, Region
from linli.security import crypto
from linli.security.validation import id_check_character

SEED = 2027
COMMUNITIES = ("建国门社区",)  # seed_demo stays quick; more with manage.py seed_demo_people --community
AREA = "510703"  # 涪城区
CARE_SHARE = 0.05
BATCH = 1000


@dataclass(frozen=True)
class PeopleDemoResult:
    households: int
    residents: int
    care_records: int
    stewards: int
    seconds: float

    @property
    def message(self) -> str:
        if not self.households:
            return "演示居民登记已存在,未重复创建。"
        return (
            f"已生成演示居民登记:{self.households} 户、{self.residents} 人,关爱对象 {self.care_records} 人,"
            f"网格员与小管家 {self.stewards} 人(用时 {self.seconds:.1f} 秒)。"
        )


def _name(rng: random.Random) -> str:
    surname = names.SURNAMES[int(rng.random() * len(names.SURNAMES))]
    given = "".join(
        names.GIVEN_CHARS[int(rng.random() * len(names.GIVEN_CHARS))]
        for _ in range(1 if rng.random() < 0.3 else 2)
    )
    return surname + given


def synthetic_id(rng: random.Random, born: dt.date, gender: str, used: set[str]) -> str:
    """A generated 18-digit number with a correct check character (not taken from any real record), unique
    among ``used`` (blind indexes of the numbers already in the register or generated in this run)."""
    start = int(rng.random() * 500)
    for step in range(500):
        sequence = ((start + step) % 500) * 2 + (1 if gender == Gender.MALE else 0)  # odd = male (GB 11643)
        first17 = f"{AREA}{born:%Y%m%d}{sequence:03d}"
        number = first17 + id_check_character(first17)
        index = crypto.blind_index("id_number", number)
        if index not in used:
            used.add(index)
            return number
    raise RuntimeError("no free sequence number for this birth date")


def _phone(rng: random.Random) -> str:
    return f"13{int(rng.random() * 10)}{int(rng.random() * 1e8):08d}"


def _born(rng: random.Random, today: dt.date, low: float, high: float) -> dt.date:
    return today - dt.timedelta(days=int(rng.uniform(low, high) * 365.25))


def _household_people(
    rng: random.Random, today: dt.date
) -> list[tuple[str, str, dt.date]]:  # relation, gender, born
    """(relation, gender, born) of one household: a head, maybe a spouse, children, or an elder living alone."""
    roll = rng.random()
    head_gender = Gender.MALE if rng.random() < 0.55 else Gender.FEMALE
    other = Gender.FEMALE if head_gender == Gender.MALE else Gender.MALE
    if roll < 0.12:  # an elder living alone
        return [(Relation.HEAD, head_gender, _born(rng, today, 68, 95))]
    if roll < 0.30:  # an elderly couple
        age = rng.uniform(62, 88)
        return [
            (Relation.HEAD, head_gender, _born(rng, today, age, age + 1)),
            (Relation.SPOUSE, other, _born(rng, today, age - 4, age + 2)),
        ]
    age = rng.uniform(28, 58)
    people: list[tuple[str, str, dt.date]] = [(Relation.HEAD, head_gender, _born(rng, today, age, age + 1))]
    if rng.random() < 0.8:
        people.append((Relation.SPOUSE, other, _born(rng, today, age - 5, age + 3)))
    for _ in range(int(rng.random() * 3)):
        people.append(
            (
                Relation.CHILD,
                Gender.MALE if rng.random() < 0.5 else Gender.FEMALE,
                _born(rng, today, 1, min(age - 20, 30)),
            )
        )
    if rng.random() < 0.15:
        people.append((Relation.PARENT, Gender.FEMALE, _born(rng, today, age + 22, age + 30)))
    return people


def _tags(rng: random.Random, born: dt.date, today: dt.date) -> list[str]:
    tags = []
    age = (today - born).days // 365
    if age >= 18 and rng.random() < 0.09:
        tags.append("党员")
    if age >= 30 and rng.random() < 0.03:
        tags.append("退役军人")
    if 18 <= age < 75 and rng.random() < 0.05:
        tags.append("志愿者")
    return tags


def _worker_of(grid: Grid) -> User | None:
    membership = (
        Membership.objects.filter(grid=grid, role=Role.GRID_WORKER, is_active=True)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


def _seed_grid(
    grid: Grid, rng: random.Random, today: dt.date, now: dt.datetime, used: set[str]
) -> tuple[int, int, int, int]:
    buildings = list(Region.objects.filter(level=Level.BUILDING, grid=grid).order_by("path"))
    households = []
    for building in buildings:
        count = max(building.households, 1)
        units = 1 if count <= 12 else 2 if count <= 36 else 3
        per_unit = -(-count // units)
        for i in range(count):
            unit, n = divmod(i, per_unit)
            floor, door = divmod(n, 2)
            households.append(
                Household(
                    building=building,
                    unit_no=str(unit + 1),
                    room=f"{floor + 1}0{door + 1}",
                    grid_id=grid.pk,
                    region_path=building.path,
                )
            )
    Household.objects.bulk_create(households, batch_size=BATCH)
    residents = []
    for household in households:
        for relation, gender, born in _household_people(rng, today):
            registration = (
                Registration.HUKOU
                if rng.random() < 0.75
                else Registration.FLOATING
                if rng.random() < 0.6
                else Registration.TENANT
            )
            residents.append(
                Resident(
                    household=household,
                    name=_name(rng),
                    gender=gender,
                    birth_date=born,
                    id_kind="mainland_id",
                    id_number=synthetic_id(rng, born, gender, used),
                    phone=_phone(rng) if (today - born).days > 16 * 365 else "",
                    relation=relation,
                    registration=registration,
                    tags=tags_join(_tags(rng, born, today)),
                    moved_in_on=today - dt.timedelta(days=int(rng.uniform(30, 7000))),
                    grid_id=grid.pk,
                    region_path=household.region_path,
                )
            )
    Resident.objects.bulk_create(residents, batch_size=BATCH)
    ResidentMove.objects.bulk_create(
        [
            ResidentMove(
                resident=r,
                household=r.household,
                kind=MoveKind.IN,
                moved_on=r.moved_in_on,
                reason="演示数据",
                grid_id=grid.pk,
                region_path=r.region_path,
            )
            for r in residents
        ],
        batch_size=BATCH,
    )
    care = _seed_care(grid, residents, rng, today, now)
    stewards = _seed_stewards(grid, buildings, rng, now)
    return len(households), len(residents), care, stewards


def _seed_care(
    grid: Grid, residents: list[Resident], rng: random.Random, today: dt.date, now: dt.datetime
) -> int:
    categories = {c.code: c for c in CareCategory.objects.all()}
    levels = {lv.code: lv for lv in CareLevel.objects.all()}
    if not categories or not levels:
        return 0
    worker = _worker_of(grid)
    elders = [r for r in residents if r.birth_date and (today - r.birth_date).days > 70 * 365]
    children = [r for r in residents if r.birth_date and (today - r.birth_date).days < 14 * 365]
    wanted = max(3, int(len(residents) * CARE_SHARE))
    chosen = rng.sample(elders, min(len(elders), wanted * 3 // 4)) + rng.sample(
        children, min(len(children), wanted // 8)
    )
    records: list[CareRecord] = []
    picks: list[list[CareCategory]] = []
    for resident in chosen:
        age = (today - resident.birth_date).days // 365 if resident.birth_date else 0
        if age >= 18:
            codes = ["alone-elderly"] if resident.relation == Relation.HEAD and rng.random() < 0.5 else []
            if age >= 80:
                codes.append("advanced-age")
            codes += [
                c
                for c, p in (
                    ("disabled-elderly", 0.2),
                    ("serious-illness", 0.1),
                    ("subsistence", 0.15),
                    ("disability", 0.1),
                )
                if rng.random() < p
            ]
            codes = codes or ["advanced-age" if age >= 80 else "alone-elderly"]
        else:
            codes = ["left-behind-child" if rng.random() < 0.6 else "child-in-difficulty"]
        level = levels[
            "red"
            if ("disabled-elderly" in codes or "serious-illness" in codes)
            else "yellow"
            if rng.random() < 0.5
            else "green"
        ]
        picked = [categories[c] for c in dict.fromkeys(codes) if c in categories]
        record = CareRecord(
            resident=resident,
            level=level,
            worker=worker,
            opened_on=today - dt.timedelta(days=int(rng.uniform(120, 900))),
            legal_basis=";".join(f"{c.name}:{c.legal_basis}" for c in picked),
            legal_reference=";".join(dict.fromkeys(c.legal_reference for c in picked))[:400],
            situation="",
            grid_id=grid.pk,
            region_path=resident.region_path,
        )
        # The last visit: most on time, some overdue (the screens and the sweep have something to show).
        late = rng.random() < 0.2
        gap = level.visit_interval_days * (rng.uniform(1.1, 2.0) if late else rng.uniform(0.1, 0.9))
        record.last_visit_at = now - dt.timedelta(days=gap)
        record.next_visit_due = care_next_due(record)
        records.append(record)
        picks.append(picked)
    CareRecord.objects.bulk_create(records, batch_size=BATCH)
    Through = CareRecord.categories.through
    Through.objects.bulk_create(
        [
            Through(carerecord_id=r.pk, carecategory_id=c.pk)
            for r, picked in zip(records, picks, strict=True)
            for c in picked
        ]
    )
    CareRecordEvent.objects.bulk_create(
        [
            CareRecordEvent(
                record=r,
                action="open",
                to_value=f"{r.level.name} · {'、'.join(c.name for c in picked)}",
                note="演示数据",
            )
            for r, picked in zip(records, picks, strict=True)
        ]
    )
    visits = []
    notes = (
        "身体状况良好,生活能自理。",
        "提醒按时服药,已联系家属。",
        "反映楼道灯不亮,已上报。",
        "情绪稳定,需要代购生活用品。",
    )
    for record in records:
        at = record.last_visit_at or now
        for _ in range(3):
            visits.append(
                CareVisit(
                    record=record,
                    worker=worker,
                    kind=VisitKind.DOOR if rng.random() < 0.7 else VisitKind.PHONE,
                    visited_at=at,
                    notes=rng.choice(notes),
                    grid_id=grid.pk,
                    region_path=record.region_path,
                )
            )
            at -= dt.timedelta(days=record.level.visit_interval_days)
    CareVisit.objects.bulk_create(visits, batch_size=BATCH)
    return len(records)


def _steward(
    grid: Grid, kind: str, status: str, name: str, duty: str, phone: str, now: dt.datetime, **extra: object
) -> Steward:
    steward = Steward.objects.create(
        kind=kind,
        name=name,
        duty=duty,
        duty_phone=phone,
        community=grid.community,
        grid=grid,
        region_path=grid.community.path,
        status=status,
        status_changed_at=now,
        **extra,
    )
    StewardEvent.objects.create(
        steward=steward, action="apply", to_status=StewardStatus.APPLIED, note="演示数据"
    )
    if status != StewardStatus.APPLIED:
        StewardEvent.objects.create(
            steward=steward, action="vet", from_status=StewardStatus.APPLIED, to_status=StewardStatus.VETTED
        )
    if status == StewardStatus.ACTIVE:
        StewardEvent.objects.create(
            steward=steward,
            action="activate",
            from_status=StewardStatus.VETTED,
            to_status=StewardStatus.ACTIVE,
        )
    return steward


def _grid_worker_steward(grid: Grid, worker: User, rng: random.Random, now: dt.datetime) -> Steward:
    """The grid's worker on the 三亮 register: active, with a duty phone."""
    return _steward(
        grid,
        StewardKind.GRID_WORKER,
        StewardStatus.ACTIVE,
        worker.display_name or _name(rng),
        f"{grid.name}网格员:入户走访、巡查报事、代办服务",
        _phone(rng),
        now,
        user=worker,
        organisation=f"{grid.community.name}党委",
    )


def _seed_stewards(grid: Grid, buildings: list[Region], rng: random.Random, now: dt.datetime) -> int:
    count = 0
    worker = _worker_of(grid)
    if worker is not None:
        _grid_worker_steward(grid, worker, rng, now)
        count += 1
    by_estate: dict[int, list[Region]] = {}
    for building in buildings:
        by_estate.setdefault(building.parent_id or 0, []).append(building)
    for estate_buildings in by_estate.values():
        steward = _steward(
            grid,
            StewardKind.RED,
            StewardStatus.ACTIVE,
            _name(rng),
            "联系楼栋居民,收集诉求,协调物业上门",
            _phone(rng),
            now,
            organisation="小区党支部",
        )
        steward.buildings.set(estate_buildings)
        count += 1
    _steward(
        grid,
        StewardKind.STUDENT,
        StewardStatus.VETTED,
        _name(rng),
        "周末为老人教用智能手机",
        _phone(rng),
        now,
        organisation="西南科技大学",
    )
    _steward(
        grid,
        StewardKind.PART_TIME,
        StewardStatus.APPLIED,
        _name(rng),
        "送餐途中留意独居老人,发现异常及时报告",
        _phone(rng),
        now,
        organisation="美团外卖涪城站",
    )
    return count + 2


def _register_grid_workers(*, rng: random.Random, now: dt.datetime) -> int:
    """Every grid's worker on the 三亮 register with a duty phone, in the communities not seeded in full
    too: the building posters of the whole district show whom to call (the card, linli.cases.qr)."""
    registered = set(Steward.objects.filter(kind=StewardKind.GRID_WORKER).values_list("grid_id", flat=True))
    count = 0
    for grid in Grid.objects.exclude(pk__in=registered).select_related("community").order_by("code"):
        worker = _worker_of(grid)
        if worker is None or grid.community is None:
            continue
        with transaction.atomic():
            _grid_worker_steward(grid, worker, rng, now)
        count += 1
    return count


def people_seed_demo(*, communities: tuple[str, ...] = COMMUNITIES) -> PeopleDemoResult:
    started = time.perf_counter()
    today, now = timezone.localdate(), timezone.now()
    used = set(Resident.objects.exclude(id_number_index="").values_list("id_number_index", flat=True))
    totals = [0, 0, 0, 0]
    for name in communities:
        community = Region.objects.filter(level=Level.COMMUNITY, name=name).order_by("path").first()
        if community is None or Household.objects.filter(region_path__startswith=community.path).exists():
            continue
        # One stream per community: the same community always gets the same people, whatever else is seeded.
        rng = random.Random(f"{SEED}:{community.code}")  # noqa: S311 - reproducible demo data, not secrets
        with transaction.atomic():
            for grid in Grid.objects.filter(community=community).select_related("community").order_by("code"):
                for i, n in enumerate(_seed_grid(grid, rng, today, now, used)):
                    totals[i] += n
    totals[3] += _register_grid_workers(rng=random.Random(f"{SEED}:grid-workers"), now=now)  # noqa: S311
    households, residents, care, stewards = totals
    return PeopleDemoResult(households, residents, care, stewards, seconds=time.perf_counter() - started)
