"""Look inside a workbook file without parsing it: its format, its zip directory, its used ranges.

python-calamine loads a whole sheet into a dense grid sized by the outermost cells that hold a
value, and a grid it cannot allocate aborts the process. A stray value at XFD1048576 (or IV65536
in an .xls) beside a few hundred rows of data is enough. These scans find how far the values
really reach, cheaply and with bounded memory, so that the reader can refuse such a sheet before
calamine sees it. Nothing here raises a user-facing error: the functions return facts (or raise
`ScanError` for a file that cannot be scanned) and `crm.spreadsheets.readers` decides.
"""

import html
import queue
import re
import threading
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from posixpath import dirname, join, normpath
from xml.etree import ElementTree
from xml.parsers import expat

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_CHUNK = 1 << 22
#: The compression methods Python's zipfile can decompress (Excel and WPS use deflate).
_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_MAX_ROW_BYTES = 64 << 20

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class ScanError(Exception):
    """Signal that a file's structure could not be scanned (it is damaged or hostile)."""


@dataclass
class Extent:
    """Describe how far the values of one sheet reach."""

    #: rows holding at least one value
    rows: int = 0
    #: 1-based number of the lowest row holding a value (0 when there is none)
    last_row: int = 0
    #: 1-based number of the rightmost column holding a value
    last_column: int = 0
    #: error values (#N/A, #DIV/0!) by (1-based row, 0-based column), which calamine drops
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    #: cells holding a formula, by (1-based row, 0-based column): (its text without the "=",
    #: "" when the file does not give it; whether the file keeps its computed value)
    formulas: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)
    #: cells that show a shared string (xlsx `t="s"`), each of which calamine gives its own copy
    strings: int = 0
    #: estimated bytes of those copies (set once the shared strings are known; 0 until then)
    text_bytes: int = 0

    @property
    def cells(self) -> int:
        """Return the size of the grid calamine will allocate for this sheet (an upper bound)."""
        return self.last_row * self.last_column


def sniff(head: bytes) -> str:
    """Return "zip", "ole", "empty", "pdf" or "other" for the first bytes of a file."""
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    return "other"


def zip_kind(archive: zipfile.ZipFile) -> str | None:
    """Return "xlsx", "xlsm", "xlsb" or "ods" for a zip by its members, or None."""
    names = set(archive.namelist())
    if "mimetype" in names:
        info = archive.getinfo("mimetype")
        if info.file_size < 200 and archive.read("mimetype").strip() == ODS_MIMETYPE:
            return "ods"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" not in names:
        return None
    if "xl/vbaProject.bin" in names:
        return "xlsm"
    types = "[Content_Types].xml"
    if types in names and archive.getinfo(types).file_size < 1 << 20:
        return "xlsm" if b"macroEnabled" in archive.read(types) else "xlsx"
    return "xlsx"


def zip_sizes(archive: zipfile.ZipFile, min_member: int = 1 << 20) -> tuple[int, float]:
    """Return the declared uncompressed total and the worst ratio among members above min_member."""
    total = 0
    worst = 0.0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > min_member:
            worst = max(worst, info.file_size / max(info.compress_size, 1))
    return total, worst


def verify_members(archive: zipfile.ZipFile, names: list[str]) -> None:
    """Decompress the named members, so that a declared size or checksum that lies is caught."""
    for name in names:
        method = archive.getinfo(name).compress_type
        if method not in _METHODS:
            raise ScanError(f"{name}: compression method {method}")
        try:
            with archive.open(name) as stream:
                while stream.read(_CHUNK):
                    pass
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise ScanError(str(error)) from error


def xlsx_sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map each sheet name of an xlsx to its worksheet member inside the zip."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in rels.iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
        targets[rel.get("Id")] = path
    members = {}
    for sheet in book.iter(f"{_NS_MAIN}sheet"):
        path = targets.get(sheet.get(f"{_NS_REL}id"))
        if path:
            members[sheet.get("name", "")] = path
    return members


def worksheet_members(archive: zipfile.ZipFile) -> list[str]:
    """Return every worksheet member of an xlsx, for sheets whose mapping is missing."""
    return [n for n in archive.namelist() if dirname(n) == "xl/worksheets" and n.endswith(".xml")]


