"""Read any workbook a bureau sends (xlsx, xlsm, xls, ods, csv) into clean rows.

The format is told by the content, never by the extension. python-calamine reads the workbook
formats; the csv module reads CSV in UTF-8 or GB18030 (which covers GBK). Before calamine sees a
file, its zip directory is checked for compression bombs and each sheet's used range is measured
(`crm.spreadsheets.scan`), because calamine allocates a dense grid up to the farthest value and
aborts the process when it cannot. Rows come out as (sheet row number, values): strings stripped
and empty strings None, integral floats as int, dates as date/datetime, trailing empty cells
trimmed. `find_table` (in `crm.spreadsheets.tables`) then finds the header and the data rows.

    with open_workbook(path, filename="名单.xlsx") as book:
        table = find_table(book.rows(book.pick_sheet(is_known)), is_known)
        for number, values in table.rows:
            ...
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum

from crm.spreadsheets import scan, xls
from crm.spreadsheets.tables import (
    MergedRange,
    Row,
    SpreadsheetError,
    column_letter,
    count_known_headers,
    find_table,
)

FORMATS = "（支持 .xlsx、.xlsm、.xls、.ods、.csv）"
MB = 1024 * 1024
_SNIFF_LINES = 20


@dataclass(frozen=True)
class Limits:
    """Bound what one upload may cost to read."""

    #: bytes of the upload itself
    max_bytes: int = 20 * MB
    #: sum of the zip members' declared uncompressed sizes (xlsx, xlsm, ods)
    max_uncompressed: int = 200 * MB
    #: compression ratio of any zip member above `ratio_floor` bytes uncompressed
    max_ratio: int = 100
    #: rows that hold data, counted as they are present (not by the stored dimension); the title
    #: and header lines count too
    max_rows: int = 200_000
    #: columns up to the rightmost value of any row
    max_columns: int = 200
    #: cells of a sheet's used range (rows × columns up to the farthest value), which calamine
    #: allocates at about 32 bytes each (twice over for .xls and .ods, which it reads eagerly and
    #: copies, so those count double)
    max_cells: int = 6_000_000
    #: members smaller than this are not held to max_ratio (small XML compresses very well)
    ratio_floor: int = MB
    #: shared strings (xlsx) allowed beyond the cells that show one: every entry a sheet does
    #: not use is dead weight, but some producers leave a few behind
    spare_shared_strings: int = 10_000
    #: text calamine holds while it reads a sheet: for an xlsx, the shared strings once and a
    #: copy of one for each cell that shows it; for an .ods, each cell's text, a repeated cell
    #: or row counting once per cell it fills (few cells repeating a long text add up)
    max_text_bytes: int = 128 * MB


#: What calamine spends on a shared string beyond its bytes, and on each copy of one.
_ENTRY_COST = 48
_COPY_COST = 16


def open_workbook(
    path: str | Path, limits: Limits = Limits(), filename: str | None = None
) -> "Workbook":
    """Open a spreadsheet file, telling its format by content; raise SpreadsheetError if unusable.

    `filename` is the name the user uploaded, used in messages (the path is often a temp file).
    """
    path = Path(path)
    name = filename or path.name
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise SpreadsheetError(
            f"文件「{name}」大小为 {_size(size)}，超过 {_size(limits.max_bytes)} 的上限"
        )
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    kind = scan.sniff(head)
    if kind == "empty":
        raise SpreadsheetError(f"文件「{name}」是空文件，没有任何内容")
    if kind == "zip":
        return _open_zip(path, name, limits)
    if kind == "ole":
        if xls.ole_is_encrypted(path):
            raise SpreadsheetError(f"文件「{name}」设有打开密码，请取消密码后重新上传")
        return Workbook(path, "xls", name, limits)
    if kind == "other":
        encoding = _text_encoding(path, head)
        if encoding:
            _refuse_markup(head, encoding, name)
            return Workbook(path, "csv", name, limits, encoding=encoding)
    raise SpreadsheetError(f"文件「{name}」不是可识别的电子表格{FORMATS}")


def _size(count: int) -> str:
    """Return a byte count as people read it: "20 MB", "2.5 MB", "800 KB"."""
    if count >= MB:
        return f"{count / MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(count // 1024, 1)} KB"


def _open_zip(path: Path, name: str, limits: Limits) -> "Workbook":
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise SpreadsheetError(f"文件「{name}」已损坏，无法读取") from error
    with archive:
        fmt = scan.zip_kind(archive)
        if fmt is None:
            raise SpreadsheetError(f"文件「{name}」不是可识别的电子表格{FORMATS}")
        if fmt == "xlsb":
            raise SpreadsheetError(
                f"文件「{name}」是 Excel 二进制工作簿（.xlsb），"
                "请在 Excel 中另存为 .xlsx 后重新上传"
            )
        total, ratio = scan.zip_sizes(archive, limits.ratio_floor)
        if total > limits.max_uncompressed or ratio > limits.max_ratio:
            raise SpreadsheetError(
                f"文件「{name}」解压后过大（超过 {_size(limits.max_uncompressed)}）"
                "或压缩比异常，可能是压缩炸弹，已拒绝处理"
            )
        try:
            extents = scan.scan_ods(archive) if fmt == "ods" else _scan_xlsx(archive, name, limits)
        except scan.ScanError as error:
            raise SpreadsheetError(f"文件「{name}」已损坏，无法读取") from error
    return Workbook(path, fmt, name, limits, extents=extents)


def _scan_xlsx(archive: zipfile.ZipFile, name: str, limits: Limits) -> dict[str, scan.Extent]:
    """Measure every worksheet and the shared strings, which calamine reads as the file opens.

    Returns the extents by sheet name, and by member for worksheets no sheet names. Refuses a
    shared strings part larger than the sheets' text cells can use, or too large to hold.
    """
    names = scan.xlsx_sheet_members(archive)
    present = set(archive.namelist())
    members = sorted(({*names.values()} & present) | set(scan.worksheet_members(archive)))
    shared = scan.shared_strings_members(archive)
    if len(shared) > 1:
        raise scan.ScanError("more than one shared strings part")
    scanned = {m: scan.scan_xlsx_sheet(archive, m, bool(shared)) for m in members}
    parts = [
        n
        for n in archive.namelist()
        if n.endswith((".xml", ".rels")) and n not in scanned and n not in shared
    ]
    scan.verify_members(archive, parts)
    if shared:
        _check_shared_strings(archive, shared[0], scanned, name, limits)
    extents = {sheet: scanned[member] for sheet, member in names.items() if member in scanned}
    mapped = set(names.values())
    extents.update((member, e) for member, e in scanned.items() if member not in mapped)
    return extents


def _check_shared_strings(archive, member, scanned: dict[str, scan.Extent], name, limits) -> None:
    """Refuse shared strings that outnumber the text cells, or cost more than a sheet may hold.

    The entries are counted as they are read, so a part of millions of tiny entries is refused
    after a few chunks. Each sheet's `text_bytes` is then set: the shared strings plus the
    copies its cells take, exact when the cheap bound (every cell the largest entry) is too high.
    """
    cells = sum(extent.strings for extent in scanned.values())
    allowed = cells + limits.spare_shared_strings
    sizes = scan.scan_shared_strings(
        archive, member, min(allowed, limits.max_text_bytes // _ENTRY_COST)
    )
    if sizes is None or len(sizes) > allowed:
        raise SpreadsheetError(
            f"文件「{name}」的共享字符串表条目数远多于工作表中的 {cells:,} 个文本单元格，"
            "文件结构异常，已拒绝处理；请用 Excel 打开后另存为 .xlsx 再上传"
        )
    table = sum(sizes) + len(sizes) * _ENTRY_COST
    if table > limits.max_text_bytes:
        raise SpreadsheetError(
            f"文件「{name}」的文字内容过多（读取时约需 {_size(table)}，"
            f"上限 {_size(limits.max_text_bytes)}），请拆分成多个文件后分别导入"
        )
    largest = max(sizes, default=0)
    for sheet, extent in scanned.items():
        copies = extent.strings * (largest + _COPY_COST)
        if table + copies > limits.max_text_bytes:
            copies = scan.shared_text_bytes(archive, sheet, sizes, extent.strings, _COPY_COST)
        extent.text_bytes = table + copies


def _text_encoding(path: Path, head: bytes) -> str | None:
    """Return the encoding that decodes the whole file strictly, or None if it is not text."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    elif b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head[:4096]) > 8:
        return None
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(MB):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _refuse_markup(head: bytes, encoding: str, name: str) -> None:
    """Refuse HTML or XML saved with a spreadsheet name (some systems export .xls like that)."""
    text = head[:2048].decode(encoding, "ignore").lstrip().lower()
    if text.startswith("<") and any(
        tag in text for tag in ("<html", "<table", "<?xml", "<!doctype", "<workbook")
    ):
        raise SpreadsheetError(
            f"文件「{name}」是网页或 XML 格式，并非真正的 Excel 文件，"
            "请用 Excel 打开后另存为 .xlsx 再上传"
        )


