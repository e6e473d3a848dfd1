"""The demo district: its geometry tiles exactly, it is the same every run, and it loads once."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
import shapely
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from shapely import STRtree
from shapely.geometry import Point, shape

from linli.accounts.models import Membership, Unit, User, UserKind
from linli.accounts.roles import Role
from linli.places.demo.geography import (
    SMALL_SIZE,
    DemoDistrict,
    DemoRegion,
    generate_district,
)
from linli.places.demo.loader import DemoError, demo_load, demo_stored_fingerprint
from linli.places.demo.people import RESIDENT_PHONE, STAFF_LOGINS, demo_logins
from linli.places.geometry import summarize
from linli.places.locator import get_locator
from linli.places.models import Grid, Level, Region
from linli.places.services import region_create

TOLERANCE = 1e-9  # deg²; about 0.01 m²


@pytest.fixture(scope="module")
def full() -> DemoDistrict:
    return generate_district()


def _children(parent: DemoRegion, children: Any) -> list[Any]:
    code = parent.code
    return [
        c
        for c in children
        if getattr(c, "parent_code", None) == code or getattr(c, "community_code", None) == code
    ]


def assert_tiles(parent: DemoRegion, children: list[Any]) -> None:
    whole = shape(parent.boundary)
    parts = [shape(c.boundary) for c in children]
    assert parts, f"{parent.name} has no children"
    assert all(p.geom_type == "Polygon" and p.is_valid for p in parts)
    assert shapely.symmetric_difference(shapely.union_all(parts), whole).area < TOLERANCE
    assert abs(sum(p.area for p in parts) - whole.area) < TOLERANCE
    left, right = STRtree(parts).query(parts, predicate="intersects")
    overlaps = [
        shapely.intersection(parts[i], parts[j]).area for i, j in zip(left, right, strict=True) if i < j
    ]
    assert max(overlaps, default=0.0) < TOLERANCE


def assert_nested(d: DemoDistrict) -> None:
    assert_tiles(d.district, list(d.streets))
    for street in d.streets:
        assert_tiles(street, _children(street, d.communities))
    for community in d.communities:
        assert_tiles(community, _children(community, d.grids))
    communities = {c.code: shape(c.boundary) for c in d.communities}
    estates = {e.code: shape(e.boundary) for e in d.estates}
    for estate in d.estates:
        assert estates[estate.code].geom_type == "Polygon"
        assert communities[estate.parent_code].contains(estates[estate.code])
    for building in d.buildings:
        lat, lng = building.point  # type: ignore[misc]
        assert estates[building.parent_code].contains(Point(lng, lat))


@pytest.mark.slow
def test_full_district_has_the_required_sizes(full: DemoDistrict) -> None:
    assert len(full.streets) == 4
    assert len(full.communities) == 33
    assert 250 <= len(full.grids) <= 290
    assert 550 <= len(full.estates) <= 650
    assert 2400 <= len(full.buildings) <= 2800
    assert all(150 <= g.households <= 250 for g in full.grids)
    area_km2 = summarize(shape(full.district.boundary)).area_m2 / 1e6
    assert 55 <= area_km2 <= 65
    centre = shape(full.district.boundary).centroid
    assert abs(centre.y - 31.468) < 0.01 and abs(centre.x - 104.679) < 0.01
    assert [s.name for s in full.streets] == ["城厢街道", "工区街道", "朝阳街道", "城郊街道"]
    assert full.communities[0].name == "建国门社区"
    assert "灵通社区" in {c.name for c in full.communities}


@pytest.mark.slow
def test_full_district_polygons_tile_their_parents_exactly(full: DemoDistrict) -> None:
    assert_nested(full)


def test_small_district_polygons_tile_their_parents_exactly() -> None:
    d = generate_district(size=SMALL_SIZE)
    assert (len(d.streets), len(d.communities), len(d.grids)) == (2, 4, 8)
    assert_nested(d)


@pytest.mark.slow
def test_district_outline_is_irregular_not_a_rectangle(full: DemoDistrict) -> None:
    outline = shape(full.district.boundary)
    assert len(outline.exterior.coords) > 20
    assert outline.area / outline.envelope.area < 0.9


@pytest.mark.slow
def test_codes_are_unique_hierarchical_and_slash_free(full: DemoDistrict) -> None:
    regions = full.regions()
    codes = [r.code for r in regions]
    assert len(set(codes)) == len(codes)
    assert len({g.code for g in full.grids}) == len(full.grids)
    assert all("/" not in c for c in [*codes, *(g.code for g in full.grids)])
    assert all(r.code.startswith(r.parent_code) for r in regions if r.parent_code)
    assert all(g.code.startswith(g.community_code) for g in full.grids)
    assert full.district.code == "510703"
    assert [s.code for s in full.streets] == ["510703001", "510703002", "510703003", "510703004"]


@pytest.mark.slow
def test_households_add_up_from_buildings_to_the_district(full: DemoDistrict) -> None:
    by_parent: Counter[str] = Counter()
    for b in full.buildings:
        by_parent[b.parent_code or ""] += b.households
    assert all(e.households == by_parent[e.code] for e in full.estates)
    assert sum(g.households for g in full.grids) == full.district.households
    assert sum(s.households for s in full.streets) == full.district.households


@pytest.mark.slow
def test_generation_is_the_same_every_run(full: DemoDistrict) -> None:
    again = generate_district()
    assert again == full
    assert again.fingerprint() == full.fingerprint()


def test_a_different_seed_gives_a_different_district() -> None:
    one = generate_district(seed=1, size=SMALL_SIZE)
    assert generate_district(seed=1, size=SMALL_SIZE) == one
    assert generate_district(seed=2, size=SMALL_SIZE).fingerprint() != one.fingerprint()


def test_every_role_has_a_demo_login() -> None:
    rows = demo_logins()
    labels = " ".join(label for label, _, _ in rows)
    assert all(str(role.label) in labels for role in Role)
    resident = next(r for r in rows if r[0] == str(Role.RESIDENT.label))
    assert resident[1] == RESIDENT_PHONE and "短信验证码" in resident[2]
    assert all(pw == settings.LINLI_DEMO_PASSWORD for _label, login, pw in rows if login != RESIDENT_PHONE)


# --- the database load (small size: the full load takes ~30 s and is timed by hand, see the report) ---
@pytest.fixture
def fast_hashing(settings: Any) -> None:
    """PBKDF2 costs ~0.5 s per hash; tests that do not sign in do not need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Region.objects.count(),
        Grid.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )


@pytest.mark.django_db
def test_small_demo_loads_once_and_a_second_run_changes_nothing(fast_hashing: None) -> None:
    first = demo_load(size=SMALL_SIZE)
    assert first.created and first.grids == 8
    before = _counts()
    updated_at = list(Region.objects.order_by("id").values_list("updated_at", flat=True))

    second = demo_load(size=SMALL_SIZE)

    assert not second.created and (second.units, second.users) == (0, 0)
    assert _counts() == before
    assert list(Region.objects.order_by("id").values_list("updated_at", flat=True)) == updated_at
    district = Region.objects.get(code="510703")
    assert demo_stored_fingerprint(district) == first.fingerprint


@pytest.mark.django_db
def test_bulk_inserted_buildings_match_what_region_create_writes(fast_hashing: None) -> None:
    demo_load(size=SMALL_SIZE)
    bulk = Region.objects.filter(level=Level.BUILDING).select_related("parent").first()
    assert bulk is not None and bulk.parent is not None

    made = region_create(
        parent=bulk.parent,
        level=Level.BUILDING,
        code="X" + bulk.code,
        name=bulk.name,
        point=(bulk.lat, bulk.lng),  # type: ignore[arg-type]
        bump_version=False,
    )

    fields = ["boundary", "lat", "lng", "min_lng", "min_lat", "max_lng", "max_lat", "area_m2", "level"]
    assert [getattr(made, f) for f in fields] == [getattr(bulk, f) for f in fields]
    assert made.path == bulk.path.replace(f"/{bulk.code}/", f"/X{bulk.code}/")