_COLUMNS: dict[bytes, int] = {}
_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
#: A cell whose first child is a formula: the cell's attributes, the formula's text (None for a
#: shared formula's later cells, which give none), and its cached value (None: none kept).
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\s([^>]*)>\s*<(?:\w+:)?f(?:\s[^>]*?)?(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>)?"
)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
#: The most characters of a formula kept, for messages.
FORMULA_SHOWN = 60
_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?r="([A-Z]{1,3})([0-9]{1,7})"[^>]*\bt="e"[^>]*>\s*'
    rb"(?:<(?:\w+:)?f[^>]*/>|<(?:\w+:)?f[^>]*>[^<]*</(?:\w+:)?f>)?\s*<(?:\w+:)?v>([^<]*)<"
)


def column_number(letters: bytes) -> int:
    """Return the 1-based number of an Excel column given as letters (b"A" is 1)."""
    number = _COLUMNS.get(letters)
    if number is None:
        number = 0
        for char in letters:
            number = number * 26 + char - 64
        _COLUMNS[letters] = number
    return number


def scan_xlsx_sheet(archive: zipfile.ZipFile, member: str, shared: bool = False) -> Extent:
    """Find how far the values of one xlsx worksheet reach, streaming its XML.

    With `shared` (the workbook has shared strings), count the cells that show one too.
    """
    extent = Extent()
    try:
        with archive.open(member) as stream:
            _scan_sheet_xml(stream, extent, shared)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ScanError(str(error)) from error
    return extent


def _read_ahead(stream) -> Iterator[bytes]:
    """Yield a zip member's chunks, decompressed ahead in a thread (zlib releases the GIL)."""
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def offer(item) -> None:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            while not stop.is_set():
                chunk = stream.read(_CHUNK)
                offer(chunk)
                if not chunk:
                    return
        except Exception as error:  # handed to the reading thread, which raises it
            offer(error)

    worker = threading.Thread(target=work, name="sheet-scan", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, Exception):
                raise item
            yield item
            if not item:
                return
    finally:
        stop.set()
        worker.join()


def _scan_sheet_xml(stream, extent: Extent, shared: bool) -> None:
    chunks = _read_ahead(stream)
    try:
        _scan_chunks(chunks, extent, shared)
    finally:
        chunks.close()


def _scan_chunks(chunks: Iterator[bytes], extent: Extent, shared: bool) -> None:
    head = next(chunks)
    found = re.search(rb"<(\w+:)?sheetData\b", head)
    prefix = (found.group(1) or b"") if found else b""
    row_close = b"</" + prefix + b"row>"
    formula = b"<" + prefix + b"f"
    pending = head
    strings = 0
    while head:
        chunk = next(chunks)
        data = pending + chunk if chunk else pending
        rows = data.split(row_close)
        pending = rows.pop()
        if len(pending) > _MAX_ROW_BYTES:
            raise ScanError("row too long")
        if rows:
            _scan_rows(rows, prefix, extent, b't="e"' in data)
            if formula in data:
                _scan_formulas(rows, formula, extent)
            if shared:
                # The rows end where `pending` begins, so no reference straddles the two.
                strings += _shared_references(data, len(data) - len(pending))
        if not chunk:
            extent.strings = strings + (_shared_references(pending, len(pending)) if shared else 0)
            return


def _shared_references(data: bytes, end: int) -> int:
    """Count the cells of the first `end` bytes of some XML that show a shared string."""
    count = data.count(b't="s"', 0, end)
    if b"'" in data:  # a quick search, and Excel writes no single quotes in its markup
        count += data.count(b"t='s'", 0, end)
    return count


def _scan_rows(rows: list[bytes], prefix: bytes, extent: Extent, has_errors: bool) -> None:
    """Account for complete rows: the last value cell of each row gives its reach."""
    match_ref = _REF.match
    last_row, last_column, count = extent.last_row, extent.last_column, extent.rows
    for row in rows:
        at = row.rfind(b' r="')
        if at < 0:
            continue
        found = match_ref(row, at + 4)
        if found is None or row.endswith(b"/>"):  # no cell reference, or an empty last cell
            reach = _row_reach(row, prefix)
            if reach is None:
                continue
            number, column = reach
            number = number or last_row + 1
        else:
            letters, digits = found.groups()
            number, column = int(digits), column_number(letters)
        count += 1
        if number > last_row:
            last_row = number
        if column > last_column:
            last_column = column
        if has_errors and b't="e"' in row:
            for match in _ERROR_CELL.finditer(row):
                key = (int(match.group(2)), column_number(match.group(1)) - 1)
                extent.errors[key] = match.group(3).decode("utf-8", "replace")
    extent.last_row, extent.last_column, extent.rows = last_row, last_column, count


