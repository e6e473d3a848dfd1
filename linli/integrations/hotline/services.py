"""``hotline_import``: 12345 work orders into cases, all or nothing, with a per-row error report.

Every row is checked before anything is written (category, kind, dates, coordinates inside the
jurisdiction, phone, duplicates of 工单编号 within the file); one error anywhere and nothing is saved.
Orders already imported (same 工单编号, channel ``hotline``) are skipped, so re-importing a file is
harmless. The rows go in through the bulk path (``linli.integrations.bulk``) in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linli.cases.contact import phone_mask
from linli.cases.models import Case, CaseKind, Category, Channel, Rating, Status
from linli.cases.services.submit import TEXT_MAX
from linli.integrations.bulk import BulkCase, PlaceIndex, Step, cases_bulk_create, places_locate
from linli.integrations.hotline.read import CellError, FileError, read_file

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
_ORDER = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
KINDS = {str(label): value for value, label in CaseKind.choices}
RATINGS = {"满意": Rating.SATISFIED, "基本满意": Rating.BASIC, "不满意": Rating.UNSATISFIED}
DONE_STATES = {"已办结", "办结", "已结案", "结案", "已完成"}
OPEN_STATES = {"", "待办", "待受理", "已受理", "办理中", "处理中", "未办结"}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    skipped: int = 0  # already imported earlier (same 工单编号)
    errors: list[CellError] = field(default_factory=list)
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.file_error


# The common spelling (``2026-03-02 09:30[:00]``, zero-padded): ``fromisoformat`` reads it as ``strptime``
# would with the first formats, at a tenth of the cost; anything else takes the format loop.
_ISO_MINUTES = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?$")


def _parse_text(text: str) -> datetime | None:
    if _ISO_MINUTES.match(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None  # e.g. month 13: no format below reads it either
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - local wall time, made aware by the caller
        except ValueError:
            continue
    return None


def _datetime(value: Any, zone: tzinfo) -> datetime | None:
    """A cell as an aware datetime; naive values are local wall time in ``zone`` (``make_aware``'s rule)."""
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(0))
    else:
        parsed = _parse_text(str(value or "").strip())
    if parsed is None:
        return None
    return timezone.make_aware(parsed, zone) if timezone.is_naive(parsed) else parsed


