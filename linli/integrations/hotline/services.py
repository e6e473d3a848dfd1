"""``hotline_import``: 12345 work orders into cases, all or nothing, with a per-row error report.

Every row is checked (category, kind, dates, coordinates inside the jurisdiction, phone, duplicates of
工单编号 within the file, control characters in any cell); one error anywhere and nothing is saved. The file
is read, checked and located batch by batch while the batches before it are written by the bulk path
(``linli.integrations.bulk.cases_bulk_write``), all in one transaction: after the first error nothing more
is written, the check runs on to the end of the file so the report lists every error, and the transaction
is rolled back. Orders already imported (same 工单编号, channel ``hotline``) are skipped, so re-importing
a file is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.cases.contact import phone_mask
from linli.cases.models import CaseKind, Category, Channel, Rating, Status
from linli.cases.services.submit import TEXT_MAX
from linli.integrations.bulk import BulkCase, PlaceIndex, Step, cases_bulk_write, places_locate
from linli.integrations.hotline.read import COLUMNS, CellError, FileError, Sheet, read_file
from linli.places.locator import get_locator

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
_PHONE_SPACING = re.compile(r"[\s\-]")
_ORDER = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
# C0 control characters other than tab, line feed and carriage return: invisible in the hotline's own
# screens and ours, and PostgreSQL refuses NUL in text outright (the COPY would fail mid-import).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
BATCH_FIRST = 1000  # rows of the first batch stored: the database starts early
BATCH_MAX = 8000  # rows of later batches
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
    """A cell as an aware datetime; naive values are local wall time in ``zone`` (``make_aware``'s rule:
    the zone attached as it is)."""
    if type(value) is str:  # a CSV cell (the usual case): no isinstance chain
        parsed: datetime | None = _parse_text(value.strip())
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(0))
    else:
        parsed = _parse_text(str(value or "").strip())
    if parsed is None:
        return None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


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


def hotline_import_audit(
    report: ImportReport, *, filename: str, actor: Any = None, request: Any = None
) -> None:
    """The ``data.import`` audit row of one import, from the screen (with its uploader) or the command."""
    from linli.security.audit import audit_record

    audit_record(
        action="data.import",
        actor=actor,
        obj=None,
        object_type="cases.case",
        result="ok" if report.ok else "failed",
        data={
            "source": "hotline",
            "file": filename[:100],
            "rows": report.rows,
            "created": report.created,
            "skipped": report.skipped,
            "errors": len(report.errors),
        },
        request=request,
    )


def hotline_import(*, data: bytes, filename: str, now: datetime | None = None) -> ImportReport:
    """Import a CSV/XLSX export; nothing is written unless every row is valid.

    The file is read, checked and located batch by batch while the batches before are stored
    (``cases_bulk_write``), all in one transaction: the first bad row stops the writing, the check goes
    on to the end of the file for the report, and the transaction is rolled back.
    """
    report = ImportReport()
    try:
        sheet = read_file(data, filename)
    except FileError as exc:
        report.file_error = f"{exc.code}: {exc.message}"
        return report
    check = _Check(now or timezone.now(), sheet)
    try:
        with transaction.atomic():
            stored = cases_bulk_write(check.batches(), skip_known=True)
            if not check.ok:
                transaction.set_rollback(True)
    except FileError as exc:  # found while reading (too many rows) or locating (no unique district)
        report.rows = check.rows
        report.file_error = f"{exc.code}: {exc.message}"
        return report
    report.rows = check.rows
    if not check.ok:
        report.errors = sorted(check.errors, key=lambda e: (e.row, e.column))
        return report
    report.created, report.skipped = len(stored.ids), stored.skipped
    return report


class _Check:
    """The rows of one file, checked and located batch by batch (``batches``), with every error kept.

    Everything it needs from the database is read at construction (categories, places, the locator):
    ``batches`` runs in the bulk path's helper thread, which must not query.
    """

    def __init__(self, now: datetime, sheet: Sheet) -> None:
        self.now = now
        self.sheet = sheet
        self.zone = timezone.get_current_timezone()  # in this thread: the helper has its own
        self.categories = _categories()
        self.index = PlaceIndex()
        self.locator = get_locator()
        self.seen: dict[str, int] = {}
        self.errors: list[CellError] = sheet.errors  # the reader adds the XLSX cell errors as it goes
        self.rows = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def batches(self) -> Iterator[list[BulkCase]]:
        """The rows as ``BulkCase`` lists of ``BATCH_FIRST`` rows, doubling up to ``BATCH_MAX`` (the first
        reaches the database soon); once any row has failed, nothing more is yielded but every row is
        still checked."""
        size = BATCH_FIRST
        pending: list[tuple[int, dict[str, Any]]] = []
        for number, values in self.sheet.rows:
            self.rows += 1
            pending.append((number, self._row(number, values)))
            if len(pending) >= size:
                items = self._located(pending)
                pending = []
                size = min(2 * size, BATCH_MAX)
                if self.ok:
                    yield items
        if pending:
            items = self._located(pending)
            if self.ok:
                yield items

    def _err(self, row: int, column: str, code: str, message: str) -> None:
        self.errors.append(CellError(row, column, code, message))

    def _located(self, pending: list[tuple[int, dict[str, Any]]]) -> list[BulkCase]:
        """One bulk locate for the batch; outside the jurisdiction is an error of its row."""
        points = [(r["lat"], r["lng"]) if r["lat"] is not None else None for _, r in pending]
        try:
            places = places_locate(points, self.index, self.locator)
        except ValueError:
            raise FileError("location_required", "辖区不唯一,无坐标的工单无法定位,请补充经纬度") from None
        for (number, _r), place in zip(pending, places, strict=True):
            if place is None:
                self._err(number, "经度", "outside_jurisdiction", "坐标不在本辖区范围内")
        if not self.ok:
            return []
        return [_bulk_case(r, place) for (_number, r), place in zip(pending, places, strict=True)]

    def _row(self, number: int, values: list[Any]) -> dict[str, Any]:
        """One row's values checked; each problem is an error of its row and column."""
        err = self._err
        cells = [v if type(v) is str else _text(v) for v in values]
        if _CONTROL.search("".join(cells)):  # one search per row; per column only when something is there
            for column, cell in zip(COLUMNS, cells, strict=True):
                if _CONTROL.search(cell):
                    message = f"{column}含有不可见的控制字符,请删除后重新导出"
                    err(number, column, "invalid_characters", message)
        (order, _called, kind_cell, category_cell, text, address, lng_cell, lat_cell, name, phone_cell,
         state, finished_cell, rating_text) = cells  # fmt: skip
        if not _ORDER.match(order):
            err(number, "工单编号", "invalid_order_id", "工单编号为空或含有字母、数字、-、_ 以外的字符")
        elif order in self.seen:
            err(number, "工单编号", "duplicate_in_file", f"工单编号与第{self.seen[order]}行重复")
        else:
            self.seen[order] = number
        called = _datetime(values[1], self.zone)
        if called is None:
            err(number, "来电时间", "invalid_date", "来电时间格式应为 2026-01-31 09:30")
        elif called > self.now:
            err(number, "来电时间", "future_date", "来电时间晚于当前时间")
        category = self.categories.get(category_cell)
        if category is None:
            err(number, "问题分类", "unknown_category", f"未知的问题分类“{category_cell}”")
        kind = KINDS.get(kind_cell) if kind_cell else (category.default_kind if category else None)
        if kind_cell and kind is None:
            err(number, "诉求类型", "unknown_kind", f"诉求类型应为:{'、'.join(KINDS)}")
        if not text:
            err(number, "诉求内容", "text_required", "诉求内容为空")
        elif len(text) > TEXT_MAX:
            err(number, "诉求内容", "text_too_long", f"诉求内容超过{TEXT_MAX}字")
        lng, lat = _float(values[6]), _float(values[7])
        if (lng_cell and lng is None) or (lat_cell and lat is None) or bool(lng_cell) != bool(lat_cell):
            err(number, "经度", "invalid_coordinates", "经度、纬度应同时填写数字")
            lat = lng = None
        phone = _PHONE_SPACING.sub("", phone_cell) if phone_cell else ""
        if phone and not _PHONE.match(phone):
            err(number, "联系电话", "invalid_phone", "联系电话格式不正确")
        done = state in DONE_STATES
        if not done and state not in OPEN_STATES:
            err(number, "办理状态", "unknown_state", "办理状态应为“办理中”或“已办结”")
        finished = _datetime(values[11], self.zone) if finished_cell else None
        if finished_cell and finished is None:
            err(number, "办结时间", "invalid_date", "办结时间格式应为 2026-01-31 09:30")
        if done and finished is None and finished_cell == "":
            err(number, "办结时间", "finish_required", "已办结的工单需要办结时间")
        if finished is not None and called is not None and finished < called:
            err(number, "办结时间", "finish_before_call", "办结时间早于来电时间")
        if rating_text and rating_text not in RATINGS:
            err(number, "满意度", "unknown_rating", "满意度应为:满意、基本满意、不满意")
        return {
            "order": order,
            "called": called,
            "category": category,
            "kind": kind,
            "text": text,
            "address": address,
            "lat": lat,
            "lng": lng,
            "name": name,
            "phone": phone,
            "done": done,
            "finished": finished,
            "rating": RATINGS.get(rating_text, ""),
        }


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