def _scan_formulas(rows: list[bytes], formula: bytes, extent: Extent) -> None:
    """Note the formula cells of complete rows, with their text and whether a value is kept.

    A value is kept when the cell has a <v> with something in it, or an empty one for a text
    result (t="str"); openpyxl and other writers that never compute leave <v/> or none.
    """
    for row in rows:
        if formula not in row:
            continue
        for found in _FORMULA_CELL.finditer(row):
            attrs, text, value = found.groups()
            ref = _CELL_REF.search(attrs)
            if ref is None:
                continue
            kept = value is not None and (bool(value) or b't="str"' in attrs)
            shown = html.unescape(text.decode("utf-8", "replace"))[:FORMULA_SHOWN] if text else ""
            key = (int(ref.group(2)), column_number(ref.group(1)) - 1)
            extent.formulas[key] = (shown, kept)


#: The start of a shared string entry, <si> or <x:si ...>.
_SHARED_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?si[\s>/]")
#: A cell showing shared string N: the `t="s"` of its tag, then its <v>N</v>.
_SHARED_CELL = re.compile(
    rb"""\bt=["']s["'][^>]*>\s*<(?:[A-Za-z_][\w.-]{0,30}:)?v>\s*([0-9]{1,10})"""
)


def shared_strings_members(archive: zipfile.ZipFile) -> list[str]:
    """Return the members calamine may read as the shared strings (it matches the name loosely)."""
    return [n for n in archive.namelist() if n.lower().lstrip("/") == "xl/sharedstrings.xml"]


