"""The year of the yearly columns whose header names none (职工总数, 营业收入（万元）), and what a
dry run says of the columns it leaves out.

A county list often puts the year once, above the columns, rather than in each header: in a
group heading (「2024年度主要经济指标」 over 营业收入 and 研发费用), in the title
(「2024年度XX县高企后备库企业名单」), in the sheet's name or in the file's. `sheet_year` looks
there, in that order, and a place naming more than one year says nothing. Pure: no Flask, no
database.
"""

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

#: A year on its own, not the start of a date (2024年3月1日, 2024-03-01, 2024.3).
_YEAR = re.compile(
    r"(?<!\d)((?:19|20)\d{2})(?!\d)(?!\s*(?:年\s*\d{1,2}\s*月|[-/.．]\s*\d{1,2}(?!\d{2})))"
)
#: Characters of a text shown in a message before it is cut.
_SHOWN = 24


@dataclass(frozen=True)
class SheetYear:
    """A year found for the sheet, and where, in Chinese: 标题行「2024年度…」."""

    year: int
    source: str


def years_in(text: str) -> set[int]:
    """Return the years a text names (dates left out)."""
    return {int(found.group(1)) for found in _YEAR.finditer(text)}


def sheet_year(labels: list[str], titles: list[str], sheet: str, filename: str) -> SheetYear | None:
    """Return the year of the sheet's yearless columns, or None when nothing tells it.

    `labels` are the column labels, two-level ones joined as "上 / 下"; their upper parts are
    the group headings. `titles` are the texts above the header.
    """
    groups = [label.split(" / ")[0] for label in labels if " / " in label]
    places = (
        ("表头", groups),
        ("标题行", titles),
        ("工作表名", [sheet]),
        ("文件名", [PurePath(filename).stem]),
    )
    for place, texts in places:
        found: dict[int, str] = {}
        for text in texts:
            for year in sorted(years_in(text)):
                found.setdefault(year, text)
        if len(found) == 1:
            year, text = next(iter(found.items()))
            shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
            return SheetYear(year, f"{place}「{shown}」")
    return None


def not_imported(columns: list[dict[str, Any]]) -> list[str]:
    """Return, in Chinese, the columns a dry run leaves out, and why.

    `columns` are the columns the dry run stored (`ImportBatch.columns`).
    """
    lines = []
    pending = [c for c in columns if c.get("needs_year")]
    if pending:
        named = "、".join(f"{c['letter']}「{c['label']}」" for c in pending)
        lines.append(f"{named}：未注明年度，已校验但未导入")
    ignored = [c for c in columns if not c.get("key")]
    if ignored:
        named = "、".join(f"{c['letter']}「{c['label'] or '（无列名）'}」" for c in ignored)
        lines.append(f"{named}：未对应任何字段，不导入")
    return lines


def years_taken(columns: list[dict[str, Any]]) -> list[str]:
    """Return, in Chinese, the yearless columns that took a year from elsewhere, and which."""
    groups: dict[str, list[str]] = {}
    for c in columns:
        if c.get("year_from"):
            groups.setdefault(c["year_from"], []).append(f"{c['letter']}「{c['label']}」")
    return [f"{'、'.join(named)}：列名未注明年度，按 {source}" for source, named in groups.items()]
