"""Exporting the household register to .xlsx: masked by default, full values only with reveal rights AND a
reason (PI-2), always exactly one audit row (AUD-1), cells escaped against formulas and ID numbers and
phones as text cells (IO-2). The columns are the import's, so a revealed export is a valid import file.

Who may export: ``people.export`` in scope (the rows are the intersection of what the user sees and where
they may export). Revealing: ``people.reveal``; each row is revealed only when the reveal scope covers it,
other rows stay masked in the same file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.people.access import for_capability, may
from linli.people.errors import PeopleError
from linli.people.excel.cells import cell_safe
from linli.people.excel.register_import import COLUMNS
from linli.people.models import Resident
from linli.people.selectors.households import RegisterFilters, residents_for_user
from linli.security.audit import audit_record
from linli.security.masking import mask_id_number, mask_name, mask_phone, mask_text
from linli.security.models import AuditResult

MAX_EXPORT_ROWS = 50_000
REASON_MAX = 200
EXTRA_COLUMNS = [("status", "状态"), ("moved_out_on", "迁出日期"), ("grid", "网格")]
TEXT_KEYS = {"building_code", "unit_no", "room", "id_number", "phone"}


@dataclass(frozen=True)
class ExportResult:
    content: bytes
    filename: str
    rows: int
    revealed_rows: int


def _row(r: Resident, reveal: bool) -> dict[str, Any]:
    return {
        "building_code": r.household.building.code,
        "unit_no": r.household.unit_no,
        "room": r.household.room,
        "name": r.name if reveal else mask_name(r.name),
        "gender": str(r.get_gender_display()) if r.gender else "",
        "birth_date": (r.birth_date.isoformat() if r.birth_date else "")
        if reveal
        else (str(r.birth_date.year) if r.birth_date else ""),
        "id_number": r.id_number if reveal else mask_id_number(r.id_number),
        "phone": r.phone if reveal else mask_phone(r.phone),
        "relation": str(r.get_relation_display()).split("(")[0],
        "registration": str(r.get_registration_display()),
        "tags": "、".join(r.tag_list),
        "moved_in_on": r.moved_in_on.isoformat(),
        "status": str(r.get_status_display()),
        "moved_out_on": r.moved_out_on.isoformat() if r.moved_out_on else "",
        "grid": r.grid.name if r.grid else "",
    }


def _xlsx(rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("居民登记"))
    columns = [*COLUMNS, *EXTRA_COLUMNS]
    sheet.append([label for _key, label in columns])
    for row in rows:
        cells = []
        for key, _label in columns:
            value = cell_safe(row[key])
            if key in TEXT_KEYS:
                # Written as a string with the text format "@": Excel neither shows nor re-saves it as a number.
                cell = WriteOnlyCell(sheet, value=str(value))
                cell.number_format = "@"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_export(
    *,
    user: User,
    filters: RegisterFilters | None = None,
    reveal_reason: str = "",
    request: HttpRequest | None = None,
) -> ExportResult:
    """The register rows the user may export, as .xlsx; raises ``PeopleError`` (audited) when refused."""
    reason = (reveal_reason or "").strip()
    wants_reveal = bool(reason)

    def refuse(code: str, message: str) -> PeopleError:
        audit_record(
            action="data.export",
            actor=user,
            obj=None,
            object_type="people.resident",
            result=AuditResult.DENIED,
            data={"format": "xlsx", "code": code, "reason": mask_text(reason[:REASON_MAX])},
            request=request,
        )
        return PeopleError(code, message, status=403 if code.endswith("forbidden") else 400)

    if not user_has_capability(user, Capability.PEOPLE_EXPORT):
        raise refuse("export_forbidden", _("您无权导出居民登记"))
    if len(reason) > REASON_MAX:
        raise refuse("reason_too_long", _("理由不能超过200字"))
    if wants_reveal and not user_has_capability(user, Capability.REVEAL_PEOPLE):
        raise refuse("reveal_forbidden", _("您无权导出完整个人信息,请不填理由导出脱敏版本"))
    qs = for_capability(residents_for_user(user, filters), user, Capability.PEOPLE_EXPORT)
    residents = list(qs[: MAX_EXPORT_ROWS + 1])
    if len(residents) > MAX_EXPORT_ROWS:
        raise refuse(
            "export_too_large", _("一次最多导出%(n)d行,请按社区或网格筛选后分批导出") % {"n": MAX_EXPORT_ROWS}
        )
    revealed = 0
    rows = []
    for r in residents:
        reveal = wants_reveal and may(user, Capability.REVEAL_PEOPLE, r)
        revealed += reveal
        rows.append(_row(r, reveal))
    content = _xlsx(rows)
    f = filters or RegisterFilters()
    audit_record(
        action="data.export",
        actor=user,
        obj=None,
        object_type="people.resident",
        result=AuditResult.OK,
        data={
            "format": "xlsx",
            "rows": len(rows),
            "revealed_rows": revealed,
            "reason": mask_text(reason),
            "filters": {k: v for k, v in f.__dict__.items() if v},
        },
        request=request,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    suffix = "" if revealed else "-masked"
    return ExportResult(content, f"register-{stamp}{suffix}.xlsx", len(rows), revealed)
