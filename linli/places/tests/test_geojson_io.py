"""GeoJSON import/export: round trip, upserts, and every kind of problem reported by name."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from shapely.geometry import mapping, shape

from linli.places.gcj02 import gcj02_to_wgs84_xy, wgs84_to_gcj02_xy
from linli.places.geojson_export import geojson_export, geojson_export_querysets
from linli.places.geojson_io import geojson_import
from linli.places.geometry import to_metric
from linli.places.models import GeometryVersion, Grid, Level, Region
from linli.places.tests.factories import STEP, SmallDistrict, square

pytestmark = pytest.mark.django_db

# Far from the small_district lattice (104.6, 31.4), so both can live in one database.
X0, Y0 = 110.0, 30.0


def feature(
    level: str, code: str, name: str, parent: str | None, geometry: Any, **props: Any
) -> dict[str, Any]:
    properties = {"level": level, "code": code, "name": name, "parent_code": parent, **props}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


def cell(i: float, j: float = 1.0) -> dict[str, Any]:
    """Lattice cells from x = i to x = j (in STEP units), one STEP high."""
    return square(X0 + i * STEP, Y0, X0 + j * STEP, Y0 + STEP)


def tree(*grids: dict[str, Any]) -> list[dict[str, Any]]:
    """District = street = community = two cells wide; grids as given (default: two cells tiling it)."""
    whole = cell(0, 2)
    return [
        feature("district", "ND", "新区", None, whole),
        feature("street", "NS", "新街道", "ND", whole),
        feature("community", "NC", "新社区", "NS", whole),
        *(
            grids
            or (
                feature("grid", "NG0", "新网格0", "NC", cell(0, 1), households=210),
                feature("grid", "NG1", "新网格1", "NC", cell(1, 2), households=190),
            )
        ),
    ]


def metric_area(geometry: dict[str, Any]) -> float:
    return float(to_metric(shape(geometry), X0, Y0).area)


def stamp() -> tuple[int, str] | None:
    return GeometryVersion.objects.values_list("version", "token").first()


def counts() -> tuple[int, int]:
    return Region.objects.count(), Grid.objects.count()


def codes(result: Any) -> list[str]:
    return [p.code for p in result.report.problems]


def wipe() -> None:
    Region.objects.filter(level=Level.BUILDING).delete()
    Grid.objects.all().delete()
    for level in (Level.ESTATE, Level.COMMUNITY, Level.STREET, Level.DISTRICT):
        Region.objects.filter(level=level).delete()


# --- writing ------------------------------------------------------------------------------------------
def test_import_writes_parents_before_children_whatever_the_file_order() -> None:
    before = stamp()

    result = geojson_import(data=collection(*reversed(tree())))

    assert result.applied, result.lines()
    assert result.report.problems == []
    community = Region.objects.get(code="NC")
    assert community.path == "/ND/NS/NC/" and community.parent.code == "NS"
    grid = Grid.objects.get(code="NG0")
    assert grid.community == community and grid.households == 210 and grid.region_path == "/ND/NS/NC/"
    assert grid.area_m2 == pytest.approx(metric_area(cell(0, 1)), rel=1e-3)
    version = stamp()
    assert version is not None and version[0] == (before[0] if before else 0) + 1  # bumped exactly once


def test_export_then_import_into_an_empty_database_then_export_is_identical(
    small_district: SmallDistrict,
) -> None:
    first = geojson_export(regions=Region.objects.all(), grids=Grid.objects.all())
    assert first.count('"level":"building"') == 16 and first.count('"level":"grid"') == 8
    wipe()
    assert counts() == (0, 0)

    result = geojson_import(data=first.encode())

    assert result.applied and result.report.problems == [], result.lines()
    assert geojson_export(regions=Region.objects.all(), grids=Grid.objects.all()) == first
    # Buildings are re-attached to the grid their point falls in.
    building = Region.objects.get(code="TS0C0G0B0")
    assert building.grid is not None and building.grid.code == "TS0C0G0"


def test_import_updates_existing_rows_by_code(small_district: SmallDistrict) -> None:
    before, (regions, grids) = stamp(), counts()
    file = collection(
        feature("community", "TS0C0", "改名社区", "TS0", square(104.6, 31.4, 104.62, 31.41), population=900),
        feature("grid", "TS0C0G0", "改名网格", "TS0C0", square(104.6, 31.4, 104.61, 31.41), households=321),
    )

    result = geojson_import(data=file)

    assert result.applied and result.report.problems == [], result.lines()
    assert result.report.to_update == {"community": 1, "grid": 1}
    assert counts() == (regions, grids)
    assert Region.objects.get(code="TS0C0").population == 900
    grid = Grid.objects.get(code="TS0C0G0")
    assert (grid.name, grid.households) == ("改名网格", 321)
    assert stamp()[0] == before[0] + 1  # type: ignore[index]


def test_a_grid_may_move_to_another_community() -> None:
    three = cell(0, 3)
    first = [
        feature("district", "ND", "新区", None, three),
        feature("street", "NS", "新街道", "ND", three),
        feature("community", "NCA", "甲社区", "NS", cell(0, 1)),
        feature("community", "NCB", "乙社区", "NS", cell(1, 3)),
        feature("grid", "NG0", "网格0", "NCA", cell(0, 1)),
        feature("grid", "NG1", "网格1", "NCB", cell(1, 2)),
        feature("grid", "NG2", "网格2", "NCB", cell(2, 3)),
    ]
    assert geojson_import(data=collection(*first)).applied
    redrawn = collection(
        feature("community", "NCA", "甲社区", "NS", cell(0, 2)),
        feature("community", "NCB", "乙社区", "NS", cell(2, 3)),
        feature("grid", "NG1", "网格1", "NCA", cell(1, 2)),
    )

    result = geojson_import(data=redrawn)

    assert result.applied and result.report.problems == [], result.lines()
    grid = Grid.objects.get(code="NG1")
    assert grid.community.code == "NCA" and grid.region_path == "/ND/NS/NCA/"


def test_a_region_may_not_move_to_another_parent(small_district: SmallDistrict) -> None:
    moves = collection(feature("community", "TS0C0", "测试社区00", "TS1", square(104.6, 31.4, 104.62, 31.41)))

    result = geojson_import(data=moves)

    assert "parent_changed" in codes(result) and not result.applied
    assert Region.objects.get(code="TS0C0").parent.code == "TS0"


def test_dry_run_writes_nothing_but_reports_the_plan() -> None:
    result = geojson_import(data=collection(*tree()), dry_run=True)

    assert not result.applied and counts() == (0, 0)
    assert result.report.to_create == {"district": 1, "street": 1, "community": 1, "grid": 2}
    assert "试运行" in result.status_text()


# --- problems, each reported by name --------------------------------------------------------------------
def test_overlapping_grids_are_an_error_naming_both_with_the_area_in_square_metres() -> None:
    file = collection(
        *tree(
            feature("grid", "NG0", "东网格", "NC", cell(0, 1.5)),
            feature("grid", "NG1", "西网格", "NC", cell(1, 2)),
        )
    )

    result = geojson_import(data=file)

    assert not result.applied and counts() == (0, 0)
    [overlap] = [p for p in result.report.errors if p.code == "overlap"]
    assert {overlap.feature_name, overlap.other_name} == {"东网格", "西网格"}
    assert "东网格" in overlap.message and "西网格" in overlap.message and "平方米" in overlap.message
    assert overlap.area_m2 == pytest.approx(metric_area(cell(1, 1.5)), rel=1e-3)
    assert X0 + STEP < overlap.where[0] < X0 + 1.5 * STEP  # type: ignore[index]


def test_a_new_grid_overlapping_a_stored_grid_of_another_community_is_found(
    small_district: SmallDistrict,
) -> None:
    # Drawn in community TS0C1 but reaching 30% into TS0C0's second grid.
    file = collection(feature("grid", "NEW", "越界网格", "TS0C1", square(104.617, 31.4, 104.63, 31.41)))

    result = geojson_import(data=file)

    overlaps = [p for p in result.report.errors if p.code == "overlap"]
    assert {(p.feature_name, p.other_name) for p in overlaps} == {
        ("越界网格", "测试网格001"),
        ("越界网格", "测试网格010"),
    }
    assert "outside_parent" in codes(result) and not result.applied


def test_a_gap_is_a_warning_naming_the_parent_and_blocks_only_when_strict() -> None:
    file = collection(*tree(feature("grid", "NG0", "唯一网格", "NC", cell(0, 1))))

    strict = geojson_import(data=file, strict=True)
    lenient = geojson_import(data=file)

    [gap] = strict.report.warnings
    assert gap.code == "gap" and gap.feature_name == "新社区" and "新社区" in gap.message
    assert gap.area_m2 == pytest.approx(metric_area(cell(1, 2)), rel=1e-3)
    assert not strict.applied and strict.report.errors == []
    assert lenient.applied and Grid.objects.count() == 1


def test_a_bowtie_polygon_is_rejected_with_the_reason() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[X0, Y0], [X0 + STEP, Y0 + STEP], [X0 + STEP, Y0], [X0, Y0 + STEP], [X0, Y0]]],
    }
    file = collection(*tree(feature("grid", "NG0", "蝴蝶网格", "NC", bowtie)))

    result = geojson_import(data=file)

    [problem] = result.report.errors
    assert problem.code == "invalid_polygon" and problem.feature_name == "蝴蝶网格"
    assert "Self-intersection" in problem.message and "蝴蝶网格" in problem.message
    assert counts() == (0, 0)


def test_coordinates_outside_china_are_rejected() -> None:
    swapped = {
        "type": "Polygon",
        "coordinates": [[[Y0, X0], [Y0 + 0.01, X0], [Y0 + 0.01, X0 + 0.01], [Y0, X0]]],
    }
    file = collection(feature("district", "ND", "新区", None, swapped))

    result = geojson_import(data=file)

    assert codes(result) == ["outside_china"] and "经纬度" in result.report.problems[0].message
    assert counts() == (0, 0)


def test_projected_coordinates_in_metres_get_their_own_message() -> None:
    metres = square(35_500_000, 3_480_000, 35_501_000, 3_481_000)

    result = geojson_import(data=collection(feature("district", "ND", "新区", None, metres)))

    assert codes(result) == ["projected_coordinates"] and "CGCS2000" in result.report.problems[0].message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
        ('{"type": "FeatureCollection", "features": [NaN]}', "invalid_json"),
        ('{"type": "Feature", "properties": {}}', "invalid_geojson"),
        ('{"type": "FeatureCollection", "features": []}', "empty_file"),
        (collection({"type": "Feature", "geometry": None}), "invalid_feature"),
        (collection(feature("city", "X", "某市", None, None)), "invalid_level"),
        (collection(feature("district", "A/B", "某区", None, None)), "invalid_code"),
        (collection(feature("district", "ND", "某区", None, None, households=-3)), "invalid_number"),
        (
            collection(
                feature("district", "ND", "某区", None, {"type": "Polygon", "coordinates": [["a", "b"]]})
            ),
            "invalid_geojson",
        ),
        (
            collection(feature("district", "ND", "某区", None, {"type": "Point", "coordinates": [X0, Y0]})),
            "not_polygon",
        ),
        (collection(feature("grid", "NG", "某网格", "NC", None)), "missing_geometry"),
    ],
)
def test_malformed_input_gets_a_clear_error_and_changes_nothing(data: str | bytes, code: str) -> None:
    result = geojson_import(data=data)

    assert code in codes(result) and not result.applied
    assert all(p.message for p in result.report.problems)
    assert counts() == (0, 0)


def test_unknown_or_wrong_level_parents_are_named() -> None:
    file = collection(
        *tree(),
        feature("community", "NC2", "孤儿社区", "NOPE", cell(0, 1)),
        feature("grid", "NG2", "错挂网格", "NS", cell(0, 1)),
    )

    result = geojson_import(data=file)

    by_code = {p.code: p for p in result.report.errors}
    assert (
        by_code["unknown_parent"].feature_name == "孤儿社区" and "NOPE" in by_code["unknown_parent"].message
    )
    assert by_code["wrong_parent_level"].feature_name == "错挂网格"
    assert counts() == (0, 0)


def test_duplicate_codes_name_both_features() -> None:
    file = collection(*tree(), feature("grid", "NG1", "重复网格", "NC", cell(1, 2)))

    result = geojson_import(data=file)

    [dup] = result.report.errors
    assert dup.code == "duplicate_code" and {dup.feature_name, dup.other_name} == {"重复网格", "新网格1"}


def test_a_child_sticking_out_of_its_parent_is_an_error() -> None:
    file = collection(*tree(feature("grid", "NG0", "出界网格", "NC", cell(0, 2.2))))

    result = geojson_import(data=file)

    [out] = result.report.errors
    assert out.code == "outside_parent" and out.feature_name == "出界网格" and out.other_name == "新社区"
    assert out.area_m2 == pytest.approx(metric_area(cell(2, 2.2)), rel=1e-3)


def test_a_sliver_overlap_along_a_shared_border_is_only_a_warning() -> None:
    # 4e-6° ≈ 0.4 m: two sources tracing one street slightly differently.
    file = collection(
        *tree(
            feature("grid", "NG0", "新网格0", "NC", cell(0, 1)),
            feature("grid", "NG1", "新网格1", "NC", cell(1 - 0.0004, 2)),
        )
    )

    result = geojson_import(data=file)

    assert codes(result) == ["overlap_sliver"] and result.applied


def test_a_failed_import_changes_nothing(small_district: SmallDistrict) -> None:
    before, (regions, grids) = stamp(), counts()
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[104.6, 31.4], [104.61, 31.41], [104.61, 31.4], [104.6, 31.41], [104.6, 31.4]]],
    }
    file = collection(
        feature("community", "TS0C0", "改名社区", "TS0", square(104.6, 31.4, 104.62, 31.41)),
        feature("grid", "NEWG", "新网格", "TS0C0", square(104.6, 31.4, 104.605, 31.41)),
        feature("grid", "TS0C0G1", "坏网格", "TS0C0", bowtie),
    )

    result = geojson_import(data=file)

    assert not result.applied and "invalid_polygon" in codes(result)
    assert counts() == (regions, grids) and stamp() == before
    assert Region.objects.get(code="TS0C0").name == "测试社区00"


# --- GCJ-02 ---------------------------------------------------------------------------------------------
def test_gcj02_conversion_inverts_the_offset() -> None:
    wgs = np.array([[116.397, 39.908], [104.6, 31.4], [121.47, 31.23]])

    gcj = wgs84_to_gcj02_xy(wgs)

    shift_m = np.hypot((gcj - wgs)[:, 0] * 96_000, (gcj - wgs)[:, 1] * 111_000)
    assert (shift_m > 100).all() and (shift_m < 1000).all()  # the offset is a few hundred metres
    assert np.abs(gcj02_to_wgs84_xy(gcj) - wgs).max() < 1e-8


def test_a_gcj02_file_is_stored_in_wgs84() -> None:
    def to_gcj(f: dict[str, Any]) -> dict[str, Any]:
        moved = mapping(shapely.transform(shape(f["geometry"]), wgs84_to_gcj02_xy))
        return {**f, "geometry": json.loads(json.dumps(moved))}

    result = geojson_import(data=collection(*(to_gcj(f) for f in tree())), crs="gcj02")

    assert result.applied, result.lines()
    stored = shape(Grid.objects.get(code="NG0").boundary)
    assert stored.normalize().equals_exact(shape(cell(0, 1)).normalize(), tolerance=2e-6)


# --- commands -------------------------------------------------------------------------------------------
def test_import_command_prints_the_report_and_exits_non_zero_on_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(
        collection(*tree(feature("grid", "NG0", "出界网格", "NC", cell(0, 2.2)))), encoding="utf-8"
    )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("import_geojson", str(path), stdout=out)

    assert "出界网格" in out.getvalue() and "outside_parent" in out.getvalue()
    assert counts() == (0, 0)


def test_import_command_dry_run_then_import(tmp_path: Path) -> None:
    path = tmp_path / "ok.geojson"
    path.write_text(collection(*tree()), encoding="utf-8")

    call_command("import_geojson", str(path), "--dry-run", stdout=StringIO())
    assert counts() == (0, 0)
    out = StringIO()
    call_command("import_geojson", str(path), stdout=out)

    assert counts() == (3, 2) and "已导入" in out.getvalue()


def test_export_command_filters_by_level_grids_and_subtree(
    small_district: SmallDistrict, tmp_path: Path
) -> None:
    path = tmp_path / "out.geojson"

    call_command(
        "export_geojson",
        "--level",
        "community",
        "--grids",
        "--under",
        "TS1",
        "-o",
        str(path),
        stderr=StringIO(),
    )

    exported = json.loads(path.read_text(encoding="utf-8"))
    got = [(f["properties"]["level"], f["properties"]["code"]) for f in exported["features"]]
    assert got == [
        ("community", "TS1C0"),
        ("community", "TS1C1"),
        ("grid", "TS1C0G0"),
        ("grid", "TS1C0G1"),
        ("grid", "TS1C1G0"),
        ("grid", "TS1C1G1"),
    ]
    with pytest.raises(CommandError):
        call_command("export_geojson", "--under", "NOPE")


def test_export_querysets_default_to_everything(small_district: SmallDistrict) -> None:
    regions, grids = geojson_export_querysets()
    only_grids = geojson_export_querysets(grids=True)

    assert (regions.count(), grids.count()) == (31, 8)
    assert (only_grids[0].count(), only_grids[1].count()) == (0, 8)
