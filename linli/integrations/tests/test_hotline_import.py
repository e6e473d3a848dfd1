"""Hotline import: all or nothing with a per-row report, idempotent re-import, XLSX cell rules, and the
bulk path giving the same case as ``case_submit`` would."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import Workbook

from linli.cases.models import Case, CaseEvent, CaseNumberCounter, Channel, Status
from linli.cases.services import case_submit
from linli.cases.tests.factories import category, grid_point
from linli.integrations.hotline import services as hotline_services
from linli.integrations.hotline.read import COLUMNS
from linli.integrations.hotline.services import hotline_import
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db


def _row(d: SmallDistrict, order: str, **kw: str) -> dict[str, str]:
    lat, lng = grid_point(d, 2)
    row = {
        "工单编号": order,
        "来电时间": "2026-03-02 09:30",
        "诉求类型": "投诉",
        "问题分类": "井盖缺失",
        "诉求内容": "人民路井盖缺失,夜间很危险",
        "地址": "人民路12号",
        "经度": f"{lng}",
        "纬度": f"{lat}",
        "联系人": "李四",
        "联系电话": "13900139000",
        "办理状态": "办理中",
        "办结时间": "",
        "满意度": "",
    }
    row.update(kw)
    return row


def _csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(COLUMNS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_a_valid_file_creates_cases_with_events_places_and_numbers(district: SmallDistrict) -> None:
    done = _row(district, "A0002", 办理状态="已办结", 办结时间="2026-03-04 17:00", 满意度="满意")
    report = hotline_import(data=_csv([_row(district, "A0001"), done]), filename="orders.csv")
    assert report.ok and (report.created, report.skipped) == (2, 0)
    open_case = Case.objects.get(external_id="A0001")
    assert open_case.channel == Channel.HOTLINE and open_case.status == Status.SUBMITTED
    assert open_case.grid_id == district.grids[2].pk and open_case.number.startswith("20260302-")
    assert open_case.contact_phone_masked == "139****9000"
    assert list(open_case.events.values_list("action", flat=True)) == ["submit"]
    closed = Case.objects.get(external_id="A0002")
    assert closed.status == Status.CLOSED and closed.rating == "satisfied"
    assert closed.resolved_level == closed.level and closed.resolved_at is not None
    assert list(closed.events.values_list("action", flat=True)) == ["submit", "resolve", "rate"]
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert numbers == ["20260302-000001", "20260302-000002"]


def test_the_bulk_path_gives_the_same_case_as_case_submit(district: SmallDistrict) -> None:
    when = timezone.make_aware(datetime(2026, 3, 2, 9, 30))
    lat, lng = grid_point(district, 2)
    single = case_submit(
        text="人民路井盖缺失",
        channel=Channel.OPEN311,
        category_id=category("road.manhole").pk,
        lat=lat,
        lng=lng,
        client_id="x",
        now=when,
    ).case
    hotline_import(data=_csv([_row(district, "B1")]), filename="a.csv")
    bulk = Case.objects.get(external_id="B1")
    for name in [
        "grid_id",
        "estate_id",
        "community_id",
        "street_id",
        "district_id",
        "region_path",
        "level",
        "unit_id",
        "status",
        "status_category",
        "triage_due_at",
        "triage_warn_at",
        "resolve_due_at",
        "warn_at",
        "kind",
        "is_public",
        "created_at",
    ]:
        assert getattr(bulk, name) == getattr(single, name), name
    assert bulk.number == "20260302-000002"  # the block continues the day's counter


def test_re_importing_the_same_file_creates_nothing_new(district: SmallDistrict) -> None:
    data = _csv([_row(district, "C1"), _row(district, "C2")])
    hotline_import(data=data, filename="x.csv")
    again = hotline_import(data=data, filename="x.csv")
    assert again.ok and (again.created, again.skipped) == (0, 2)
    assert Case.objects.count() == 2 and CaseEvent.objects.count() == 2


def test_any_bad_row_saves_nothing_and_each_error_names_row_and_column(district: SmallDistrict) -> None:
    rows = [
        _row(district, "D1"),
        _row(district, "D2", 问题分类="外星人入侵"),
        _row(district, "D3", 来电时间="去年春天"),
        _row(district, "D4", 经度="116.40", 纬度="39.90"),
        _row(district, "D1"),
        _row(district, "D6", 办理状态="已办结"),
    ]
    report = hotline_import(data=_csv(rows), filename="bad.csv")
    assert not report.ok and report.created == 0
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {
        (3, "问题分类", "unknown_category"),
        (4, "来电时间", "invalid_date"),
        (5, "经度", "outside_jurisdiction"),
        (6, "工单编号", "duplicate_in_file"),
        (7, "办结时间", "finish_required"),
    }
    assert Case.objects.count() == 0


def test_xlsx_numeric_id_cells_are_refused_and_formulas_stay_text(district: SmallDistrict) -> None:
    lat, lng = grid_point(district, 1)
    base = ["2026-03-02 09:30", "投诉", "井盖缺失"]
    rows = [
        ["E1", *base, '=HYPERLINK("http://x")', "", lng, lat, "王五", "13700137000", "办理中", "", ""],
        [20260001, *base, "井盖", "", lng, lat, "", "13700137000", "办理中", "", ""],
        ["E3", *base, "井盖", "", lng, lat, "", 13700137000, "办理中", "", ""],
    ]
    bad = hotline_import(data=_xlsx(rows), filename="o.xlsx")
    assert {(e.row, e.code) for e in bad.errors} == {(3, "numeric_id_cell"), (4, "numeric_id_cell")}
    assert Case.objects.count() == 0
    good = hotline_import(data=_xlsx(rows[:1]), filename="o.xlsx")
    assert good.ok and good.created == 1
    assert Case.objects.get().text == '=HYPERLINK("http://x")'


def test_unsupported_or_headerless_files_are_refused(district: SmallDistrict) -> None:
    assert hotline_import(data=b"hello", filename="x.pdf").file_error.startswith("unsupported_file")
    assert hotline_import(data=b"a,b\n1,2\n", filename="x.csv").file_error.startswith("missing_columns")


def test_the_command_imports_a_file_and_fails_loudly_on_errors(
    district: SmallDistrict, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([_row(district, "F1")]))
    out = io.StringIO()
    call_command("import_hotline", str(good), stdout=out)
    assert "已导入 1 件" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(district, "F2", 问题分类="不存在")]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_hotline", str(bad), stderr=err)
    assert "第2行" in err.getvalue() and Case.objects.count() == 1


def test_control_characters_in_a_cell_are_a_row_error_and_nothing_is_saved(district: SmallDistrict) -> None:
    # given a file whose third order has a NUL in its text (PostgreSQL refuses NUL in text) and whose
    # fourth has other C0 controls in the address and the caller's name; tabs and line breaks are fine
    rows = [
        _row(district, "N1", 诉求内容="第一行\n第二行\t缩进\r\n完"),
        _row(district, "N2"),
        _row(district, "N3", 诉求内容="井盖\x00缺失"),
        _row(district, "N4", 地址="人民路\x0712号", 联系人="李\x1b四"),
    ]
    # when
    report = hotline_import(data=_csv(rows), filename="nul.csv")
    # then each such cell is an error of its row and column, and nothing was written
    assert not report.ok and report.created == 0 and report.rows == 4 and report.file_error == ""
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (4, "诉求内容", "invalid_characters"),
        (5, "地址", "invalid_characters"),
        (5, "联系人", "invalid_characters"),
    ]
    assert "诉求内容" in report.errors[0].message
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0
    # and without the bad rows the same file imports, the tab and line breaks kept
    good = hotline_import(data=_csv(rows[:2]), filename="nul.csv")
    assert good.ok and good.created == 2
    assert Case.objects.get(external_id="N1").text == "第一行\n第二行\t缩进\r\n完"


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02 09:30",
        "2026-03-02 09:30:59",
        "2026-3-2 09:30",
        "2026/03/02 09:30",
        "2026-03-02",
        "2026-02-30 09:30",
        "2026-03-02 24:00",
        "2026-03-02 09:30:60",
        "2026-03-02T09:30",
        "去年春天",
    ],
)
def test_the_fast_date_path_reads_exactly_what_the_format_list_reads(text: str) -> None:
    from linli.integrations.hotline.services import DATE_FORMATS, _parse_text

    expected = None
    for fmt in DATE_FORMATS:
        try:
            expected = datetime.strptime(text, fmt)  # noqa: DTZ007 - naive on both sides
            break
        except ValueError:
            continue
    assert _parse_text(text) == expected


def test_a_bad_row_after_batches_were_written_still_saves_nothing(
    district: SmallDistrict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given batches of 2, 4, 4 rows: the bad row is in the last one, after two batches were stored
    monkeypatch.setattr(hotline_services, "BATCH_FIRST", 2)
    monkeypatch.setattr(hotline_services, "BATCH_MAX", 4)
    rows = [_row(district, f"G{i}") for i in range(9)] + [_row(district, "G9", 问题分类="外星人入侵")]
    when = timezone.make_aware(datetime(2026, 3, 2, 9, 30))
    # when
    report = hotline_import(data=_csv(rows), filename="late.csv")
    # then the report names the row, and no case, event or number was kept
    assert not report.ok and report.created == 0 and report.rows == 10
    assert [(e.row, e.code) for e in report.errors] == [(11, "unknown_category")]
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0
    assert not CaseNumberCounter.objects.filter(day=when.date(), last__gt=0).exists()


def test_batches_number_the_day_in_file_order_without_gaps_and_skip_known_orders(
    district: SmallDistrict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotline_services, "BATCH_FIRST", 2)
    monkeypatch.setattr(hotline_services, "BATCH_MAX", 4)
    hotline_import(data=_csv([_row(district, "H3")]), filename="first.csv")
    # when a file of 9 orders, one of them imported before, comes in batches of 2, 4, 3
    report = hotline_import(data=_csv([_row(district, f"H{i}") for i in range(9)]), filename="all.csv")
    # then the 8 new ones follow the day's counter in file order, and the known one is skipped
    assert report.ok and (report.created, report.skipped) == (8, 1)
    numbers = dict(Case.objects.values_list("external_id", "number"))
    expected = [f"H{i}" for i in range(9) if i != 3]
    assert [numbers[o] for o in expected] == [f"20260302-{k:06d}" for k in range(2, 10)]
    assert CaseEvent.objects.count() == 9
