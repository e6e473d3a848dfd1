"""Places services: the tree's rules, geometry validation with clear codes, the version stamp, and
buildings following their grids."""

from __future__ import annotations

from typing import Any

import pytest

from linli.places.models import GeometryVersion, Grid, Level, Region
from linli.places.services import (
    PlacesError,
    buildings_assign_grids,
    grid_create,
    grid_set_boundary,
    region_create,
)
from linli.places.tests.factories import LAT0, LNG0, STEP, SmallDistrict, square

pytestmark = pytest.mark.django_db


def stamp() -> tuple[int, str]:
    row = GeometryVersion.objects.filter(pk=1).values_list("version", "token").first()
    return row if row else (0, "")


# --- the tree -----------------------------------------------------------------------------------


def test_region_paths_and_geometry_summary_are_stored(small_district: SmallDistrict) -> None:
    community = small_district.communities[1]
    assert community.path == "/TD/TS0/TS0C1/"
    grid = small_district.grids[2]
    assert grid.region_path == community.path
    cell = Region.objects.get(pk=small_district.estates[2].pk)
    assert (cell.min_lng, cell.max_lng) == pytest.approx((LNG0 + 2 * STEP + 0.002, LNG0 + 2 * STEP + 0.008))
    assert cell.min_lng < cell.lng < cell.max_lng and cell.min_lat < cell.lat < cell.max_lat
    # 0.006° × 0.006° at 31.4°N ≈ 570 m × 666 m.
    assert cell.area_m2 == pytest.approx(570 * 666, rel=0.01)


@pytest.mark.parametrize(
    ("level", "parent_of", "code", "error"),
    [
        ("planet", None, "X1", "invalid_level"),
        (Level.STREET, None, "X1", "invalid_parent"),  # a street needs a district above it
        (Level.COMMUNITY, "district", "X1", "invalid_parent"),  # not directly under the district
        (Level.DISTRICT, "district", "X1", "invalid_parent"),  # only one root level
        (Level.STREET, "district", "", "invalid_code"),
        (Level.STREET, "district", "A/B", "invalid_code"),
    ],
)
def test_region_create_refuses_a_wrong_place_in_the_tree(
    small_district: SmallDistrict, level: str, parent_of: str | None, code: str, error: str
) -> None:
    parent = small_district.district if parent_of == "district" else None
    before = Region.objects.count()
    with pytest.raises(PlacesError) as err:
        region_create(parent=parent, level=level, code=code, name="新区域")
    assert err.value.code == error
    assert err.value.message
    assert Region.objects.count() == before


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[104.6, 31.4], [104.61, 31.41], [104.61, 31.4], [104.6, 31.41], [104.6, 31.4]]],
}


@pytest.mark.parametrize(
    ("boundary", "error"),
    [
        ({"type": "Polygon"}, "invalid_geojson"),
        ("not geojson", "invalid_geojson"),
        ({"type": "Point", "coordinates": [104.6, 31.4]}, "not_polygon"),
        (BOWTIE, "invalid_polygon"),
        (square(LAT0, LNG0, LAT0 + STEP, LNG0 + STEP), "outside_china"),  # latitude and longitude swapped
        ({"type": "Polygon", "coordinates": []}, "empty_geometry"),
    ],
)
def test_bad_boundaries_get_a_clear_code_and_change_nothing(
    small_district: SmallDistrict, boundary: Any, error: str
) -> None:
    grid = small_district.grids[0]
    before = stamp()
    with pytest.raises(PlacesError) as err:
        grid_set_boundary(grid=Grid.objects.get(pk=grid.pk), boundary=boundary)
    assert err.value.code == error
    assert Grid.objects.get(pk=grid.pk).boundary == grid.boundary
    assert stamp() == before
    with pytest.raises(PlacesError) as err:
        grid_create(community=small_district.communities[0], code="NEW", name="新网格", boundary=boundary)
    assert err.value.code == error
    assert not Grid.objects.filter(code="NEW").exists()


def test_grids_belong_to_communities_only(small_district: SmallDistrict) -> None:
    with pytest.raises(PlacesError) as err:
        grid_create(
            community=small_district.streets[0],
            code="G-X",
            name="错层网格",
            boundary=square(LNG0, LAT0, LNG0 + 0.001, LAT0 + 0.001),
        )
    assert err.value.code == "invalid_parent"


# --- the version stamp --------------------------------------------------------------------------


def test_every_geometry_change_moves_the_stamp_with_a_fresh_token(small_district: SmallDistrict) -> None:
    version, token = stamp()
    grid_set_boundary(grid=small_district.grids[0], boundary=square(LNG0, LAT0, LNG0 + STEP, LAT0 + STEP / 2))
    assert stamp()[0] == version + 1 and stamp()[1] != token
    region_create(
        parent=small_district.estates[0],
        level=Level.BUILDING,
        code="TB-NEW",
        name="新楼栋",
        point=(LAT0 + 0.005, LNG0 + 0.005),
    )
    assert stamp()[0] == version + 2


def test_a_region_without_geometry_leaves_the_stamp_alone(small_district: SmallDistrict) -> None:
    before = stamp()
    region_create(parent=small_district.district, level=Level.STREET, code="TS9", name="无边界街道")
    assert stamp() == before


# --- buildings follow their grids ---------------------------------------------------------------


def test_buildings_are_assigned_to_the_grid_their_point_falls_in(small_district: SmallDistrict) -> None:
    for grid, first, second in zip(
        small_district.grids, small_district.buildings[::2], small_district.buildings[1::2], strict=True
    ):
        assert first.grid_id == second.grid_id == grid.id


def test_moving_a_grid_boundary_reassigns_buildings_once(small_district: SmallDistrict) -> None:
    g0, g1 = small_district.grids[0], small_district.grids[1]
    # Grid 1 takes over the eastern 40 % of grid 0: building 0.1 (at +0.005) moves, 0.0 (at +0.003) stays.
    grid_set_boundary(grid=g0, boundary=square(LNG0, LAT0, LNG0 + 0.004, LAT0 + STEP))
    grid_set_boundary(grid=g1, boundary=square(LNG0 + 0.004, LAT0, LNG0 + 2 * STEP, LAT0 + STEP))
    assert buildings_assign_grids() == 1
    b00, b01 = (Region.objects.get(pk=b.pk) for b in small_district.buildings[:2])
    assert (b00.grid_id, b01.grid_id) == (g0.id, g1.id)
    assert buildings_assign_grids() == 0  # nothing left to change


def test_a_building_far_outside_every_grid_has_no_grid(small_district: SmallDistrict) -> None:
    far = region_create(
        parent=small_district.estates[0],
        level=Level.BUILDING,
        code="TB-FAR",
        name="远处楼栋",
        point=(LAT0 + 0.05, LNG0),
    )
    buildings_assign_grids()
    assert Region.objects.get(pk=far.pk).grid_id is None