class _EmptySheet(SpreadsheetError):
    """Say that a sheet holds no data (which pick_sheet passes over)."""


class SheetRows:
    """Iterate a sheet's rows as (sheet row number, values) and carry what find_table may use."""

    def __init__(
        self,
        rows: Iterator[Row],
        sheet: str,
        merged_ranges: list[MergedRange] | None,
        height: int | None = None,
        formulas: dict[tuple[int, int], tuple[str, bool]] | None = None,
    ):
        self._rows = rows
        #: the sheet's name
        self.sheet = sheet
        #: the number of the sheet's last row with data, for progress; None when unknown (csv)
        self.height = height
        #: merged cells as (first row, first column, last row, last column), rows 1-based and
        #: columns 0-based; None when the format does not tell (ods, csv)
        self.merged_ranges = merged_ranges
        #: the cells holding a formula, by (sheet row, 0-based column): (the formula's text, or
        #: "" when the file does not give it; whether the file keeps its computed value)
        self.formulas = formulas or {}

    def __iter__(self) -> Iterator[Row]:
        return self._rows


@dataclass
class SheetFound:
    """What `Workbook.pick_sheet` found of one sheet."""

    name: str
    #: whether a header of known column names was found in it
    header: bool = False
    #: its data rows under that header, when counted (several sheets had one)
    rows: int | None = None
    #: why it cannot be the data sheet, in Chinese: "没有数据", "未找到表头", or an error
    problem: str | None = None


