"""The parts of a layout's .xlsx package around its sheet: content types, relations, the
workbook (with the print titles and print area), and the stylesheet with its numbered styles.

The sheet (`layout_book`) refers to the cell styles by the numbers given here.
"""

import re
import zipfile

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

#: The kinds of column and the number format each is written with (built-in ids, 164 our own).
NUMBER_FORMATS = {
    "text": 0,  # General
    "code": 49,  # @, text
    "date": 164,  # yyyy-mm-dd
    "money": 4,  # #,##0.00
    "count": 3,  # #,##0
    "number": 1,  # 0
    "percent": 10,  # 0.00%
}
DATE_FORMAT = "yyyy-mm-dd"
KINDS = tuple(NUMBER_FORMATS)

# The cell styles (cellXfs), by number: the fixed ones, then per kind of column a data style, a
# quoted data style (formula-like text, one past the data style) and a bold one for 合计.
TITLE, FILL_LINE, DATE_LINE, HEADER, NOTE, SERIAL, TOTAL = range(1, 8)
FIRST_KIND_STYLE = 8


def data_style(kind: str) -> int:
    """Return the number of the style of a data cell of `kind`."""
    return FIRST_KIND_STYLE + 3 * KINDS.index(kind)


def quoted(style: int) -> int:
    """Return the quoted variant of a data cell's style (text kept from running as a formula)."""
    return style + 1 if style >= FIRST_KIND_STYLE else style


def total_style(kind: str) -> int:
    """Return the number of the style of a 合计 cell of `kind`."""
    return data_style(kind) + 2


def escape(text: str) -> str:
    """Return text for XML: illegal characters replaced, & < > escaped."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_package(
    archive: zipfile.ZipFile, name: str, title_rows: tuple[int, int], area: str
) -> None:
    """Write the parts around the sheet called `name`: content types, relations, styles, and
    the workbook, which says the rows `title_rows` repeat on every printed page and the cells
    of `area` ("$A$1:$T$40") are printed."""
    sheet = escape("'" + name.replace("'", "''") + "'")
    defined_names = (
        f'<definedName name="_xlnm.Print_Titles" localSheetId="0">{sheet}'
        f"!${title_rows[0]}:${title_rows[1]}</definedName>"
        f'<definedName name="_xlnm.Print_Area" localSheetId="0">{sheet}!{area}</definedName>'
    )
    write = archive.writestr
    write(
        "[Content_Types].xml",
        f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(
            f'<Override PartName="{part}" '
            f'ContentType="application/vnd.openxmlformats-officedocument.{kind}"/>'
            for part, kind in (
                ("/xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
                ("/xl/worksheets/sheet1.xml", "spreadsheetml.worksheet+xml"),
                ("/xl/styles.xml", "spreadsheetml.styles+xml"),
            )
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
        f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews><sheets>'
        f'<sheet name="{escape(name).replace(chr(34), "&quot;")}" sheetId="1" r:id="rId1"/>'
        f"</sheets><definedNames>{defined_names}</definedNames>"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
    )
    write(
        "xl/_rels/workbook.xml.rels",
        f'{HEAD}<Relationships xmlns="{PACKAGE}">'
        f'<Relationship Id="rId1" Type="{RELATIONS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELATIONS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    write("xl/styles.xml", styles())


def styles() -> str:
    """Return the stylesheet: fonts, the header fill, the thin border and the cell styles."""
    font = '<font>{}<sz val="{}"/><name val="宋体"/><family val="3"/><charset val="134"/></font>'
    fonts = [font.format("", 11), font.format("<b/>", 11), font.format("<b/>", 16)]
    fonts.append(font.format("", 10))
    fills = (
        '<fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/>'
        '<bgColor indexed="64"/></patternFill></fill>'
    )
    thin = "".join(
        f'<{side} style="thin"><color auto="1"/></{side}>'
        for side in ("left", "right", "top", "bottom")
    )
    borders = (
        "<border><left/><right/><top/><bottom/><diagonal/></border>"
        f"<border>{thin}<diagonal/></border>"
    )

    def xf(number_format=0, font=0, fill=0, border=0, align=None, quoted=False) -> str:
        attributes = (
            f'numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="{border}" '
            'xfId="0"'
            + (' applyNumberFormat="1"' if number_format else "")
            + (' applyFont="1"' if font else "")
            + (' applyFill="1"' if fill else "")
            + (' applyBorder="1"' if border else "")
            + (' quotePrefix="1"' if quoted else "")
        )
        if align is None:
            return f"<xf {attributes}/>"
        return f'<xf {attributes} applyAlignment="1"><alignment {align}/></xf>'

    center = 'horizontal="center" vertical="center" wrapText="1"'
    xfs = [
        xf(),
        xf(font=2, align=center),  # title
        xf(align='horizontal="left" vertical="center"'),  # 填报单位
        xf(align='horizontal="right" vertical="center"'),  # 填报日期
        xf(font=1, fill=2, border=1, align=center),  # header
        xf(font=3, align='horizontal="left" vertical="top" wrapText="1"'),  # note
        xf(number_format=1, border=1, align=center),  # 序号
        xf(font=1, border=1, align=center),  # 合计
    ]
    for kind in KINDS:
        if kind == "text":
            align = 'horizontal="left" vertical="center" wrapText="1"'
        elif kind in ("code", "date"):
            align = 'horizontal="center" vertical="center"'
        else:
            align = 'horizontal="right" vertical="center"'
        number_format = NUMBER_FORMATS[kind]
        xfs.append(xf(number_format, border=1, align=align))
        xfs.append(xf(number_format, border=1, align=align, quoted=True))
        xfs.append(xf(number_format, font=1, border=1, align=align))
    return (
        f'{HEAD}<styleSheet xmlns="{MAIN}">'
        f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/></numFmts>'
        f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        f'<fills count="3">{fills}</fills>'
        f'<borders count="2">{borders}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
