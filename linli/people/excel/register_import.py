"""Importing the household register from an .xlsx sheet: all or nothing, with a per-row error report (IO-2).

The whole sheet is read and every row validated first (building in the importer's ``people.edit`` scope,
name, ID number with its check character and explicit handling of 港澳台 and foreigner documents, phone,
dates, choices, duplicates inside the file and against people already living somewhere). If any row has an
error nothing is saved and the report lists every error by row and column. Otherwise households and
residents are written in one transaction with one move-in history row each, in batches (the encryption of
ID numbers and phones happens in ``bulk_create``). Either way the import writes exactly one audit row.

Columns are found by their header text, in any order (``COLUMNS``); 楼栋编码, 房号 and 姓名 are required.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.people.errors import PeopleError
from linli.people.excel.cells import cell_date, cell_text
from linli.people.excel.xlsx_reader import XlsxBook, XlsxError
from linli.people.identity import CleanIdentity, clean_choice, clean_identity
from linli.people.models import (
    Household,
    MoveKind,
    Registration,
    Relation,
    Resident,
    ResidentMove,
    ResidentStatus,
    tags_join,
)
from linli.people.selectors.households import buildings_for_user
from linli.people.services.households import household_clean_address, resident_move_in
from linli.places.models import Region
from linli.security import crypto
from linli.security.audit import audit_record
from linli.security.models import AuditResult

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 1000  # the report stops listing here (the import is refused anyway)
BATCH = 1000

# (key, header text). Required: building_code, room, name.
COLUMNS: list[tuple[str, str]] = [
    ("building_code", "楼栋编码"),
    ("unit_no", "单元"),
    ("room", "房号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "证件号码"),
    ("phone", "联系电话"),
    ("relation", "与户主关系"),
    ("registration", "户籍类型"),
    ("tags", "标签"),
    ("moved_in_on", "迁入日期"),
]
REQUIRED = ("building_code", "room", "name")
HEADER_ALIASES = {
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "手机号": "phone",
    "电话": "phone",
    "楼栋": "building_code",
}
_GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female", "": ""}


@dataclass(frozen=True)
class RowError:
    row: int  # the sheet's row number, as Excel shows it
    column: str  # header text
    code: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    households_created: int = 0
    residents_created: int = 0
    residents_returned: int = 0  # moved out earlier, moved in again (same person, same history)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    committed: bool = False
    seconds: float = 0.0

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "households_created": self.households_created,
            "residents_created": self.residents_created,
            "residents_returned": self.residents_returned,
            "error_count": self.error_count,
            "errors": [e.__dict__ for e in self.errors],
            "committed": self.committed,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Row:
    number: int
    building: Region
    unit_no: str
    room: str
    ident: CleanIdentity
    relation: str
    registration: str
    tags: list[str]
    moved_in_on: Any


_COLUMN_OF_CODE = {
    "name": "name", "gender": "gender", "birth": "birth_date", "id": "id_number", "phone": "phone",
    "relation": "relation", "registration": "registration",
}  # fmt: skip


def _column_for(code: str) -> str:
    for prefix, key in _COLUMN_OF_CODE.items():
        if code.startswith(prefix):
            return key
    return "name"


def _header_map(cells: tuple[Any, ...]) -> dict[str, int]:
    labels = {label: key for key, label in COLUMNS} | HEADER_ALIASES
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = str(getattr(cell, "value", "") or "").strip().replace("*", "")
        key = labels.get(text)
        if key and key not in found:
            found[key] = index
    return found


def _open_sheet(data: bytes) -> Iterator[tuple[Any, ...]]:
    """The first worksheet's rows (``xlsx_reader``: strict, streaming, DTDs and zip bombs refused)."""
    if len(data) > MAX_BYTES:
        raise PeopleError("file_too_large", _("文件超过10MB,请分批导入"))
    if not data.startswith(b"PK\x03\x04"):
        raise PeopleError("not_xlsx", _("请上传 Excel 2007 及以上版本的 .xlsx 文件"))
    try:
        rows = XlsxBook(data).rows()
        first = next(rows, None)
    except XlsxError as exc:
        raise PeopleError("xlsx_corrupt", _("无法读取该 Excel 文件,请另存为 .xlsx 后重试")) from exc
    if first is None:
        raise PeopleError("xlsx_empty", _("工作表是空的"))
    yield first
    try:
        yield from rows
    except XlsxError as exc:
        raise PeopleError("xlsx_corrupt", _("无法读取该 Excel 文件,请另存为 .xlsx 后重试")) from exc


