"""The import's .xlsx reader: cell types as Excel stored them (text, number, date, formula), shared and
inline strings, and refusals of what defusedxml would refuse (DTDs, entity bombs) and of zip bombs."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook

from linli.people.excel.xlsx_reader import XlsxBook, XlsxError


def _book() -> bytes:
    book = Workbook()  # the normal (not write-only) mode: shared strings and styles, like Excel and WPS
    sheet = book.active
    sheet.append(["证件号码", "出生日期", "房号", "公式"])
    sheet.append(["110105194912310029", dt.date(1949, 12, 31), 302, "=A2&B2"])
    sheet.append([110105194912310029, "1949-12-31", 3.5, None])
    sheet["B3"].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_cells_keep_the_type_excel_stored() -> None:
    rows = list(XlsxBook(_book()).rows())

    header, first, second = rows
    assert [c.value for c in header if c] == ["证件号码", "出生日期", "房号", "公式"]
    assert (first[0].value, first[0].data_type) == ("110105194912310029", "s")
    assert (first[1].value, first[1].data_type) == (dt.datetime(1949, 12, 31), "d")
    assert (first[2].value, first[2].data_type) == (302, "n")
    assert (first[3].value, first[3].data_type) == ("=A2&B2", "f")
    assert second[0].data_type == "n"  # the ID typed as a number: the import refuses it
    assert (second[2].value, second[2].data_type) == (3.5, "n")
    assert len(second) == 3


def _replace(data: bytes, name: str, body: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, body if info.filename == name else src.read(info.filename))
    return out.getvalue()


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
    b'<c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
)
XXE = BOMB.replace(b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">')
LATE = b'<?xml version="1.0"?><!-- ' + b"x" * 9000 + b" -->" + BOMB[len(b'<?xml version="1.0"?>') :]
PARTS = ["xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml"]


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("body", [BOMB, XXE, LATE], ids=["bomb", "xxe", "late-dtd"])
def test_a_dtd_anywhere_is_refused(body: bytes, part: str) -> None:
    data = _replace(_book(), part, body)
    with pytest.raises(XlsxError):
        list(XlsxBook(data).rows())


def test_a_utf16_part_is_refused() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><worksheet/>'.encode("utf-16")
    with pytest.raises(XlsxError):
        list(XlsxBook(_replace(_book(), "xl/worksheets/sheet1.xml", body)).rows())


def test_a_zip_bomb_is_refused_by_its_unpacked_size() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (201 * 1024 * 1024) + b"</a>")
    with pytest.raises(XlsxError):
        XlsxBook(out.getvalue())


def test_shared_strings_with_rich_text_runs_as_excel_writes_them() -> None:
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook {main} {rel}><sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f"<sst {main}><si><t>姓名</t></si><si><r><t>张</t></r><r><t>三</t></r></si></sst>",
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet {main}><sheetData><row r="1"><c r="B1" t="s"><v>0</v></c></row>'
            f'<row r="2"><c r="B2" t="s"><v>1</v></c><c r="C2" t="b"><v>1</v></c></row></sheetData></worksheet>',
        )
    rows = list(XlsxBook(out.getvalue()).rows())
    assert [[c.value if c else None for c in row] for row in rows] == [[None, "姓名"], [None, "张三", True]]
