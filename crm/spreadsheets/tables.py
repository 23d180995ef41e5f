"""Find the table inside a sheet's rows: skip title lines, join two-level headers, drop noise.

Bureau spreadsheets put a title, the reporting unit and a date above the header, merge a group
heading over several columns ("2024年度主要经济指标" over 营业收入, 研发费用 ...), number the rows
in a 序号 column, add 合计 rows and end with notes (注：..., 填表人：...). `find_table` turns such
rows into labelled columns and a stream of data rows that keep their sheet row numbers.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from typing import Any

#: (first row, first column, last row, last column): rows 1-based, columns 0-based, inclusive
MergedRange = tuple[int, int, int, int]
Row = tuple[int, list[Any]]

LOOKAHEAD_ROWS = 200
SERIAL_HEADERS = {"序号", "序", "no.", "no", "no．"}
TOTAL_WORDS = ("合计", "小计", "总计", "共计")
#: the ways a total cell is written: 合计, 合 计, 合　计, 合计：
TOTAL_CELLS = frozenset(
    f"{word[0]}{gap}{word[1]}{colon}"
    for word in TOTAL_WORDS
    for gap in ("", " ", "  ", "\u3000", "\u3000\u3000")
    for colon in ("", ":", "：")
)

_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_NUMERAL = "一二三四五六七八九十百"
_SECTION = re.compile(
    rf"^(?:[{_NUMERAL}]+[、.．]|[（(][{_NUMERAL}]+[)）]|第[{_NUMERAL}\d]+[部分类批组])"
)
_FOOTNOTE = re.compile(
    r"^(?:注(?:[\d一二三四五六七八九十]*[:：、.．\s]|$)|说明(?:[:：\s]|$)|备注[:：]"
    r"|填表人|填报人|审核人|联系人|联系电话|填报日期|填表日期|制表)"
)
#: lines above a header that are not group headings: the unit, the date, the title of the list
_NOTE_LINE = re.compile(
    r"^(?:填报|填表|制表|报送|单位|日期|时间|联系|审核|截止|统计时间|附件|附表)|[:：]$"
    r"|(?:名单|名录|清单|[览总计况报记]表|台账|目录)$"
)
_TITLE_SHARE = 0.8


class SpreadsheetError(ValueError):
    """Report, in Chinese, what is wrong with an uploaded spreadsheet and where."""


@dataclass
class Column:
    """Describe one column of a table found in a sheet."""

    index: int
    letter: str
    label: str


@dataclass
class Table:
    """Hold a table's header, its columns, and its data rows as a stream.

    `skipped` counts the rows dropped and why ("blank", "total", "footnote", "section"); the
    counts are complete once `rows` has been read to the end.
    """

    header_rows: tuple[int, ...]
    columns: list[Column]
    rows: Iterator[Row]
    skipped: Counter = field(default_factory=Counter)
    #: The number of the sheet's last row, when the reader knows it (for progress).
    height: int | None = None
    #: The text of the lines above the header (the title, the unit, the date), cell by cell.
    titles: list[str] = field(default_factory=list)
    #: The cells holding a formula, by (sheet row, 0-based sheet column), as the reader gives
    #: them (`SheetRows.formulas`): (the formula's text or "", whether its value is kept).
    formulas: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """Return the Excel letter of a 0-based column index (0 is "A", 27 is "AB")."""
    if index < 0:
        raise ValueError(index)
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def normalise_header(value: Any) -> str:
    """Return a header cell as one line: whitespace collapsed, none kept between Chinese text."""
    if value is None:
        return ""
    text = _SPACES.sub(" ", str(value)).strip()
    return _CJK_GAP.sub("", text)


def find_table(
    rows: Iterable[Row],
    is_known_header: Callable[[str], bool],
    *,
    search_rows: int = 30,
    merged_ranges: list[MergedRange] | None = None,
) -> Table:
    """Find the header among the first rows and return the table below it, rows streamed.

    Merged ranges come from the rows object (see `Workbook.rows`) unless given; without them a
    group heading is carried to the right over the sub-headers that follow it.
    """
    if merged_ranges is None:
        merged_ranges = getattr(rows, "merged_ranges", None)
    source = iter(rows)
    head = list(islice(source, search_rows + 1))
    candidates = head[:search_rows]
    texts = [_header_texts(values) for _, values in head]
    scores = [sum(1 for text in row.values() if is_known_header(text)) for row in texts]
    best = max(range(len(candidates)), key=scores.__getitem__, default=None)
    if best is None or scores[best] < 2:
        raise SpreadsheetError(
            f"未找到表头：前 {search_rows} 行中没有可识别的列名"
            "（如「企业名称」「统一社会信用代码」）"
        )
    merges = merged_ranges or []
    header = [best]
    if _is_group_row(head, texts, best - 1, best, merges, is_known_header):
        header = [best - 1, best]
    elif _is_group_row(head, texts, best, best + 1, merges, is_known_header, below=True):
        header = [best, best + 1]
    labels = _labels(head, texts, header, merges)
    body = chain(head[header[-1] + 1 :], source)
    sample = list(islice(body, LOOKAHEAD_ROWS))
    columns = _columns(labels, sample)
    if not columns:
        raise SpreadsheetError("表头中没有可用的列")
    skipped: Counter = Counter()
    first = min(labels) if labels else 0
    data = _data_rows(chain(sample, body), columns, first, skipped)
    height = getattr(rows, "height", None)
    titles = [text for row in texts[: header[0]] for text in row.values()]
    formulas = getattr(rows, "formulas", None) or {}
    return Table(
        tuple(head[i][0] for i in header), columns, data, skipped, height, titles, formulas
    )


def _header_texts(values: list[Any]) -> dict[int, str]:
    """Return the non-empty cells of a row as normalised header text, by column index."""
    out = {}
    for index, value in enumerate(values):
        if value is not None:
            text = normalise_header(value)
            if text:
                out[index] = text
    return out


def _is_group_row(head, texts, upper, lower, merges, is_known, below=False) -> bool:
    """Tell whether row `upper` is a group heading over row `lower` (a two-level header)."""
    if upper < 0 or lower >= len(head) or head[upper][0] + 1 != head[lower][0]:
        return False
    up, low = texts[upper], texts[lower]
    if not up or not low:
        return False
    if any(not isinstance(head[upper][1][i], str) for i in up):
        return False
    # A header cell is never a note line: only a row without any column name can be one (the
    # unit, the date). The header found (the upper row when `below`) always holds some.
    named = below or any(is_known(text) for text in up.values())
    if not named and any(_NOTE_LINE.search(text) for text in up.values()):
        return False
    upper_row, lower_row = head[upper][0], head[lower][0]
    width = max(max(up), max(low)) + 1
    own = [m for m in merges if m[0] == upper_row]
    vertical = any(m[2] >= lower_row for m in own)
    groups = [m for m in own if m[2] == upper_row and m[3] > m[1]]
    spanning = any(m[3] - m[1] + 1 >= _TITLE_SHARE * width for m in groups)
    if below:
        # The header found is the upper row: the row below must hold sub-headers under a group.
        grouped = {i for m in groups for i in range(m[1], m[3] + 1)} | _carried(up, low)
        if any(i in grouped and is_known(text) for i, text in low.items()):
            return True
        return vertical and bool(groups) and not spanning
    if spanning and len(up) <= 2:
        return False
    if vertical or (groups and not spanning):
        return True
    if named:
        return _aligned(up, low)
    if len(up) <= 2 and min(up) == min(min(up), min(low)):
        return False  # a title or a unit line in the first column
    if len(up) == 1 and len(next(iter(up.values()))) > 20:
        return False  # a long line alone, a title typed into a middle cell
    return bool(_carried(up, low)) or any(i not in low for i in up)


def _aligned(up: dict[int, str], low: dict[int, str]) -> bool:
    """Tell whether each upper cell sits over an empty lower cell or heads the sub-headers to its
    right, as in a two-level header without merge information (not a line of label-value pairs).
    """
    return all(i not in low or (i + 1 in low and i + 1 not in up) for i in up)


def _carried(up: dict[int, str], low: dict[int, str]) -> set[int]:
    """Return the columns an unmerged group heading reaches: to its right, over sub-headers."""
    out: set[int] = set()
    for start in up:
        if start not in low:
            continue  # a header merged down over both rows, not a group heading
        index = start + 1
        while index in low and index not in up:
            out.add(index)
            index += 1
    return out


def _labels(head, texts, header, merges) -> dict[int, str]:
    """Return the joined label of every header column, by column index."""
    if len(header) == 1:
        return dict(texts[header[0]])
    upper, lower = header
    up, low = dict(texts[upper]), texts[lower]
    upper_row = head[upper][0]
    own = [m for m in merges if m[0] == upper_row and m[3] > m[1]]
    if own:
        for m in own:
            if m[1] in up:
                for index in range(m[1] + 1, m[3] + 1):
                    up.setdefault(index, up[m[1]])
    else:
        for index in sorted(_carried(up, low)):
            up[index] = up[index - 1]
    labels = {}
    for index in sorted(set(up) | set(low)):
        top, bottom = up.get(index), low.get(index)
        if top and bottom and top != bottom:
            labels[index] = f"{top} / {bottom}"
        else:
            labels[index] = bottom or top
    return labels


def _columns(labels: dict[int, str], sample: list[Row]) -> list[Column]:
    """Return the table's columns: labelled ones except 序号, and unlabelled ones holding data."""
    keep = {
        i for i, label in labels.items() if label.split(" / ")[-1].lower() not in SERIAL_HEADERS
    }
    for _, values in sample:
        if len(values) - values.count(None) < 2:
            continue  # a note or a section line says nothing about the columns
        for index, value in enumerate(values):
            if value is not None and index not in labels:
                keep.add(index)
    return [Column(i, column_letter(i), labels.get(i, "")) for i in sorted(keep)]