def _parse(rows: Iterator[tuple[Any, ...]], user: User, report: ImportReport) -> list[_Row]:
    header: dict[str, int] | None = None
    header_labels: dict[str, str] = dict(COLUMNS)
    raw: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        if all(getattr(c, "value", None) in (None, "") for c in row):
            continue
        if header is None:
            header = _header_map(row)
            missing = [header_labels[k] for k in REQUIRED if k not in header]
            if missing:
                raise PeopleError(
                    "header_missing",
                    _("第%(n)d行表头缺少:%(cols)s(请使用导出的模板)")
                    % {"n": number, "cols": "、".join(missing)},
                )
            continue
        raw.append((number, {key: row[i] if i < len(row) else None for key, i in header.items()}))
        if len(raw) > MAX_ROWS:
            raise PeopleError("too_many_rows", _("一次最多导入%(n)d行,请分批导入") % {"n": MAX_ROWS})
    if header is None:
        raise PeopleError("xlsx_empty", _("工作表是空的"))
    report.rows = len(raw)

    codes: set[str] = set()
    for _number, cells in raw:
        with contextlib.suppress(PeopleError):  # a bad cell is reported row by row below
            codes.add(cell_text(cells.get("building_code")))
    buildings = {b.code: b for b in buildings_for_user(user, Capability.PEOPLE_EDIT).filter(code__in=codes)}

    # Translated once per import, not once per row (10,000 rows × 5 labels of gettext add up).
    label_building, label_id = _("楼栋编码"), _("证件号码")
    label_birth, label_moved = _("出生日期"), _("迁入日期")
    today = timezone.localdate()
    parsed: list[_Row] = []
    for number, cells in raw:
        current = "building_code"
        try:
            code = cell_text(cells.get("building_code"), what=label_building)
            building = buildings.get(code)
            if building is None:
                # The same answer for "no such building" and "not yours" (AC-1).
                raise PeopleError(
                    "building_unknown", _("楼栋编码“%(c)s”不存在或不在您的管辖范围内") % {"c": code[:40]}
                )
            current = "room"
            unit_no, room = household_clean_address(
                unit_no=cell_text(cells.get("unit_no")), room=cell_text(cells.get("room"))
            )
            current = "id_number"
            id_number = cell_text(cells.get("id_number"), numeric_ok=False, what=label_id)
            current = "birth_date"
            birth_date = cell_date(cells.get("birth_date"), what=label_birth)
            current = "moved_in_on"
            moved_in_on = cell_date(cells.get("moved_in_on"), what=label_moved) or today
            if moved_in_on > today:
                raise PeopleError("date_in_future", _("迁入日期不能晚于今天"))
            current = "gender"
            gender_text = cell_text(cells.get("gender"))
            if gender_text not in _GENDERS:
                raise PeopleError("gender_invalid", _("性别只能是“男”或“女”"))
            current = "phone"
            phone = cell_text(cells.get("phone"))
            current = "name"
            name = cell_text(cells.get("name"))
            current = ""  # clean_identity's error code names the column
            ident = clean_identity(
                name=name,
                gender=_GENDERS[gender_text],
                birth_date=birth_date,
                id_number=id_number,
                phone=phone,
            )
            current = "relation"
            relation = clean_choice(
                cell_text(cells.get("relation")) or Relation.HEAD, Relation, field="relation"
            )
            current = "registration"
            registration = clean_choice(
                cell_text(cells.get("registration")) or Registration.HUKOU, Registration, field="registration"
            )
            tags = [
                t
                for t in cell_text(cells.get("tags"))
                .replace(",", "、")
                .replace(",", "、")
                .replace(" ", "、")
                .split("、")
                if t
            ]
        except PeopleError as exc:
            column = current or _column_for(exc.code)
            report.add(RowError(number, header_labels.get(column, column), exc.code, exc.message))
            continue
        parsed.append(_Row(number, building, unit_no, room, ident, relation, registration, tags, moved_in_on))
    return parsed


def _check_duplicates(rows: list[_Row], report: ImportReport) -> dict[str, int]:
    """Errors for ID numbers twice in the file or already living somewhere; returns index → moved-out
    resident id for people who come back (moved in again as the same row)."""
    first_row: dict[str, int] = {}
    for row in rows:
        number = row.ident.id_number
        if not number:
            continue
        if number in first_row:
            report.add(
                RowError(
                    row.number,
                    "证件号码",
                    "id_duplicate_in_file",
                    _("与第%(n)d行的证件号码重复") % {"n": first_row[number]},
                )
            )
        else:
            first_row[number] = row.number
    index_of = {crypto.blind_index("id_number", n): n for n in first_row}
    present: set[str] = set()
    returning: dict[str, int] = {}
    keys = sorted(index_of)
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        for resident_id, index, status in Resident.objects.filter(id_number_index__in=chunk).values_list(
            "id", "id_number_index", "status"
        ):
            if status == ResidentStatus.PRESENT:
                present.add(index_of[index])
            else:
                returning[index_of[index]] = resident_id
    for row in rows:
        if row.ident.id_number in present:
            report.add(
                RowError(
                    row.number,
                    "证件号码",
                    "resident_present_elsewhere",
                    _("该证件号码的居民已登记在住,请先办理迁出"),
                )
            )
    return returning


