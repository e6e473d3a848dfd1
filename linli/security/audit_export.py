"""How audit rows are shown and exported: personal data masked (PI-2), spreadsheet cells escaped (IO-2)."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.roles import Role
from linli.security.audit_labels import action_label
from linli.security.masking import mask, mask_text
from linli.security.models import AuditEvent, AuditResult

# Keys in ``data`` whose values are personal by name, whatever the caller put there.
_PERSONAL_KEYS = {
    "name": "name",
    "display_name": "name",
    "contact_name": "name",
    "phone": "phone",
    "mobile": "phone",
    "id_number": "id_number",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ROLE_LABELS = dict(Role.choices)


def mask_ip(value: str | None) -> str:
    """``10.1.2.*`` / ``2001:db8:1::*``: enough to tell networks apart, not a person's connection."""
    if not value:
        return ""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "***"
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".*"
    return ":".join(address.exploded.split(":")[:3]) + "::*"


def _mask_data(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask_data(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_data(v, key) for v in value]
    if isinstance(value, str):
        category = _PERSONAL_KEYS.get(key.lower())
        return mask(category, value) if category else mask_text(value)
    return value


def masked_details(data: dict[str, Any]) -> str:
    if not data:
        return ""
    return json.dumps(_mask_data(data), ensure_ascii=False, sort_keys=True)


def audit_row_display(event: AuditEvent) -> dict[str, Any]:
    local = timezone.localtime(event.created_at)
    return {
        "seq": event.seq,
        "time": local.strftime("%Y-%m-%d %H:%M:%S"),
        "time_utc": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_label,
        "roles": "、".join(str(_ROLE_LABELS.get(r, r)) for r in event.role.split(",") if r),
        "ip": mask_ip(event.ip),
        "action": event.action,
        "action_label": action_label(event.action),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "result": event.result,
        "result_label": str(AuditResult(event.result).label)
        if event.result in AuditResult.values
        else event.result,
        "request_id": event.request_id,
        "details": masked_details(event.data),
    }


def export_headers() -> list[str]:
    return [
        _("链序号"), _("时间(北京时间)"), _("时间(UTC)"), _("操作人账号"), _("角色"), _("IP地址(已脱敏)"),
        _("操作"), _("操作代码"), _("对象类型"), _("对象编号"), _("结果"), _("请求编号"), _("详情(已脱敏)"),
    ]  # fmt: skip


def _cells(row: dict[str, Any]) -> list[Any]:
    return [
        row["seq"], row["time"], row["time_utc"], row["actor"], row["roles"], row["ip"], row["action_label"],
        row["action"], row["object_type"], row["object_id"], row["result_label"], row["request_id"],
        row["details"],
    ]  # fmt: skip


def cell_safe(value: Any) -> Any:
    """A text cell that Excel/WPS will not run as a formula: ``'`` before = + - @ (and tab, CR)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """CSV text, one chunk per row (streamed), with a BOM so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(export_headers())
    yield "\ufeff" + flush()
    for event in events:
        writer.writerow([cell_safe(c) for c in _cells(audit_row_display(event))])
        yield flush()


def xlsx_bytes(events: Iterable[AuditEvent]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("审计日志"))
    sheet.append(export_headers())
    for event in events:
        sheet.append([cell_safe(c) for c in _cells(audit_row_display(event))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
