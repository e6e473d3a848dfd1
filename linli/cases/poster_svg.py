"""The building poster as one self-contained SVG file (A4 portrait, millimetre units): 扫码反映问题, the
building, its signed QR code as vector paths, and the 三亮 people with their duty phones.

Self-contained: no external fonts, images, stylesheets or scripts, so a print shop's tool, a browser
under our strict CSP and WeasyPrint (``poster_pdf_html``) all draw the same thing. Only presentation
attributes (``fill``, ``font-size``), never ``style``. Every text goes in through ElementTree, which escapes
``& < > "``; characters XML 1.0 cannot carry at all (control characters) are dropped first, so a building
or steward name can never break or inject markup.

SVG has no line wrapping: ``_wrap`` breaks lines on an estimated width (a CJK character is about one
em wide, Latin about half) and the layout keeps a fixed budget of lines per block, ending a cut text
with "…". The people list takes one column up to four people, two columns up to ten; further people are
summarised in one line pointing to the community notice board (公示栏), as the HTML poster's fallback.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from django.utils.translation import gettext as _

from linli.cases.qr import PosterPerson

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 210.0, 297.0  # A4 in mm; the viewBox uses the same units
MARGIN = 20.0
RED, DARK_RED, TEXT, MUTED, RULE = "#b4232a", "#8e1b21", "#1d2129", "#59616c", "#e1e4e8"
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
QR_SIZE = 88.0
QR_BORDER = 4  # modules of quiet zone, as the standard asks
PEOPLE_TOP = 192.0  # the list ends above the footer (5 rows of PERSON_HEIGHT: 277 mm)
PERSON_HEIGHT = 17.0
ONE_COLUMN_MAX = 4
TWO_COLUMNS_MAX = 10

# XML 1.0 allows tab, newline, carriage return and U+0020 onwards except surrogates and U+FFFE/U+FFFF.
_PATH_DATA = re.compile(r'<path[^>]* d="([Mmh0-9. -]+)"')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: object) -> str:
    return _NOT_XML.sub("", str(text or "")).strip()


def _em(char: str) -> float:
    """Estimated advance of one character, in ems."""
    return 1.0 if ord(char) >= 0x2E80 else 0.56


def _wrap(text: str, *, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` mm at ``size`` mm; cut with "…" past max_lines."""
    text = " ".join(_clean(text).split())
    lines: list[str] = []
    line, used = "", 0.0
    for char in text:
        advance = _em(char) * size
        if line and used + advance > width:
            lines.append(line)
            line, used = "", 0.0
            if char == " ":
                continue
        line += char
        used += advance
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and sum(_em(c) for c in last + "…") * size > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


@dataclass
class _Canvas:
    root: ET.Element

    def rect(self, x: float, y: float, w: float, h: float, **attrs: str) -> None:
        ET.SubElement(self.root, "rect", {"x": _n(x), "y": _n(y), "width": _n(w), "height": _n(h), **attrs})

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        fill: str = TEXT,
        anchor: str = "start",
        bold: bool = False,
        parent: ET.Element | None = None,
    ) -> ET.Element:
        attrs = {"x": _n(x), "y": _n(y), "font-size": _n(size), "fill": fill}
        if anchor != "start":
            attrs["text-anchor"] = anchor
        if bold:
            attrs["font-weight"] = "bold"
        node = ET.SubElement(self.root if parent is None else parent, "text", attrs)
        node.text = _clean(text)
        return node

    def lines(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        width: float,
        max_lines: int,
        leading: float = 1.35,
        **kw: object,
    ) -> float:
        """Wrapped text from baseline ``y``; returns the baseline after the last line."""
        for line in _wrap(text, size=size, width=width, max_lines=max_lines):
            self.text(x, y, line, size=size, **kw)  # type: ignore[arg-type]
            y += size * leading
        return y


def _n(value: float) -> str:
    """A coordinate with at most two decimals (readable files, stable output)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def qr_path_data(url: str) -> tuple[str, int]:
    """segno's vector path of the QR symbol for ``url`` (error correction Q, as the print-shop file) and
    the symbol's width in modules, without quiet zone; the path is drawn with a stroke 1 module wide."""
    code = segno.make(url, error="q")
    markup = code.svg_inline(scale=1, border=0, omitsize=False, svgclass=None, lineclass=None)
    found = _PATH_DATA.search(markup)  # segno's own markup: one path, its data made of M/m/h and numbers
    if found is None:  # pragma: no cover - segno always draws one path
        raise ValueError("segno returned no path")
    return str(found.group(1)), int(code.symbol_size(scale=1, border=0)[0])


def _draw_qr(canvas: _Canvas, url: str, *, x: float, y: float, size: float) -> None:
    data, modules = qr_path_data(url)
    scale = size / (modules + 2 * QR_BORDER)
    canvas.rect(x, y, size, size, fill="#ffffff")
    offset = QR_BORDER * scale
    ET.SubElement(
        canvas.root,
        "path",
        {
            "class": "qr",
            "d": data,
            "stroke": "#000000",
            "fill": "none",
            "shape-rendering": "crispEdges",
            "transform": f"translate({_n(x + offset)} {_n(y + offset)}) scale({scale:.5f})",
        },
    )