def _write(rows: list[_Row], returning: dict[str, int], user: User, report: ImportReport) -> None:
    keys = {(r.building.pk, r.unit_no, r.room) for r in rows}
    building_ids = sorted({k[0] for k in keys})
    existing = {
        (h.building_id, h.unit_no, h.room): h
        for h in Household.objects.filter(building_id__in=building_ids).only(
            "id", "building_id", "unit_no", "room", "grid_id", "region_path"
        )
    }
    buildings = {r.building.pk: r.building for r in rows}
    new = [
        Household(
            building_id=b, unit_no=u, room=room, grid_id=buildings[b].grid_id, region_path=buildings[b].path
        )
        for (b, u, room) in sorted(keys - set(existing))
    ]
    Household.objects.bulk_create(new, batch_size=BATCH)
    report.households_created = len(new)
    if new and any(h.pk is None for h in new):  # a backend without RETURNING: read the ids back
        existing = {
            (h.building_id, h.unit_no, h.room): h
            for h in Household.objects.filter(building_id__in=building_ids)
        }
    else:
        existing |= {(h.building_id, h.unit_no, h.room): h for h in new}

    reason = _("Excel 导入")
    residents: list[Resident] = []
    for row in rows:
        household = existing[(row.building.pk, row.unit_no, row.room)]
        if row.ident.id_number in returning:
            resident_move_in(
                actor=user,
                household=household,
                name=row.ident.name,
                gender=row.ident.gender,
                birth_date=row.ident.birth_date,
                id_number=row.ident.id_number,
                phone=row.ident.phone,
                relation=row.relation,
                registration=row.registration,
                tags=row.tags,
                moved_on=row.moved_in_on,
                reason=reason,
            )
            report.residents_returned += 1
            continue
        residents.append(
            Resident(
                household=household,
                name=row.ident.name,
                gender=row.ident.gender,
                birth_date=row.ident.birth_date,
                id_kind=row.ident.id_kind,
                id_number=row.ident.id_number,
                phone=row.ident.phone,
                relation=row.relation,
                registration=row.registration,
                tags=tags_join(row.tags),
                status=ResidentStatus.PRESENT,
                moved_in_on=row.moved_in_on,
                grid_id=household.grid_id,
                region_path=household.region_path,
            )
        )
    Resident.objects.bulk_create(residents, batch_size=BATCH)
    if any(r.pk is None for r in residents):
        raise RuntimeError("bulk_create returned no ids; this database backend is not supported for imports")
    ResidentMove.objects.bulk_create(
        [
            ResidentMove(
                resident=r,
                household_id=r.household_id,
                kind=MoveKind.IN,
                moved_on=r.moved_in_on,
                reason=reason,
                actor=user,
                grid_id=r.grid_id,
                region_path=r.region_path,
            )
            for r in residents
        ],
        batch_size=BATCH,
    )
    report.residents_created = len(residents)


def register_import(
    *, user: User, data: bytes, request: HttpRequest | None = None, filename: str = ""
) -> ImportReport:
    """Validate the whole sheet, then save all of it or nothing. Exactly one audit row either way."""
    started = time.perf_counter()
    report = ImportReport()
    file_error: PeopleError | None = None
    try:
        rows = _parse(_open_sheet(data), user, report)
        returning = _check_duplicates(rows, report)
        if report.error_count == 0:
            try:
                with transaction.atomic():
                    _write(rows, returning, user, report)
                report.committed = True
            except (IntegrityError, PeopleError) as exc:
                # A concurrent move-in took one of these people between the check and the write.
                report.households_created = report.residents_created = report.residents_returned = 0
                file_error = PeopleError("import_conflict", _("导入时有居民被同时登记,已全部撤销,请重新导入"))
                if isinstance(exc, PeopleError):
                    file_error = exc
    except PeopleError as exc:
        file_error = exc
    report.seconds = time.perf_counter() - started
    if file_error is not None:
        report.add(RowError(0, "", file_error.code, file_error.message))
    audit_record(
        action="data.import",
        actor=user,
        obj=None,
        object_type="people.resident",
        result=AuditResult.OK if report.committed else AuditResult.FAILED,
        data={
            "source": "xlsx",
            "rows": report.rows,
            "households_created": report.households_created,
            "residents_created": report.residents_created,
            "residents_returned": report.residents_returned,
            "errors": report.error_count,
            "seconds": round(report.seconds, 3),
        },
        request=request,
    )
    return report
