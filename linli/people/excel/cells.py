"""Reading and writing spreadsheet cells safely (IO-2).

On import a cell's *type* matters as much as its text: an ID number typed into a cell Excel treats as a
number has already lost its last digits (Excel keeps 15 significant digits: ``110101199003071234`` becomes
``110101199003071000``) or turned into ``1.10101E+17``; nothing can recover it, so such a cell is refused
with a row error rather than "fixed". Formula cells are refused too: we import values, not formulas.

On export every text cell that a spreadsheet would run as a formula gets a leading ``'`` (= + - @, tab,
CR: ``linli.security.audit_export.cell_safe``), and ID numbers and phones are written as text cells with
the text number format, so opening and re-saving the file cannot turn them into numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils.translation import gettext as _

from linli.people.errors import PeopleError
from linli.security.audit_export import cell_safe

__all__ = ["cell_date", "cell_safe", "cell_text"]

_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _data_type(cell: Any) -> str:
    return getattr(cell, "data_type", "") or ""


def cell_text(cell: Any, *, numeric_ok: bool = True, what: str = "") -> str:
    """A cell as stripped text. ``numeric_ok=False`` refuses number-typed cells (ID numbers)."""
    value = getattr(cell, "value", cell)
    if value is None:
        return ""
    if _data_type(cell) == "f" or (
        isinstance(value, str) and value.startswith("=") and _data_type(cell) != "s"
    ):
        raise PeopleError(
            "formula_cell", _("%(what)s是公式,请粘贴为数值后再导入") % {"what": what or _("该单元格")}
        )
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        if not numeric_ok:
            raise PeopleError(
                "id_numeric_cell",
                _("%(what)s是数字格式的单元格,末尾几位可能已被Excel改成0;请把该列设为“文本”格式后重新填写")
                % {"what": what or _("证件号码")},
            )
        if isinstance(value, float):
            if not value.is_integer():
                return str(value)
            value = int(value)
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        text = text[1:]  # our own export's formula escape, read back
    return text


def cell_date(cell: Any, *, what: str) -> dt.date | None:
    """A date cell (Excel date) or text ``2020-01-05`` / ``2020/1/5`` / ``2020年1月5日`` / ``20200105``."""
    value = getattr(cell, "value", cell)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(cell, what=what)
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise PeopleError(
        "date_invalid",
        _("%(what)s“%(text)s”不是有效日期,请写成 2020-01-05") % {"what": what, "text": text[:20]},
    )