@dataclass
class _Loaded:
    sheet: Any
    extent: scan.Extent | None
    merged: list[MergedRange] | None


class Workbook:
    """Give access to the sheets of an opened spreadsheet and stream their rows."""

    def __init__(self, path, fmt, name, limits, *, encoding=None, extents=None):
        self.format: str = fmt
        self.name = name
        self.limits: Limits = limits
        self._path = path
        self._encoding = encoding
        self._extents: dict[str, scan.Extent] | None = extents
        self._cached: tuple[str, _Loaded] | None = None
        self._book = None
        #: what `pick_sheet` found of each sheet (empty until it is called)
        self.sheets_found: list[SheetFound] = []
        if fmt == "csv":
            self.sheet_names: list[str] = [Path(name).stem or "Sheet1"]
            return
        if fmt == "xls" and extents is None:
            self._extents = self._scan_xls()
        # calamine reads every sheet of an .xls or .ods when it opens the file: check them first.
        for sheet, extent in (self._extents or {}).items() if fmt in ("xls", "ods") else ():
            self._check_extent(sheet, extent)
        try:
            # From the file object, calamine tells the format by content too; from a path it would
            # go by the extension, and an .xlsx renamed .xls (common) would not open.
            with path.open("rb") as handle:
                self._book = CalamineWorkbook.from_filelike(handle)
        except PasswordError as error:
            raise SpreadsheetError(f"文件「{name}」设有打开密码，请取消密码后重新上传") from error
        except (CalamineError, ValueError, OSError, RuntimeError) as error:
            raise SpreadsheetError(f"文件「{name}」已损坏或格式不正确，无法读取") from error
        self.sheet_names = [
            meta.name for meta in self._book.sheets_metadata if meta.typ == SheetTypeEnum.WorkSheet
        ]
        if not self.sheet_names:
            raise SpreadsheetError(f"文件「{name}」中没有工作表")

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release the file and whatever sheet is held in memory."""
        self._cached = None
        if self._book is not None:
            self._book.close()
            self._book = None

    def rows(self, sheet: str | None = None) -> SheetRows:
        """Return the rows of a sheet (the first by default), checked against the limits."""
        name = self._sheet_name(sheet)
        if self.format == "csv":
            return self._first_data(self._csv_rows(name), name, None, None)
        cached, self._cached = self._cached, None
        loaded = cached[1] if cached and cached[0] == name else self._load(name)
        return self._loaded_rows(name, loaded)

    def pick_sheet(self, is_known_header: Callable[[str], bool]) -> str:
        """Return the data sheet: the one with the most data rows under a recognised header.

        What was found of every sheet is left in `sheets_found`, for the user to choose another.
        A workbook of one sheet is taken as it is. Among several, the sheets whose header is
        recognised (`find_table`) are the candidates, and when there are more than one (a blank
        template beside the data, say) their data rows are counted. Without any candidate the
        sheet with the most known column names is taken (the user maps the rest), unless a sheet
        was refused as unreadable or too large, which may well be the data sheet.
        """
        if self.format == "csv" or len(self.sheet_names) == 1:
            name = self.sheet_names[0]
            if self.format != "csv":
                self._cached = (name, self._load(name))
            self.sheets_found = [SheetFound(name)]
            return name
        found: list[SheetFound] = []
        candidates: list[tuple[SheetFound, _Loaded]] = []
        fallback: tuple[str, _Loaded] | None = None
        fallback_score = -1
        failure: SpreadsheetError | None = None
        for name in self.sheet_names:
            try:
                loaded = self._load(name)
                rows = self._loaded_rows(name, loaded)
            except _EmptySheet:
                found.append(SheetFound(name, problem="没有数据"))
                continue
            except SpreadsheetError as error:
                found.append(SheetFound(name, problem=str(error)))
                failure = failure or error
                continue
            try:
                find_table(rows, is_known_header)
            except SpreadsheetError:
                found.append(SheetFound(name, problem="未找到表头"))
                score = count_known_headers(self._calamine_rows(name, loaded), is_known_header)
                if score > fallback_score:
                    fallback, fallback_score = (name, loaded), score
                continue
            sheet = SheetFound(name, header=True)
            found.append(sheet)
            candidates.append((sheet, loaded))
        self.sheets_found = found
        if len(candidates) > 1:
            for sheet, loaded in candidates:
                table = find_table(self._loaded_rows(sheet.name, loaded), is_known_header)
                sheet.rows = sum(1 for _ in table.rows)
            # The most data rows; on a tie, the first.
            best = max(candidates, key=lambda c: (c[0].rows, -candidates.index(c)))
            choice: tuple[str, _Loaded] | None = (best[0].name, best[1])
        elif candidates:
            choice = (candidates[0][0].name, candidates[0][1])
        else:
            # The sheet with the most known names, for the user to map the rest; but a sheet
            # refused for its size may well be the data sheet: say so rather than pick another.
            choice = None if failure else fallback
        if choice is None:
            raise failure or SpreadsheetError(
                f"文件「{self.name}」的 {len(self.sheet_names)} 个工作表都没有数据"
            )
        self._cached = choice
        return choice[0]

    def _loaded_rows(self, name: str, loaded: _Loaded) -> SheetRows:
        height = loaded.sheet.start[0] + loaded.sheet.height
        rows = self._calamine_rows(name, loaded)
        formulas = loaded.extent.formulas if loaded.extent else None
        return self._first_data(rows, name, loaded.merged, height, formulas)

    def _sheet_name(self, sheet: str | None) -> str:
        if sheet is None:
            return self.sheet_names[0]
        if sheet not in self.sheet_names:
            raise SpreadsheetError(f"工作簿中没有名为「{sheet}」的工作表")
        return sheet

    def _first_data(
        self, rows: Iterator[Row], name: str, merged, height, formulas=None
    ) -> SheetRows:
        for number, values in rows:
            if values:
                return SheetRows(chain([(number, values)], rows), name, merged, height, formulas)
        raise _EmptySheet(f"工作表「{name}」没有数据")

    def _load(self, name: str) -> _Loaded:
        """Measure a sheet, refuse it if it is out of bounds, then let calamine read it."""
        extent = self._extent(name)
        if extent is not None:
            self._check_extent(name, extent)
        try:
            sheet = self._book.get_sheet_by_name(name)
        except (CalamineError, ValueError, OSError, RuntimeError) as error:
            raise SpreadsheetError(f"工作表「{name}」已损坏，无法读取") from error
        if sheet.start is None:
            raise _EmptySheet(f"工作表「{name}」没有数据")
        ranges = sheet.merged_cell_ranges
        merged = None if ranges is None else [(a + 1, b, c + 1, d) for (a, b), (c, d) in ranges]
        return _Loaded(sheet, extent, merged)

    def _extent(self, name: str) -> scan.Extent | None:
        """Return how far a sheet's values reach (None when it cannot be told)."""
        if not self._extents:
            return None  # an .xls layout the scan does not know: bounded by 65,536 × 256
        return self._extents.get(name) or _widest(self._extents.values())

    def _scan_xls(self) -> dict[str, scan.Extent] | None:
        try:
            return xls.scan_xls(self._path)
        except scan.ScanError:
            return None  # an unusual layout (BIFF5, say): calamine may still read it

    def _check_extent(self, name: str, extent: scan.Extent) -> None:
        limits = self.limits
        if extent.rows > limits.max_rows:
            raise self._too_many_rows(name)
        if extent.last_column > limits.max_columns:
            raise self._too_wide(name, extent.last_column)
        # calamine reads an .xls or .ods eagerly and copies it: cells and text count double.
        twice = 2 if self.format in ("xls", "ods") else 1
        if extent.cells * twice > limits.max_cells:
            corner = f"{column_letter(extent.last_column - 1)}{extent.last_row}"
            raise SpreadsheetError(
                f"工作表「{name}」的数据范围过大（A1:{corner}），表格之外可能有零散的单元格，"
                "请删除多余的行列后重新上传"
            )
        if extent.text_bytes * twice > limits.max_text_bytes:
            raise SpreadsheetError(
                f"工作表「{name}」的文字内容过多（读取时约需 {_size(extent.text_bytes * twice)}，"
                f"上限 {_size(limits.max_text_bytes)}），可能有大量单元格重复同一段很长的文字；"
                "请删除多余的内容或拆分成多个文件后分别导入"
            )

    def _too_many_rows(self, name: str) -> SpreadsheetError:
        return SpreadsheetError(
            f"工作表「{name}」的数据超过 {self.limits.max_rows:,} 行的上限，"
            "请拆分成多个文件后分别导入"
        )

    def _too_wide(self, name: str, columns: int, row: int | None = None) -> SpreadsheetError:
        where = f"第 {row} 行" if row else ""
        return SpreadsheetError(
            f"工作表「{name}」{where}的数据延伸到第 {columns} 列"
            f"（{column_letter(columns - 1)} 列），"
            f"超过 {self.limits.max_columns} 列的上限；如果表格右侧有零散的内容，请删除后重新上传"
        )

    def _calamine_rows(self, name: str, loaded: _Loaded) -> Iterator[Row]:
        """Yield the sheet's rows normalised: the per-cell work is one comprehension per row."""
        sheet = loaded.sheet
        first_row, first_col = sheet.start
        errors: dict[int, list[tuple[int, str]]] = {}
        for (row_number, col), text in (loaded.extent.errors if loaded.extent else {}).items():
            errors.setdefault(row_number, []).append((col, text))
        pad = [None] * first_col
        max_rows, max_columns = self.limits.max_rows, self.limits.max_columns
        present = 0
        rows = sheet.iter_rows()
        number = first_row
        text, real, strip, whole = str, float, str.strip, float.is_integer
        for raw in islice(rows, first_row, None):
            number += 1
            row = [
                (strip(v) or None)
                if (t := type(v)) is text
                else (int(v) if t is real and whole(v) else v)
                for v in raw
            ]
            while row and row[-1] is None:
                row.pop()
            if pad and row:
                row = pad + row
            if errors and number in errors:
                row = _with_errors(row, errors[number])
            if row:
                present += 1
                if present > max_rows:
                    raise self._too_many_rows(name)
                if len(row) > max_columns:
                    raise self._too_wide(name, len(row), number)
            yield number, row

    def _csv_rows(self, name: str) -> Iterator[Row]:
        """Yield the records of the CSV file, stripped, with the delimiter sniffed."""
        max_rows, max_columns = self.limits.max_rows, self.limits.max_columns
        present = 0
        number = 0
        with (
            self._path.open("rb") as raw,
            io.TextIOWrapper(raw, encoding=self._encoding, newline="") as text,
        ):
            lines = list(islice(text, _SNIFF_LINES))
            reader = csv.reader(chain(lines, text), delimiter=_sniff_delimiter("".join(lines)))
            try:
                for number, record in enumerate(reader, 1):
                    row = [v.strip() or None for v in record]
                    while row and row[-1] is None:
                        row.pop()
                    if row:
                        present += 1
                        if present > max_rows:
                            raise self._too_many_rows(name)
                        if len(row) > max_columns:
                            raise self._too_wide(name, len(row), number)
                    yield number, row
            except csv.Error as error:
                raise SpreadsheetError(
                    f"文件「{self.name}」第 {number + 1} 行无法解析，请检查引号是否成对"
                ) from error


def _with_errors(row: list[Any], cells: list[tuple[int, str]]) -> list[Any]:
    """Put back the error values (#N/A, #DIV/0!) that calamine reads as empty."""
    for col, text in cells:
        if len(row) <= col:
            row = row + [None] * (col + 1 - len(row))
        if row[col] is None:
            row[col] = text
    return row


def _widest(extents) -> scan.Extent:
    out = scan.Extent()
    for extent in extents:
        out.rows = max(out.rows, extent.rows)
        out.last_row = max(out.last_row, extent.last_row)
        out.last_column = max(out.last_column, extent.last_column)
        out.text_bytes = max(out.text_bytes, extent.text_bytes)
    return out


def _sniff_delimiter(sample: str) -> str:
    """Return "," unless the first lines are clearly tab- or semicolon-separated."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",\t;"}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","
