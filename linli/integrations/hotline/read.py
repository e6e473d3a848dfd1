"""Reading 12345 work-order files (CSV or XLSX) into rows of text cells, column names from the header.

XLSX rules (QUALITY IO-2): a numeric cell in an ID-like column (工单编号, 联系电话) is refused — Excel has
already dropped leading zeros or rounded it — and a formula cell is taken as its text, never evaluated.
Workbooks are read by openpyxl, which parses them with defusedxml (installed) — no XML bombs, no XXE.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

COLUMNS = [
    "工单编号",
    "来电时间",
    "诉求类型",
    "问题分类",
    "诉求内容",
    "地址",
    "经度",
    "纬度",
    "联系人",
    "联系电话",
    "办理状态",
    "办结时间",
    "满意度",
]
REQUIRED = ["工单编号", "来电时间", "问题分类", "诉求内容"]
ID_LIKE = {"工单编号", "联系电话"}
MAX_ROWS = 2_000_000


@dataclass
class CellError:
    row: int  # the row number in the file (the header is row 1)
    column: str
    code: str
    message: str


@dataclass
class Sheet:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (file row number, cells)
    errors: list[CellError] = field(default_factory=list)


class FileError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _header(cells: list[Any]) -> list[str]:
    names = [str(c).strip().lstrip("\ufeff") if c is not None else "" for c in cells]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileError("missing_columns", f"缺少必需的列:{'、'.join(missing)}")
    return names


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # 12345 systems often export GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("bad_encoding", "文件编码无法识别,请另存为 UTF-8 CSV")


def read_csv(data: bytes) -> Sheet:
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        names = _header(next(reader))
    except StopIteration:
        raise FileError("empty_file", "文件为空") from None
    sheet = Sheet()
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise FileError("too_many_rows", f"单个文件不能超过{MAX_ROWS}行")
        sheet.rows.append((number, {n: v.strip() for n, v in zip(names, cells, strict=False) if n}))
    return sheet


def _xlsx_cell(value: Any, data_type: str) -> Any:
    if data_type == "f" or (isinstance(value, str) and value.startswith("=")):
        return str(value)  # a formula is text here: never evaluated, never trusted as a value
    if isinstance(value, str):
        return value.strip()
    return value


def read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged or disguised file
        raise FileError("bad_xlsx", "无法读取该 Excel 文件,请确认是 .xlsx 格式") from exc
    sheet = Sheet()
    try:
        ws = book.worksheets[0]
        rows = ws.iter_rows()
        try:
            names = _header([c.value for c in next(rows)])
        except StopIteration:
            raise FileError("empty_file", "文件为空") from None
        for number, cells in enumerate(rows, start=2):
            values: dict[str, Any] = {}
            for name, cell in zip(names, cells, strict=False):
                if not name:
                    continue
                value = _xlsx_cell(cell.value, getattr(cell, "data_type", "s"))
                if name in ID_LIKE and isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.errors.append(
                        CellError(
                            number, name, "numeric_id_cell", f"{name}为数值单元格,请设为文本格式后重新导出"
                        )
                    )
                    value = str(value)
                values[name] = "" if value is None else value
            if not any(v not in ("", None) for v in values.values()):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                raise FileError("too_many_rows", f"单个文件不能超过{MAX_ROWS}行")
            sheet.rows.append((number, values))
    finally:
        book.close()
    return sheet


def read_file(data: bytes, filename: str) -> Sheet:
    name = filename.lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return read_csv(data)
    raise FileError("unsupported_file", "只支持 .csv 和 .xlsx 文件")
