"""Build spreadsheet files for tests: xlsx through openpyxl, a minimal ODS by hand, hostile zips."""

import datetime
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
    'office:version="1.2"'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def write_xlsx(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    merges: Iterable[str] = (),
    extra_sheets: dict[str, Iterable[Sequence[Any]]] | None = None,
    first: bool = True,
) -> Path:
    """Write rows to a one-sheet xlsx (more sheets after it, or before it if first is False)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    for index, (name, other_rows) in enumerate((extra_sheets or {}).items()):
        other = book.create_sheet(name, None if first else index)
        for row in other_rows:
            other.append(list(row))
    book.save(path)
    return path


def rewrite_member(path: Path, member: str, change: Callable[[bytes], bytes]) -> Path:
    """Rewrite one member of a zip-based workbook in place."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data) if info.filename == member else data)
    return path


def set_dimension(path: Path, ref: str, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """Rewrite the stored <dimension ref> of a sheet, as some producers leave it."""

    def change(data: bytes) -> bytes:
        data, count = re.subn(
            rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), data
        )
        if not count:
            data = data.replace(
                b"<sheetViews>", f'<dimension ref="{ref}"/><sheetViews>'.encode(), 1
            )
        return data

    return rewrite_member(path, member, change)


def append_raw_cells(path: Path, xml: str, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """Append raw <row> XML at the end of a sheet's data (a stray cell far away, an error value)."""
    return rewrite_member(
        path, member, lambda data: data.replace(b"</sheetData>", xml.encode() + b"</sheetData>")
    )


def write_zip_bomb(path: Path, size: int, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """Write an xlsx-shaped zip with one member of `size` zero bytes, streamed in chunks."""
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open(member, "w", force_zip64=True) as stream:
            for _ in range(size // len(chunk)):
                stream.write(chunk)
    return path


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_RAW_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_RELS_NS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_RELS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def shared_row(number: int, *indexes: int) -> str:
    """Return the XML of a sheet row whose cells, from column A, show the given shared strings."""
    cells = "".join(
        f'<c r="{chr(65 + column)}{number}" t="s"><v>{index}</v></c>'
        for column, index in enumerate(indexes)
    )
    return f'<row r="{number}">{cells}</row>'


def write_raw_xlsx(path: Path, rows_xml: str, shared: Iterable[bytes]) -> Path:
    """Write a one-sheet xlsx from hand-written parts: the sheet's rows and its shared strings.

    `shared` yields the <si> entries as bytes, in blocks; they are streamed into the zip, so a
    table of millions of entries takes a second, not the memory it would take to hold them.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, xml in _RAW_PARTS.items():
            archive.writestr(name, xml)
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{_MAIN_NS}"><sheetData>{rows_xml}</sheetData></worksheet>',
        )
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as stream:
            stream.write(f'<sst xmlns="{_MAIN_NS}">'.encode())
            for block in shared:
                stream.write(block)
            stream.write(b"</sst>")
    return path


def shared_entries(texts: Iterable[str]) -> bytes:
    """Return the <si> entries of some texts."""
    return "".join(f"<si><t>{escape(text)}</t></si>" for text in texts).encode()


def write_shared_strings_bomb(path: Path, entries: int) -> Path:
    """Write an xlsx of four text cells whose shared strings table holds `entries` tiny entries.

    The entries are one letter each, drawn at random so that the part compresses about as well
    as real text (a ratio well under the bomb check's), and written as one block repeated.
    """
    header = shared_entries(["企业名称", "统一社会信用代码", "某某科技有限公司", "x"])
    letters = os.urandom(1_000_000).translate(bytes(b"abcd"[i % 4] for i in range(256)))
    block = b"".join(b"<si><t>%c</t></si>" % letter for letter in letters)
    blocks = [header] + [block] * (entries // len(letters))
    return write_raw_xlsx(path, shared_row(1, 0, 1) + shared_row(2, 2, 3), blocks)


def ods_cell(value: Any) -> str:
    """Return the content.xml of one ODS cell holding value."""
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, OdsFormula):
        return value.xml()
    if isinstance(value, bool):
        flag = "true" if value else "false"
        return f'<table:table-cell office:value-type="boolean" office:boolean-value="{flag}"/>'
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, datetime.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value.isoformat()}</text:p></table:table-cell>"
        )
    lines = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(value).split("\n"))
    return f'<table:table-cell office:value-type="string">{lines}</table:table-cell>'


class OdsFormula:
    """An ODS formula cell as LibreOffice saves it: the formula, and the value it computed.

    A str value starting with "#" is an error value (#DIV/0!), which LibreOffice keeps as
    text with calcext:value-type="error"; None is a formula saved without any value.
    """

    def __init__(self, formula: str, value: Any = None):
        self.formula = formula
        self.value = value

    def xml(self) -> str:
        formula = f'table:formula="of:={escape(self.formula, {chr(34): "&quot;"})}"'
        value = self.value
        if value is None:
            return f"<table:table-cell {formula}/>"
        if isinstance(value, str) and value.startswith("#"):
            return (
                f'<table:table-cell {formula} office:value-type="string" office:string-value="" '
                f'calcext:value-type="error"><text:p>{escape(value)}</text:p></table:table-cell>'
            )
        if isinstance(value, int | float):
            return (
                f'<table:table-cell {formula} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell {formula} office:value-type="string">'
            f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
        )


def ods_table(name: str, rows: Iterable[Sequence[Any]]) -> str:
    """Return the content.xml of one ODS table."""
    body = "".join(
        "<table:table-row>" + "".join(ods_cell(v) for v in row) + "</table:table-row>"
        for row in rows
    )
    return f'<table:table table:name="{escape(name)}">{body}</table:table>'


def write_ods(
    path: Path, sheets: dict[str, Iterable[Sequence[Any]]] | None = None, *, tables_xml: str = ""
) -> Path:
    """Write a minimal ODS: an uncompressed mimetype first, a manifest, and content.xml."""
    tables = tables_xml or "".join(ods_table(name, rows) for name, rows in (sheets or {}).items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<office:document-content {_ODS_NS}><office:body><office:spreadsheet>"
        f"{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", _MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def county_list_rows() -> list[list[Any]]:
    """Return the rows of tests/fixtures/county_list.xls (see tests/fixtures/README.md)."""
    return [
        ["2024年梧州市高新技术企业后备库名单", None, None, None, None, None],
        ["填报单位：梧州市科学技术局", None, None, None, "填报日期：2024年3月1日", None],
        ["序号", "企业名称", "统一社会信用代码", "成立日期", "2024年度主要经济指标", None],
        [None, None, None, None, "营业收入（万元）", "研发费用（万元）"],
        [
            1,
            "梧州市星火电子科技有限公司",
            "91450400MA5K000001",
            datetime.date(2015, 6, 18),
            5230.5,
            312,
        ],
        [
            2,
            "岑溪市青山新材料有限公司",
            "91450481MA5K000002",
            datetime.date(2009, 11, 2),
            18000,
            960.25,
        ],
        [3, "藤县云帆智能装备有限公司", "91450422MA5K000003", datetime.date(2020, 1, 9), 742, 51],
        ["合计", None, None, None, 23972.5, 1323.25],
        ["注：经济指标为2023年度数据。", None, None, None, None, None],
    ]


#: merged cells of county_list.xls
COUNTY_LIST_MERGES = ("A1:F1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:F3")