def _draw_person(canvas: _Canvas, person: PosterPerson, *, x: float, y: float, width: float) -> None:
    """One 三亮 entry in a PERSON_HEIGHT box whose first baseline is ``y``."""
    role = _clean(person.role)
    badge = sum(_em(c) for c in role) * 3.4 + 3.0
    canvas.rect(x, y - 3.6, badge, 5.0, fill=RED, rx="1.5")
    canvas.text(x + 1.5, y, role, size=3.4, fill="#ffffff")
    name = canvas.text(x + badge + 2.0, y, person.name, size=4.6, bold=True)
    if person.organisation:
        org = ET.SubElement(name, "tspan", {"font-size": "3.4", "font-weight": "normal", "fill": MUTED})
        org.text = "  " + _clean(person.organisation)
    next_y = y + 5.2
    if person.duty:
        next_y = canvas.lines(
            x, next_y, _("职责:") + person.duty, size=3.3, width=width, max_lines=1, fill=MUTED
        )
    phone = person.phone or _("见社区公示栏")
    canvas.text(x, next_y, _("值守电话:") + phone, size=3.6, fill=TEXT)


def building_poster_svg(
    *,
    url: str,
    building_name: str,
    building_code: str,
    estate_name: str = "",
    community_name: str = "",
    address: str = "",
    people: Sequence[PosterPerson] = (),
    platform_name: str = "",
    xml_declaration: bool = True,
) -> str:
    """The whole poster as SVG text (UTF-8 with an XML declaration unless ``xml_declaration`` is False,
    e.g. when the SVG goes inline into an HTML document for the PDF)."""
    title = " ".join(filter(None, [_clean(estate_name), _clean(building_name), _("扫码反映问题")]))
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": f"{_n(WIDTH)}mm",
            "height": f"{_n(HEIGHT)}mm",
            "viewBox": f"0 0 {_n(WIDTH)} {_n(HEIGHT)}",
            "font-family": FONT,
        },
    )
    ET.SubElement(root, "title").text = title
    canvas = _Canvas(root)
    canvas.rect(0, 0, WIDTH, HEIGHT, fill="#ffffff")
    canvas.rect(0, 0, WIDTH, 12, fill=RED)
    centre, inner = WIDTH / 2, WIDTH - 2 * MARGIN

    kicker = " · ".join(filter(None, [_clean(platform_name), _("有事找社区,诉求有回音")]))
    canvas.text(centre, 24, kicker, size=5, fill=DARK_RED, anchor="middle")
    canvas.text(centre, 42, _("扫码反映问题"), size=15, fill=RED, anchor="middle", bold=True)
    place = " · ".join(filter(None, [_clean(community_name), _clean(estate_name), _clean(building_name)]))
    y = canvas.lines(centre, 53, place, size=6.5, width=inner, max_lines=2, anchor="middle", bold=True)
    if address:
        canvas.lines(
            centre, y - 1.5, address, size=4.2, width=inner, max_lines=1, anchor="middle", fill=MUTED
        )

    qr_top = 64.0
    _draw_qr(canvas, url, x=centre - QR_SIZE / 2, y=qr_top, size=QR_SIZE)
    hint = _("微信或手机相机扫一扫,拍照说明问题,自动定位到本楼栋。办理进度可随时查看。")
    canvas.lines(
        centre, qr_top + QR_SIZE + 8, hint, size=4.2, width=inner, max_lines=2, anchor="middle", fill=MUTED
    )

    ET.SubElement(
        root,
        "line",
        {
            "x1": _n(MARGIN),
            "y1": "176",
            "x2": _n(WIDTH - MARGIN),
            "y2": "176",
            "stroke": RULE,
            "stroke-dasharray": "2 1.5",
        },
    )
    canvas.text(
        centre, 185, _("亮身份 · 亮职责 · 亮组织"), size=5.5, fill=DARK_RED, anchor="middle", bold=True
    )
    _draw_people(canvas, list(people), inner=inner)

    canvas.text(MARGIN, 287, building_code, size=3, fill=MUTED)
    canvas.lines(MARGIN, 291.5, url, size=2.6, width=inner, max_lines=2, fill=MUTED)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' if xml_declaration else "") + body + "\n"


def _draw_people(canvas: _Canvas, people: list[PosterPerson], *, inner: float) -> None:
    if not people:
        canvas.text(
            WIDTH / 2,
            PEOPLE_TOP + 6,
            _("本楼栋的网格员与小管家信息待社区补充。"),
            size=4,
            fill=MUTED,
            anchor="middle",
        )
        return
    columns = 1 if len(people) <= ONE_COLUMN_MAX else 2
    capacity = ONE_COLUMN_MAX if columns == 1 else TWO_COLUMNS_MAX
    shown = people if len(people) <= capacity else people[: capacity - 1]
    gap = 8.0
    width = (inner - gap * (columns - 1)) / columns

    def slot(i: int) -> tuple[float, float]:
        column, row = (0, i) if columns == 1 else (i % 2, i // 2)
        return MARGIN + column * (width + gap), PEOPLE_TOP + 5 + row * PERSON_HEIGHT

    for i, person in enumerate(shown):
        x, y = slot(i)
        _draw_person(canvas, person, x=x, y=y, width=width)
    if len(shown) < len(people):
        x, y = slot(len(shown))  # the free slot after the last person shown
        more = _("另有%(n)d人,详见社区公示栏") % {"n": len(people) - len(shown)}
        canvas.text(x, y, more, size=3.6, fill=MUTED)
