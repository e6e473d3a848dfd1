"""Write the demo district into the database, once.

Idempotent without any bookkeeping table: the rows themselves are the stamp. ``demo_load`` generates the
district (pure, under a second), computes its fingerprint, and compares it with the same fingerprint
computed from the rows under the district's code. Equal → nothing to do (only missing demo people are
added). Different → refuse, unless ``force``, which deletes the demo district and loads it again. So a
changed seed, size or generator can never be silently mixed with old rows.

Every polygon goes through ``region_create`` / ``grid_create`` (validation, path, bbox, area as everywhere
else) with ``bump_version=False``; buildings, which are bare points, are bulk-inserted with the fields
``region_create`` would compute (see ``_building_row``). The geometry version is bumped once at the end and
buildings are then assigned their grids by the locator, all inside one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q

from linli.accounts.models import Membership, Unit, User
from linli.places.demo.geography import (
    DEFAULT_SEED,
    FULL_SIZE,
    DemoDistrict,
    DemoRegion,
    DemoSize,
    fingerprint,
    generate_district,
    grid_fingerprint_row,
    region_fingerprint_row,
)
from linli.places.demo.people import demo_people, demo_people_load
from linli.places.models import Grid, Level, Region
from linli.places.services import buildings_assign_grids, geometry_version_bump, grid_create, region_create


class DemoError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DemoLoadResult:
    created: bool  # False: the same demo district was already there
    fingerprint: str
    regions: int
    grids: int
    units: int  # created by this run
    users: int  # created by this run
    seconds: float


def demo_load(*, seed: int = DEFAULT_SEED, size: DemoSize = FULL_SIZE, force: bool = False) -> DemoLoadResult:
    started = time.monotonic()
    district = generate_district(seed, size)  # pure and ~1 s: done before the transaction opens
    expected = district.fingerprint()
    try:
        return _load(district, expected, force=force, started=started)
    except IntegrityError as exc:
        # Two loads at once on PostgreSQL (SQLite queues them), or a non-demo row already using a demo
        # code or username: nothing was written, say so plainly.
        raise DemoError("demo_conflict", f"加载演示数据时与已有数据冲突,未写入任何数据:{exc}") from exc


def _load(district: DemoDistrict, expected: str, *, force: bool, started: float) -> DemoLoadResult:
    with transaction.atomic():
        existing = (
            Region.objects.select_for_update()
            .filter(code=district.district.code, level=Level.DISTRICT)
            .first()
        )
        if existing is not None and not force:
            if demo_stored_fingerprint(existing) != expected:
                raise DemoError(
                    "demo_conflict",
                    f"数据库中已有编码为 {existing.code} 的区,但与本次生成的演示数据不一致"
                    "(种子、规模或数据被修改过)。如需重建请使用 --force。",
                )
            units, users = demo_people_load(district)
            return DemoLoadResult(False, expected, 0, 0, units, users, time.monotonic() - started)
        if existing is not None:
            demo_delete(district=existing, usernames=[u.username for u in demo_people(district).users])
        regions, grids = _write_places(district)
        units, users = demo_people_load(district)
    return DemoLoadResult(True, expected, regions, grids, units, users, time.monotonic() - started)


def _write_places(district: DemoDistrict) -> tuple[int, int]:
    created: dict[str, Region] = {}
    for demo in district.regions():
        if demo.level == Level.BUILDING:
            continue
        created[demo.code] = region_create(
            parent=created[demo.parent_code] if demo.parent_code else None,
            level=demo.level,
            code=demo.code,
            name=demo.name,
            boundary=demo.boundary,
            point=demo.point,
            households=demo.households,
            population=demo.population,
            address=demo.address,
            bump_version=False,
        )
    Region.objects.bulk_create(
        [_building_row(demo, created[demo.parent_code or ""]) for demo in district.buildings], batch_size=500
    )
    for grid in district.grids:
        grid_create(
            community=created[grid.community_code],
            code=grid.code,
            name=grid.name,
            boundary=grid.boundary,
            households=grid.households,
            bump_version=False,
        )
    geometry_version_bump()
    buildings_assign_grids()
    return len(created) + len(district.buildings), len(district.grids)


def _building_row(demo: DemoRegion, estate: Region) -> Region:
    """A building row exactly as ``region_create(point=...)`` writes it, for one multi-row INSERT.

    Buildings are 80% of the rows; one ``region_create`` each costs three round trips (savepoint, insert,
    release), which is most of the load time on PostgreSQL. A point needs no parsing or projection: the
    path, the degenerate bounding box and the empty area below are all ``_apply_geometry`` computes for
    one, and a test compares such a row with one made by ``region_create``.
    """
    lat, lng = demo.point or (0.0, 0.0)
    return Region(
        parent=estate,
        level=Level.BUILDING,
        code=demo.code,
        name=demo.name,
        households=demo.households,
        population=demo.population,
        address=demo.address,
        path=f"{estate.path}{demo.code}/",
        boundary=None,
        lat=lat,
        lng=lng,
        min_lng=lng,
        max_lng=lng,
        min_lat=lat,
        max_lat=lat,
        area_m2=None,
    )


def demo_stored_fingerprint(district: Region) -> str:
    """The generator's fingerprint, computed from what is stored under ``district``."""
    region_rows = (
        region_fingerprint_row(
            level=level,
            code=code,
            parent_code=parent_code,
            name=name,
            boundary=boundary,
            point=(lat, lng) if level == Level.BUILDING else None,
            households=households,
            population=population,
            address=address,
        )
        for level, code, parent_code, name, boundary, lat, lng, households, population, address in (
            Region.objects.filter(path__startswith=district.path)
            .order_by()
            .values_list(
                "level",
                "code",
                "parent__code",
                "name",
                "boundary",
                "lat",
                "lng",
                "households",
                "population",
                "address",
            )
        )
    )
    grid_rows = (
        grid_fingerprint_row(
            code=code, community_code=community_code, name=name, boundary=boundary, households=households
        )
        for code, community_code, name, boundary, households in Grid.objects.filter(
            region_path__startswith=district.path
        )
        .order_by()
        .values_list("code", "community__code", "name", "boundary", "households")
    )
    return fingerprint(region_rows, grid_rows)


def demo_delete(*, district: Region, usernames: list[str]) -> None:
    """Remove a demo district with its units, demo users and memberships (for ``--force``).

    Anything else that points at these rows (cases, bookings ...) is protected: then nothing is deleted
    and the caller gets a clear error instead of a half-deleted district.
    """
    prefix = district.path
    try:
        with transaction.atomic():
            Membership.objects.filter(
                Q(region__path__startswith=prefix)
                | Q(grid__region_path__startswith=prefix)
                | Q(unit__region_path__startswith=prefix)
            ).delete()
            # Also grid workers of an older plan (another seed or size gives other grid codes).
            User.objects.filter(
                Q(username__in=usernames) | Q(username__startswith=f"gw-{district.code}")
            ).delete()
            Unit.objects.filter(region_path__startswith=prefix).delete()
            Region.objects.filter(path__startswith=prefix, level=Level.BUILDING).delete()
            Grid.objects.filter(region_path__startswith=prefix).delete()
            for level in (Level.ESTATE, Level.COMMUNITY, Level.STREET, Level.DISTRICT):
                Region.objects.filter(path__startswith=prefix, level=level).delete()
    except ProtectedError as exc:
        raise DemoError(
            "demo_in_use", f"演示区 {district.name} 已被其他数据引用(如工单),不能删除重建:{exc}"
        ) from exc