def _float(value: Any) -> float | None:
    if value in ("", None):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _categories() -> dict[str, Category]:
    """Leaves by name, by code and by "组/名" (the hotline's two-level classification)."""
    rows = list(Category.objects.filter(is_active=True).select_related("parent"))
    parents = {c.parent_id for c in rows}
    out: dict[str, Category] = {}
    for c in rows:
        if c.pk in parents:
            continue
        out.setdefault(c.name, c)
        out[c.code] = c
        if c.parent is not None:
            out[f"{c.parent.name}/{c.name}"] = c
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def hotline_import(*, data: bytes, filename: str, now: datetime | None = None) -> ImportReport:
    """Import a CSV/XLSX export; nothing is written unless every row is valid."""
    report = ImportReport()
    try:
        sheet = read_file(data, filename)
    except FileError as exc:
        report.file_error = f"{exc.code}: {exc.message}"
        return report
    report.rows = len(sheet.rows)
    errors = list(sheet.errors)
    now = now or timezone.now()
    zone = timezone.get_current_timezone()  # once, not per cell (a context-local lookup)
    categories = _categories()
    seen: dict[str, int] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []

    def err(row: int, column: str, code: str, message: str) -> None:
        errors.append(CellError(row, column, code, message))

    for number, cells in sheet.rows:
        order = _text(cells.get("工单编号"))
        if not _ORDER.match(order):
            err(number, "工单编号", "invalid_order_id", "工单编号为空或含有字母、数字、-、_ 以外的字符")
        elif order in seen:
            err(number, "工单编号", "duplicate_in_file", f"工单编号与第{seen[order]}行重复")
        else:
            seen[order] = number
        called = _datetime(cells.get("来电时间"), zone)
        if called is None:
            err(number, "来电时间", "invalid_date", "来电时间格式应为 2026-01-31 09:30")
        elif called > now:
            err(number, "来电时间", "future_date", "来电时间晚于当前时间")
        category = categories.get(_text(cells.get("问题分类")))
        if category is None:
            err(number, "问题分类", "unknown_category", f"未知的问题分类“{_text(cells.get('问题分类'))}”")
        kind_text = _text(cells.get("诉求类型"))
        kind = KINDS.get(kind_text) if kind_text else (category.default_kind if category else None)
        if kind_text and kind is None:
            err(number, "诉求类型", "unknown_kind", f"诉求类型应为:{'、'.join(KINDS)}")
        text = _text(cells.get("诉求内容"))
        if not text:
            err(number, "诉求内容", "text_required", "诉求内容为空")
        elif len(text) > TEXT_MAX:
            err(number, "诉求内容", "text_too_long", f"诉求内容超过{TEXT_MAX}字")
        lng, lat = _float(cells.get("经度")), _float(cells.get("纬度"))
        has_lng, has_lat = _text(cells.get("经度")) != "", _text(cells.get("纬度")) != ""
        if (has_lng and lng is None) or (has_lat and lat is None) or has_lng != has_lat:
            err(number, "经度", "invalid_coordinates", "经度、纬度应同时填写数字")
            lat = lng = None
        phone = re.sub(r"[\s\-]", "", _text(cells.get("联系电话")))
        if phone and not _PHONE.match(phone):
            err(number, "联系电话", "invalid_phone", "联系电话格式不正确")
        state = _text(cells.get("办理状态"))
        done = state in DONE_STATES
        if not done and state not in OPEN_STATES:
            err(number, "办理状态", "unknown_state", "办理状态应为“办理中”或“已办结”")
        finished = _datetime(cells.get("办结时间"), zone) if _text(cells.get("办结时间")) else None
        if _text(cells.get("办结时间")) and finished is None:
            err(number, "办结时间", "invalid_date", "办结时间格式应为 2026-01-31 09:30")
        if done and finished is None and _text(cells.get("办结时间")) == "":
            err(number, "办结时间", "finish_required", "已办结的工单需要办结时间")
        if finished is not None and called is not None and finished < called:
            err(number, "办结时间", "finish_before_call", "办结时间早于来电时间")
        rating_text = _text(cells.get("满意度"))
        if rating_text and rating_text not in RATINGS:
            err(number, "满意度", "unknown_rating", "满意度应为:满意、基本满意、不满意")
        parsed.append(
            (
                number,
                {
                    "order": order,
                    "called": called,
                    "category": category,
                    "kind": kind,
                    "text": text,
                    "address": _text(cells.get("地址")),
                    "lat": lat,
                    "lng": lng,
                    "name": _text(cells.get("联系人")),
                    "phone": phone,
                    "done": done,
                    "finished": finished,
                    "rating": RATINGS.get(rating_text, ""),
                },
            )
        )

    # Where: one bulk locate for every row with a point; outside the jurisdiction is an error of its row.
    points = [(r["lat"], r["lng"]) if r["lat"] is not None else None for _, r in parsed]
    try:
        places = places_locate(points, PlaceIndex())
    except ValueError:
        report.file_error = "location_required: 辖区不唯一,无坐标的工单无法定位,请补充经纬度"
        return report
    for (number, _r), place in zip(parsed, places, strict=True):
        if place is None:
            err(number, "经度", "outside_jurisdiction", "坐标不在本辖区范围内")
    if errors:
        report.errors = sorted(errors, key=lambda e: (e.row, e.column))
        return report

    existing = _imported_already(list(seen))
    items: list[BulkCase] = []
    for (_number, r), place in zip(parsed, places, strict=True):
        if r["order"] in existing:
            report.skipped += 1
            continue
        assert place is not None and r["called"] is not None and r["category"] is not None
        items.append(_bulk_case(r, place))
    with transaction.atomic():
        cases_bulk_create(items)
    report.created = len(items)
    return report


def _imported_already(orders: list[str]) -> set[str]:
    """The order numbers among ``orders`` imported before (channel hotline)."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an ``IN`` list Django compiles value by value (1 M of them).
        sql = f"SELECT external_id FROM {Case._meta.db_table} WHERE channel = %s AND external_id = ANY(%s)"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [Channel.HOTLINE.value, orders])
            return {r[0] for r in cursor.fetchall()}
    found: set[str] = set()
    for start in range(0, len(orders), 5000):  # SQLite's limit on parameters per statement
        chunk = orders[start : start + 5000]
        query = Case.objects.filter(channel=Channel.HOTLINE, external_id__in=chunk)
        found.update(query.values_list("external_id", flat=True))
    return found


def _bulk_case(r: dict[str, Any], place: Any) -> BulkCase:
    item = BulkCase(
        channel=Channel.HOTLINE,
        kind=r["kind"],
        category_id=r["category"].pk,
        text=r["text"],
        created_at=r["called"],
        place=place,
        lat=r["lat"],
        lng=r["lng"],
        address=r["address"],
        contact_name=r["name"],
        contact_phone=r["phone"],
        external_id=r["order"],
    )
    if r["done"]:
        # Finished in the hotline system: recorded as resolved and closed there, rated if the caller rated.
        finished = r["finished"]
        item.status = Status.CLOSED
        item.resolved_at = item.closed_at = finished
        item.rating = r["rating"]
        item.rated_at = finished if r["rating"] else None
        item.result_text = "12345热线已办结"
        item.steps = [
            Step("resolve", Status.SUBMITTED, Status.RESOLVED, finished, data={"source": "hotline"}),
            Step("auto_close" if not r["rating"] else "rate", Status.RESOLVED, Status.CLOSED, finished),
        ]
    return item


__all__ = ["ImportReport", "hotline_import", "phone_mask"]