@pytest.mark.django_db
def test_every_grid_is_found_by_its_own_point_and_every_building_has_its_grid(fast_hashing: None) -> None:
    demo_load(size=SMALL_SIZE)
    locator = get_locator()
    for grid in Grid.objects.all():
        location = locator.locate(grid.lat, grid.lng)  # type: ignore[arg-type]
        assert location.grid.id == grid.id and not location.snapped
        assert location.community.id == grid.community_id
    buildings = Region.objects.filter(level=Level.BUILDING)
    assert buildings.count() == 40
    assert not buildings.filter(grid__isnull=True).exists()
    for building in buildings.select_related("grid", "parent"):
        assert building.grid is not None
        assert building.grid.community_id == building.parent.parent_id  # type: ignore[union-attr]
        assert shape(building.grid.boundary).contains(Point(building.lng, building.lat))


@pytest.mark.django_db
def test_demo_people_sign_in_as_their_roles_where_they_work() -> None:
    demo_load(size=SMALL_SIZE)

    # Real PBKDF2 here: two sign-ins prove the shared hash works; comparing hashes covers the rest.
    assert authenticate(username="secretary", password=settings.LINLI_DEMO_PASSWORD) is not None
    assert authenticate(username="gw-510703001001001", password=settings.LINLI_DEMO_PASSWORD) is not None
    assert authenticate(username="secretary", password="wrong-password") is None
    admin = User.objects.get(username="district_admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(pk=admin.pk).exists()
    staff = User.objects.filter(kind=UserKind.STAFF)
    assert staff.count() == len(STAFF_LOGINS) + Grid.objects.count()
    assert len(set(staff.values_list("password", flat=True))) == 1
    for username, role, _ in STAFF_LOGINS:
        assert Membership.objects.filter(user__username=username, role=role, is_active=True).exists()
    assert Membership.objects.get(user__username="secretary").region.name == "建国门社区"  # type: ignore[union-attr]
    assert Membership.objects.get(user__username="unit_handler").unit.name == "区城管局"  # type: ignore[union-attr]
    assert Membership.objects.get(user__username="property_handler").unit.kind == "property"  # type: ignore[union-attr]

    resident = User.objects.get(phone_index__matches=RESIDENT_PHONE)
    assert resident.kind == UserKind.RESIDENT and not resident.has_usable_password()
    assert Membership.objects.filter(user=resident, role=Role.RESIDENT).exists()
    for grid in Grid.objects.all():
        worker = User.objects.get(username=f"gw-{grid.code}")
        assert worker.display_name and Membership.objects.filter(user=worker, grid=grid).exists()
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)


@pytest.mark.django_db
def test_another_seed_is_refused_unless_forced(fast_hashing: None) -> None:
    demo_load(seed=1, size=SMALL_SIZE)
    with pytest.raises(DemoError) as refused:
        demo_load(seed=2, size=SMALL_SIZE)
    assert refused.value.code == "demo_conflict"

    again = demo_load(seed=2, size=SMALL_SIZE, force=True)

    assert again.created
    assert demo_stored_fingerprint(Region.objects.get(code="510703")) == again.fingerprint
    assert Grid.objects.count() == 8 and User.objects.filter(username__startswith="gw-").count() == 8
    assert authenticate(username="district_admin", password=settings.LINLI_DEMO_PASSWORD) is not None


@pytest.mark.django_db
def test_seed_demo_command_prints_a_login_for_every_role(fast_hashing: None) -> None:
    out = io.StringIO()
    call_command("seed_demo", size="small", stdout=out)
    text = out.getvalue()
    assert all(username in text for username, _, _ in STAFF_LOGINS)
    assert RESIDENT_PHONE in text and "短信验证码登录" in text
    assert all(str(role.label) in text for role in Role)

    out = io.StringIO()
    call_command("seed_demo", size="small", stdout=out)
    assert "已存在" in out.getvalue()


def test_seed_demo_refuses_to_publish_known_passwords_in_production(settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_demo", size="small", stdout=io.StringIO())
