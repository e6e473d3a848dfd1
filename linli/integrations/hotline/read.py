"""Reading 12345 work-order files (CSV or XLSX) row by row into the values of ``COLUMNS`` (the header names
the columns; their order in the file is free, extra columns are ignored).

XLSX rules (QUALITY IO-2): a numeric cell in an ID-like column (工单编号, 联系电话) is refused — Excel has
already dropped leading zeros or rounded it — and a formula cell is taken as its text, never evaluated.
Workbooks are read by openpyxl, which parses them with defusedxml (installed) — no XML bombs, no XXE.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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
    """The file's rows, read lazily: ``rows`` yields (file row number, the values of ``COLUMNS`` in that
    order, "" for a column the file lacks); blank rows are skipped. ``errors`` fills as ``rows`` is read
    (XLSX cell rules); ``FileError`` (``too_many_rows``) can come from the iteration too."""

    rows: Iterator[tuple[int, list[Any]]]
    errors: list[CellError] = field(default_factory=list)


class FileError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _header(cells: list[Any]) -> list[int]:
    """Per column of ``COLUMNS`` its position in the file's rows; a missing optional column points one past
    the row's end, where the reader puts a blank."""
    names = [str(c).strip().lstrip("\ufeff") if c is not None else "" for c in cells]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileError("missing_columns", f"缺少必需的列:{'、'.join(missing)}")
    return [names.index(c) if c in names else len(names) for c in COLUMNS]


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
        positions = _header(next(reader))
    except StopIteration:
        raise FileError("empty_file", "文件为空") from None
    return Sheet(rows=_csv_rows(reader, positions))


def _csv_rows(reader: Iterator[list[str]], positions: list[int]) -> Iterator[tuple[int, list[Any]]]:
    width = max(positions) + 1
    count = 0
    for number, cells in enumerate(reader, start=2):
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        values = [cells[i].strip() for i in positions]
        if not any(values) and not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileError("too_many_rows", f"单个文件不能超过{MAX_ROWS}行")
        yield number, values


def _xlsx_cell(value: Any, data_type: str) -> Any:
    if data_type == "f" or (isinstance(value, str) and value.startswith("=")):
        return str(value)  # a formula is text here: never evaluated, never trusted as a value
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged or disguised file
        raise FileError("bad_xlsx", "无法读取该 Excel 文件,请确认是 .xlsx 格式") from exc
    try:
        rows = book.worksheets[0].iter_rows()
        try:
            positions = _header([c.value for c in next(rows)])
        except StopIteration:
            raise FileError("empty_file", "文件为空") from None
    except BaseException:
        book.close()
        raise
    sheet = Sheet(rows=iter(()))
    sheet.rows = _xlsx_rows(book, rows, positions, sheet.errors)
    return sheet


def _xlsx_rows(
    book: Any, rows: Iterator[Any], positions: list[int], errors: list[CellError]
) -> Iterator[tuple[int, list[Any]]]:
    width = max(positions) + 1
    ids = [COLUMNS.index(name) for name in ID_LIKE]
    count = 0
    try:
        for number, row in enumerate(rows, start=2):
            cells = [_xlsx_cell(c.value, getattr(c, "data_type", "s")) for c in row]
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            values = [cells[i] for i in positions]
            if all(v == "" for v in cells):
                continue
            for k in ids:
                value = values[k]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    name = COLUMNS[k]
                    errors.append(
                        CellError(
                            number, name, "numeric_id_cell", f"{name}为数值单元格,请设为文本格式后重新导出"
                        )
                    )
                    values[k] = str(value)
            count += 1
            if count > MAX_ROWS:
                raise FileError("too_many_rows", f"单个文件不能超过{MAX_ROWS}行")
            yield number, values
    finally:
        book.close()


def read_file(data: bytes, filename: str) -> Sheet:
    name = filename.lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    if name.endswith(".csv") or name.endswith(".txt"):
        return read_csv(data)
    raise FileError("unsupported_file", "只支持 .csv 和 .xlsx 文件")