def _complete_parts(stream, boundary: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, data) of a member in pieces that end just before `boundary`.

    A pattern that starts before the boundary and cannot contain it is whole in its piece.
    """
    offset, pending = 0, b""
    while chunk := stream.read(_CHUNK):
        data = pending + chunk
        cut = data.rfind(boundary)
        if cut <= 0:
            if len(data) > _MAX_ROW_BYTES:
                raise ScanError("no markup for too long")
            pending = data
            continue
        yield offset, data[:cut]
        offset += cut
        pending = data[cut:]
    yield offset, pending


def scan_shared_strings(archive: zipfile.ZipFile, member: str, most: int) -> array | None:
    """Return the XML bytes of each entry of a shared strings part, or None past `most` entries.

    An entry's bytes (its text with its markup) stand for what calamine spends on it. Reading
    stops as soon as the entries outnumber `most`, so a part of millions of tiny entries costs
    little to refuse.
    """
    starts = array("q")
    end = 0
    try:
        with archive.open(member) as stream:
            for offset, data in _complete_parts(stream, b"<"):
                starts.extend(offset + found.start() for found in _SHARED_ENTRY.finditer(data))
                if len(starts) > most:
                    return None
                end = offset + len(data)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ScanError(str(error)) from error
    starts.append(end)
    return array("I", (b - a for a, b in pairwise(starts)))


def shared_text_bytes(
    archive: zipfile.ZipFile, member: str, sizes: array, cells: int, overhead: int
) -> int:
    """Return the bytes calamine spends copying shared strings into a sheet's cells.

    Each of the sheet's `cells` showing a shared string gets a copy of it, costing its size
    plus `overhead`. A cell whose reference the pattern does not read is counted as a copy of
    the largest entry, so the estimate errs high, never low.
    """
    largest = max(sizes, default=0)
    count = len(sizes)
    total, seen = 0, 0
    try:
        with archive.open(member) as stream:
            for _offset, data in _complete_parts(stream, b"</"):
                found = [int(n) for n in _SHARED_CELL.findall(data)]
                seen += len(found)
                total += sum(sizes[n] if n < count else largest for n in found)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise ScanError(str(error)) from error
    return total + max(cells - seen, 0) * largest + cells * overhead


_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]+)"')


def _row_reach(row: bytes, prefix: bytes) -> tuple[int, int] | None:
    """Return (row number or 0, rightmost value column) of a row the fast path could not read."""
    tags = list(re.finditer(rb"<" + re.escape(prefix) + rb"c(\s[^>]*)?>", row))
    column, reach = 0, 0
    number = 0
    for tag in tags:
        attrs = tag.group(1) or b""
        ref = re.search(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"', attrs)
        column = column_number(ref.group(1)) if ref else column + 1
        if not attrs.endswith(b"/"):
            reach = column
            number = int(ref.group(2)) if ref else number
    if not reach:
        return None
    if not number:
        found = _ROW_NUMBER.search(row)
        number = int(found.group(1)) if found else 0
    return number, reach


_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_CALCEXT_NS = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0 "
#: The namespace and "=" before an .ods formula: "of:=", "oooc:=", "msoxl:=".
_ODS_FORMULA_PREFIX = re.compile(r"^(?:[a-z]+:)?=")
#: The most cells one repeated formula cell is noted for (a repeated formula is rare).
_FORMULA_REPEATS = 1000


#: What calamine spends on each cell's copy of a text beyond its bytes.
ODS_COPY_COST = 16


def _ods_formula(state: dict, text: str, kept: bool, span: int) -> None:
    """Note a formula cell of an .ods (repeated over its rows and columns) in its table's extent.

    LibreOffice writes "of:=SUM([.A1:.A3])"; the namespace prefix and the "=" are dropped.
    """
    shown = _ODS_FORMULA_PREFIX.sub("", text, count=1)[:FORMULA_SHOWN]
    first_row, first_col = state["row"] + 1, state["cell"][0]
    formulas = state["extent"].formulas
    for row in range(first_row, first_row + min(state["rows"], _FORMULA_REPEATS)):
        for col in range(first_col, first_col + min(span, _FORMULA_REPEATS)):
            formulas[(row, col)] = (shown, kept)


def scan_ods(archive: zipfile.ZipFile) -> dict[str, Extent]:
    """Find how far the values of every table of an .ods reach, repeated rows and cells included.

    Each table's `text_bytes` counts its text once for every cell it fills: a repeated cell or
    row is one element in the file, but calamine gives each of its cells a copy of the text.
    Formula cells are noted, and the error values LibreOffice keeps for them (which calamine
    reads as empty text).
    """
    tables: dict[str, Extent] = {}
    state = {"extent": Extent(), "row": 0, "rows": 1, "col": 0, "reach": 0, "cell": None}
    state.update(text=0, row_text=0, error=None)
    repeat_rows = _TABLE_NS + "number-rows-repeated"
    repeat_cols = _TABLE_NS + "number-columns-repeated"
    value_type = _OFFICE_NS + "value-type"
    formula = _TABLE_NS + "formula"
    error_type = _CALCEXT_NS + "value-type"

    def start(name, attrs):
        if name == _TABLE_NS + "table-cell" or name == _TABLE_NS + "covered-table-cell":
            span = int(attrs.get(repeat_cols, 1))
            state["cell"] = (state["col"], span)
            state["col"] += span
            state["text"] = 0
            if value_type in attrs:
                state["reach"] = state["col"]
            if formula in attrs:
                _ods_formula(state, attrs[formula], value_type in attrs, span)
                state["error"] = [] if attrs.get(error_type) == "error" else None
        elif name == _TEXT_NS + "p" and state["cell"]:
            col, span = state["cell"]
            state["reach"] = max(state["reach"], col + span)
        elif name == _TABLE_NS + "table-row":
            state.update(rows=int(attrs.get(repeat_rows, 1)), col=0, reach=0, cell=None, row_text=0)
        elif name == _TABLE_NS + "table":
            state.update(extent=Extent(), row=0)
            tables[attrs.get(_TABLE_NS + "name", "")] = state["extent"]

    def text(data):
        if state["cell"]:
            state["text"] += len(data.encode())
            if state["error"] is not None:
                state["error"].append(data)

    def end(name):
        if name == _TABLE_NS + "table-cell" or name == _TABLE_NS + "covered-table-cell":
            if state["cell"] and state["text"]:
                state["row_text"] += (state["text"] + ODS_COPY_COST) * state["cell"][1]
            if state["error"] is not None:
                shown = "".join(state["error"]).strip() or "#VALUE!"
                state["extent"].errors[(state["row"] + 1, state["cell"][0])] = shown
                state["error"] = None
            state["cell"] = None
        elif name == _TABLE_NS + "table-row":
            extent = state["extent"]
            state["row"] += state["rows"]
            extent.text_bytes += state["row_text"] * state["rows"]
            if state["reach"]:
                extent.rows += state["rows"]
                extent.last_row = state["row"]
                extent.last_column = max(extent.last_column, state["reach"])

    def refuse_doctype(*args):
        raise ScanError("DOCTYPE in content.xml")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse_doctype
    try:
        with archive.open("content.xml") as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, expat.ExpatError) as error:
        raise ScanError(str(error)) from error
    return tables
