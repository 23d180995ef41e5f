"""Blank import templates, made from the same column definitions the importer reads.

Each template has the headers on its first sheet (frozen, with an autofilter, required columns
marked) and a second sheet, 填写说明, that explains every column: whether it is required, what
to write, an example, and the other header spellings the importer recognises.
"""

from io import BytesIO
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from crm.excel.columns import KINDS, FieldDef, ImportKind

PARSER_HELP = {
    "text": "文字",
    "uscc": "18 位统一社会信用代码",
    "date": "日期",
    "money": "金额（数字，可带千分位）",
    "int": "整数",
    "bool": "是 / 否",
    "percent": "百分比",
    "year": "四位年份",
    "district": "本市县（市、区）名称",
    "park": "园区名称",
    "industry": "行业名称",
    "tech_field": "技术领域名称",
    "phone": "电话号码（文本格式）",
    "email": "电子邮箱",
    "choice": "从可选值中选填",
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def filename(kind: ImportKind) -> str:
    """Return the download name of a kind's template."""
    return f"导入模板_{kind.label}.xlsx"


def _header_text(kind: ImportKind, definition: FieldDef, year: int) -> str:
    # The firm list has no 年度 column: its yearly figures name the year in the header.
    if definition.yearly and kind.code == "firms":
        return f"{year}年{definition.header}"
    return definition.header


def _required(kind: ImportKind, definition: FieldDef) -> str:
    if definition.key in ("name", "uscc"):
        if kind.creates_firms:
            return "新建时必填"
        return "二选一"
    return "必填" if definition.required else ""


def _choices(definition: FieldDef) -> str:
    if definition.choices:
        return "可选值：" + "、".join(definition.choices.values())
    return ""


def build(kind: ImportKind, year: int) -> bytes:
    """Return the blank template of `kind` as xlsx bytes; yearly headers name `year`."""
    book = Workbook()
    sheet = book.active
    sheet.title = "导入模板"
    definitions = kind.fields
    for index, definition in enumerate(definitions, start=1):
        cell = sheet.cell(row=1, column=index, value=_header_text(kind, definition, year))
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if _required(kind, definition) else HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(cell.value) * 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(definitions))}1"
    sheet.row_dimensions[1].height = 32

    notes = book.create_sheet("填写说明")
    notes.append([f"{kind.label}导入模板填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([kind.description])
    notes.append(
        [
            "第一张工作表的第一行是列名；也可以使用本单位原有的表格，系统会自动识别标题行、"
            "两级表头、序号列和合计行，并按下表的列名或其他写法对应字段。金额的单位写在列名里，"
            "如「营业收入（万元）」；没有写单位时按元计算。空白单元格不会清除系统中已有的数据。"
            + (
                "各年度指标的列名带年份；导入多个年度时，复制该列并改写列名中的年份。"
                if kind.code == "firms"
                else ""
            )
        ]
    )
    notes.append([])
    header = ["列名", "是否必填", "填写格式", "说明", "示例", "也可写作"]
    notes.append(header)
    for cell in notes[notes.max_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for definition in definitions:
        notes.append(
            [
                _header_text(kind, definition, year),
                _required(kind, definition),
                PARSER_HELP[definition.parser],
                "；".join(part for part in (definition.help, _choices(definition)) if part),
                definition.example,
                "、".join(definition.synonyms),
            ]
        )
    for column, width in zip("ABCDEF", (28, 10, 22, 60, 24, 40), strict=True):
        notes.column_dimensions[column].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_all(folder: Path, year: int) -> list[Path]:
    """Write every kind's template into `folder`; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS.values():
        path = folder / filename(kind)
        path.write_bytes(build(kind, year))
        written.append(path)
    return written
