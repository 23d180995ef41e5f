"""A one-sheet .xlsx written as a stream of rows, fast enough for a 50,000-row sheet.

openpyxl's write-only mode builds a cell object and an XML element for every value, about
30 µs a cell: 45 s for a sheet of 50,000 rows and 30 columns. Here each row becomes its
SpreadsheetML text directly, and only the few marked cells carry a style or a comment. What is
written: numbers, text (as inline strings), booleans, dates and times (with their formats), a
fill, a font colour, bold and wrapping per cell, comments (with the VML drawing Excel needs to
show them), a frozen header, column widths, an autofilter over the header row and a number
format per column (money, dates, text). Text that Excel would run as a formula is written as
text with the quote prefix, like `crm.spreadsheets.writer`.
"""

import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import TextIOWrapper
from pathlib import Path
from typing import Any

from crm.spreadsheets.tables import column_letter
from crm.spreadsheets.writer import is_formula_like

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EPOCH = date(1899, 12, 30)
_FIRST_SERIAL = date(1900, 3, 1)  # earlier serials go through Excel's 1900 leap-year bug
#: Number formats by the type of value: date, date and time, time of day, duration.
_FORMATS = {"date": 164, "datetime": 165, "time": 166, "duration": 167}
_FORMAT_CODES = {
    164: "yyyy-mm-dd",
    165: "yyyy-mm-dd h:mm:ss",
    166: "h:mm:ss",
    167: "[h]:mm:ss",
}
#: Number formats Excel knows by number, so they need no declaration.
_BUILT_IN = {"0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "@": 49}
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Look:
    """How a cell looks: a solid fill and a font colour (RGB hex), bold, wrapped at the top."""

    fill: str | None = None
    color: str | None = None
    bold: bool = False
    wrap: bool = False


@dataclass(slots=True)
class Styled:
    """A cell value with its look and, optionally, a comment."""

    value: Any
    look: Look = Look()
    comment: str | None = None


def _escape(text: str) -> str:
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(text: str) -> str:
    return _escape(text).replace('"', "&quot;").replace("\n", "&#10;")


class SheetWriter:
    """Write rows into one sheet of a new .xlsx at `target`; use as a context manager.

    `append(values)` writes the next row; a value is a plain value or a `Styled`. Rows are
    numbered from 1 as they come; `skip_to(number)` leaves the rows before `number` empty.
    `widths` gives column widths in characters (None keeps the default), `formats` a number
    format code per column ("#,##0.00", "yyyy-mm-dd", "@" for text; None for the value's own),
    and `autofilter` puts filter buttons on the last frozen row (or the first row).
    """

    def __init__(
        self,
        target: Path,
        title: str,
        *,
        frozen_rows: int = 0,
        author: str = "",
        widths: Sequence[float | None] = (),
        formats: Sequence[str | None] = (),
        autofilter: bool = False,
    ):
        self._archive = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        member = self._archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._out = TextIOWrapper(member, encoding="utf-8", errors="replace", newline="")
        self._title = title
        self._author = author
        self._number = 0
        self._letters: list[str] = []
        self._xfs: dict[tuple, int] = {(0, 0, 0, False, False): 0}
        self._fonts: dict[tuple, int] = {(None, False): 0}
        self._fills: dict[str | None, int] = {None: 0, "gray125": 1}
        self._comments: list[tuple[int, int, str]] = []
        self._codes = dict(_FORMAT_CODES)
        self._filter_row = max(frozen_rows, 1) if autofilter else 0
        self._width = 0
        #: The style of each column with a number format, plain and quoted.
        self._column_styles = [self._column_style(code, False) for code in formats]
        self._quoted_styles = [self._column_style(code, True) for code in formats]
        view = ""
        if frozen_rows:
            view = (
                '<sheetViews><sheetView workbookViewId="0">'
                f'<pane ySplit="{frozen_rows}" topLeftCell="A{frozen_rows + 1}" '
                'activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            )
        columns = "".join(
            f'<col min="{n}" max="{n}" width="{width:g}" customWidth="1"/>'
            for n, width in enumerate(widths, start=1)
            if width
        )
        if columns:
            view += f"<cols>{columns}</cols>"
        self._out.write(f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{RELATIONS}">{view}<sheetData>')

    def _column_style(self, code: str | None, quoted: bool) -> int:
        if code is None:
            return self._style(None, 0, True) if quoted else 0
        number = _BUILT_IN.get(code)
        if number is None:
            number = next((n for n, known in self._codes.items() if known == code), None)
            if number is None:
                number = max(self._codes) + 1
                self._codes[number] = code
        return self._style(None, number, quoted)

    def __enter__(self) -> "SheetWriter":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self._out.close()
            self._archive.close()

    def skip_to(self, number: int) -> None:
        """Leave the rows up to `number - 1` empty; the next row written is `number`."""
        self._number = max(self._number, number - 1)

    def append(self, values: list[Any]) -> None:
        """Write the next row."""
        self._number += 1
        number = self._number
        letters = self._letters
        while len(letters) < len(values):
            letters.append(column_letter(len(letters)))
        self._width = max(self._width, len(values))
        columns = self._column_styles
        formatted = len(columns)
        parts = [f'<row r="{number}">']
        for index, value in enumerate(values):
            if value is None:
                continue
            style = columns[index] if index < formatted else 0
            if style and type(value) is not Styled:
                parts.append(self._formatted(letters[index], number, index, value, style))
                continue
            if type(value) is Styled:
                if value.comment:
                    self._comments.append((number, index, value.comment))
                style_of = value.look
                value = value.value
            else:
                style_of = None
            ref = f"{letters[index]}{number}"
            if value is None:
                # An empty cell marked with its look (and comment): empty, never the text "None".
                parts.append(f'<c r="{ref}" s="{self._style(style_of, 0, False)}"/>')
                continue
            kind = type(value)
            if kind is str:
                quoted = is_formula_like(value)
                if style_of is not None or quoted:
                    style = self._style(style_of, 0, quoted)
                parts.append(_text_cell(ref, value, style))
                continue
            if kind is int or kind is float:
                if style_of is not None:
                    style = self._style(style_of, 0, False)
                if kind is float and not math.isfinite(value):
                    parts.append(_text_cell(ref, str(value), style))
                    continue
                parts.append(
                    f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
                    if style
                    else f'<c r="{ref}"><v>{value!r}</v></c>'
                )
                continue
            parts.append(self._other(ref, value, style_of))
        parts.append("</row>")
        self._out.write("".join(parts))

    def _formatted(self, letter: str, number: int, index: int, value: Any, style: int) -> str:
        """A cell of a column with its own number format."""
        ref = f"{letter}{number}"
        kind = type(value)
        if kind is str:
            if is_formula_like(value):
                style = self._quoted_styles[index]
            return _text_cell(ref, value, style)
        if kind is bool:
            return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
        if kind is int or (kind is float and math.isfinite(value)):
            return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
        if kind is Decimal and value.is_finite():
            return f'<c r="{ref}" s="{style}"><v>{value:f}</v></c>'
        serial, _ = _serial(value)
        if serial is None:
            text = str(value)
            if is_formula_like(text):
                style = self._quoted_styles[index]
            return _text_cell(ref, text, style)
        return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'

    def _other(self, ref: str, value: Any, look: Look | None) -> str:
        if isinstance(value, Decimal) and value.is_finite():
            style = self._style(look, 0, False) if look else 0
            styled = f' s="{style}"' if style else ""
            return f'<c r="{ref}"{styled}><v>{value:f}</v></c>'
        if isinstance(value, bool):
            style = self._style(look, 0, False)
            return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
        serial, number_format = _serial(value)
        if serial is None:
            text = str(value)
            style = self._style(look, 0, is_formula_like(text))
            return _text_cell(ref, text, style)
        style = self._style(look, _FORMATS[number_format], False)
        return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'

    def _style(self, look: Look | None, number_format: int, quoted: bool) -> int:
        look = look or Look()
        font = self._fonts.setdefault((look.color, look.bold), len(self._fonts))
        fill = self._fills.setdefault(look.fill, len(self._fills))
        key = (number_format, font, fill, look.wrap, quoted)
        return self._xfs.setdefault(key, len(self._xfs))

    def close(self) -> None:
        """Finish the sheet and write the rest of the package."""
        tail = ""
        names = ""
        if self._filter_row and self._width:
            area = f"A{self._filter_row}:{column_letter(self._width - 1)}{max(self._number, 1)}"
            tail = f'<autoFilter ref="{area}"/>'
            absolute = "$" + area.replace(":", ":$")
            absolute = re.sub(r"([A-Z]+)(\d+)", r"\1$\2", absolute)
            sheet = "'" + self._title.replace("'", "''") + "'"
            names = (
                '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
                f'hidden="1">{_escape(sheet)}!{absolute}</definedName></definedNames>'
            )
        if self._comments:
            tail += '<legacyDrawing r:id="rId2"/>'
        self._out.write(f"</sheetData>{tail}</worksheet>")
        self._out.close()
        write = self._archive.writestr
        overrides = [
            ("/xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
            ("/xl/worksheets/sheet1.xml", "spreadsheetml.worksheet+xml"),
            ("/xl/styles.xml", "spreadsheetml.styles+xml"),
        ]
        sheet_rels = []
        if self._comments:
            overrides.append(("/xl/comments1.xml", "spreadsheetml.comments+xml"))
            sheet_rels = [
                ("rId1", "comments", "../comments1.xml"),
                ("rId2", "vmlDrawing", "../drawings/vmlDrawing1.vml"),
            ]
            write("xl/comments1.xml", self._comments_xml())
            write("xl/drawings/vmlDrawing1.vml", self._vml())
            write("xl/worksheets/_rels/sheet1.xml.rels", _relations(sheet_rels))
        write(
            "[Content_Types].xml",
            f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="vml" '
            'ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
            + "".join(
                f'<Override PartName="{part}" '
                f'ContentType="application/vnd.openxmlformats-officedocument.{kind}"/>'
                for part, kind in overrides
            )
            + "</Types>",
        )
        write(
            "_rels/.rels",
            f'{HEAD}<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        write(
            "xl/workbook.xml",
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
            f'<sheet name="{_attribute(self._title)}" sheetId="1" r:id="rId1"/>'
            f"</sheets>{names}</workbook>",
        )
        write(
            "xl/_rels/workbook.xml.rels",
            _relations(
                [("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "styles", "styles.xml")]
            ),
        )
        write("xl/styles.xml", self._styles_xml())
        self._archive.close()

    def _styles_xml(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{n}" formatCode="{_attribute(code)}"/>'
            for n, code in self._codes.items()
        )
        fonts = []
        for color, bold in self._fonts:
            inner = ("<b/>" if bold else "") + (f'<color rgb="FF{color}"/>' if color else "")
            fonts.append(f'<font>{inner}<sz val="11"/><name val="Calibri"/></font>')
        fills = []
        for fill in self._fills:
            if fill is None:
                fills.append('<fill><patternFill patternType="none"/></fill>')
            elif fill == "gray125":
                fills.append('<fill><patternFill patternType="gray125"/></fill>')
            else:
                fills.append(
                    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/>'
                    f'<bgColor rgb="FF{fill}"/></patternFill></fill>'
                )
        xfs = []
        for number_format, font, fill, wrap, quoted in self._xfs:
            attributes = (
                f'numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="0" '
                f'xfId="0"'
                + (' applyNumberFormat="1"' if number_format else "")
                + (' applyFont="1"' if font else "")
                + (' applyFill="1"' if fill else "")
                + (' quotePrefix="1"' if quoted else "")
            )
            if wrap:
                xfs.append(
                    f'<xf {attributes} applyAlignment="1">'
                    '<alignment wrapText="1" vertical="top"/></xf>'
                )
            else:
                xfs.append(f"<xf {attributes}/>")
        return (
            f'{HEAD}<styleSheet xmlns="{MAIN}">'
            f'<numFmts count="{len(self._codes)}">{formats}</numFmts>'
            f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
            f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        )

    def _comments_xml(self) -> str:
        comments = "".join(
            f'<comment ref="{column_letter(index)}{number}" authorId="0"><text>'
            f'<t xml:space="preserve">{_escape(text)}</t></text></comment>'
            for number, index, text in self._comments
        )
        return (
            f'{HEAD}<comments xmlns="{MAIN}"><authors><author>{_escape(self._author)}</author>'
            f"</authors><commentList>{comments}</commentList></comments>"
        )

    def _vml(self) -> str:
        # Excel shows a comment through a hidden note shape anchored beside its cell; each
        # block of 1024 shape ids is declared in the idmap.
        blocks = ",".join(str(n) for n in range(1, len(self._comments) // 1024 + 2))
        shapes = "".join(
            f'<v:shape id="_x0000_s{1025 + n}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:195pt;'
            'height:67.5pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{index + 1}, 15, {number - 1}, 10, {index + 3}, 15, {number + 3}, 4"
            "</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{number - 1}</x:Row><x:Column>{index}</x:Column></x:ClientData></v:shape>"
            for n, (number, index, _) in enumerate(self._comments)
        )
        return (
            '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel">'
            f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/>'
            "</o:shapelayout>"
            '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
            f"{shapes}</xml>"
        )


def _text_cell(ref: str, text: str, style: int) -> str:
    styled = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _serial(value: Any) -> tuple[float | int | None, str]:
    """Return a date, time or duration as Excel's serial number and its format name."""
    if isinstance(value, datetime):
        if value.tzinfo is not None or value.date() < _FIRST_SERIAL:
            return None, ""
        delta = value - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400e6, "datetime"
    if isinstance(value, date):
        if value < _FIRST_SERIAL:
            return None, ""
        return (value - _EPOCH).days, "date"
    if isinstance(value, time):
        if value.tzinfo is not None:
            return None, ""
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return (seconds + value.microsecond / 1e6) / 86400, "time"
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400, "duration"
    return None, ""


def _relations(relations: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="{rid}" Type="{RELATIONS}/{kind}" Target="{target}"/>'
        for rid, kind, target in relations
    )
    return f'{HEAD}<Relationships xmlns="{PACKAGE}">{body}</Relationships>'