def _data_rows(source, columns: list[Column], first: int, skipped: Counter) -> Iterator[Row]:
    """Yield data rows aligned with the columns; count the rows dropped in skipped."""
    indexes = [c.index for c in columns]
    width = len(indexes)
    need = indexes[-1] + 1
    pad = [None] * need
    pick = itemgetter(*indexes) if width > 1 else (lambda row: (row[indexes[0]],))
    totals = TOTAL_CELLS.isdisjoint
    held: list[tuple[int, list[Any], bool]] = []
    wide_rows = 0
    for number, values in source:
        size = len(values)
        if not size:
            skipped["blank"] += 1
            continue
        filled = size - values.count(None)
        if filled > 4:  # the usual data row: only a 合计 can make it noise
            if not totals(values[first : first + 3]):
                skipped["total"] += 1
                continue
            wide_rows += 1
            if held:
                yield from _release(held, skipped)
            yield number, list(pick(values) if size >= need else pick(values + pad[size:]))
            continue
        kind = _noise(values, first, filled)
        if kind and kind != "single":
            skipped[kind] += 1
            continue
        cells = pick(values) if size >= need else pick(values + pad[size:])
        empty = cells.count(None) == width
        if kind:  # one text in the first column: data, a heading, or a note after the data
            if wide_rows:
                held.append((number, list(cells), empty))
                continue
            if empty:
                skipped["section"] += 1
                continue
        elif empty:
            skipped["blank"] += 1  # nothing but a 序号, say, in an empty template row
            continue
        if held:
            yield from _release(held, skipped)
        if filled >= 3:
            wide_rows += 1
        yield number, list(cells)
    skipped["footnote"] += len(held)


def _release(held: list, skipped: Counter) -> Iterator[Row]:
    """Yield the held one-cell rows once more data follows them; headings are counted."""
    for number, cells, empty in held:
        if empty:
            skipped["section"] += 1
        else:
            yield number, cells
    held.clear()


def _noise(values: list[Any], first: int, filled: int) -> str | None:
    """Classify a sparse row: "total", "footnote", "section", "single" (one cell, first column)."""
    if not TOTAL_CELLS.isdisjoint(values[first : first + 3]):
        return "total"
    lead = next((v for v in values if v is not None), None)
    if isinstance(lead, str):
        if _FOOTNOTE.match(lead):
            return "footnote"
        if filled == 1 and _SECTION.match(lead):
            return "section"
    if filled == 1 and len(values) > first and isinstance(values[first], str):
        return "single"
    return None


def count_known_headers(
    rows: Iterable[Row], is_known_header: Callable[[str], bool], search_rows: int = 30
) -> int:
    """Count the cells of the first rows that are known column names (how pick_sheet ranks)."""
    return sum(
        1
        for _, values in islice(rows, search_rows)
        for text in _header_texts(values).values()
        if is_known_header(text)
    )
