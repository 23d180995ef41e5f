"""Measure the sheets of a legacy .xls (BIFF8 inside an OLE2 compound file) without calamine.

calamine reads every sheet of an .xls when it opens the file, into grids sized by the farthest
value, so a stray value at IV65536 costs 16.7 million cells (about 1 GB, counting the copy it
hands over). This walks the workbook stream's records, which is cheap, to find each sheet's reach
first. The OLE2 reader is minimal: the FAT, the mini stream and the directory, nothing else.
"""

import struct

from crm.spreadsheets.scan import Extent, ScanError

_CHUNK = 1 << 22

# BIFF8 cell records that calamine turns into values (BLANK and MULBLANK it skips).
_BIFF_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x00D6, 0x0205, 0x0006}
_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}


def scan_xls(path) -> dict[str, Extent]:
    """Find how far the values of every sheet of a BIFF8 .xls reach, by walking its records."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
    except (struct.error, IndexError, ValueError) as error:
        raise ScanError(str(error)) from error
    if stream is None:
        raise ScanError("no Workbook stream")
    del data
    offsets: dict[int, str] = {}
    sheets: dict[str, Extent] = {}
    rows: dict[str, set[int]] = {}
    # Substreams nest (a chart inside a sheet has its own BOF..EOF): keep what each belongs to.
    stack: list[str | None] = []
    name: str | None = None
    extent: Extent | None = None
    unpack = struct.unpack_from
    pos, size = 0, len(stream)
    while pos + 4 <= size:
        kind, length = unpack("<HH", stream, pos)
        body = pos + 4
        if kind in _BIFF_CELLS or kind == 0x00BD:
            if extent is not None and length >= 6:
                row, col = unpack("<HH", stream, body)
                if kind == 0x00BD:
                    col = unpack("<H", stream, body + length - 2)[0]
                else:
                    _xls_error(kind, stream, body, length, row, col, extent)
                    if kind == 0x0006:  # FORMULA: its text would need the tokens decoded
                        extent.formulas[(row + 1, col)] = ("", True)
                rows[name].add(row)
                extent.last_row = max(extent.last_row, row + 1)
                extent.last_column = max(extent.last_column, col + 1)
        elif kind == 0x0809:  # BOF: a substream begins, a sheet's if its offset is known
            stack.append(name)
            name = offsets.get(pos) if stack[-1] is None else None
            extent = sheets.setdefault(name, Extent()) if name is not None else None
            rows.setdefault(name, set())
        elif kind == 0x000A:  # EOF: back to the enclosing substream
            name = stack.pop() if stack else None
            extent = sheets.get(name) if name is not None else None
        elif kind == 0x0085 and length >= 8:  # BOUNDSHEET: where a sheet's substream starts
            offsets[unpack("<I", stream, body)[0]] = _biff_sheet_name(stream, body + 6)
        pos = body + length
    for sheet, extent in sheets.items():
        extent.rows = len(rows[sheet])
    return sheets


def _xls_error(kind, stream, body, length, row, col, extent: Extent) -> None:
    if kind == 0x0205 and length >= 8 and stream[body + 7] == 1:
        code = stream[body + 6]
    elif (
        kind == 0x0006
        and length >= 20
        and stream[body + 6] == 2
        and stream[body + 12 : body + 14] == b"\xff\xff"
    ):
        code = stream[body + 8]
    else:
        return
    extent.errors[(row + 1, col)] = _BIFF_ERRORS.get(code, "#VALUE!")


def _biff_sheet_name(stream: bytes, pos: int) -> str:
    count, flags = stream[pos], stream[pos + 1]
    if flags & 1:
        return stream[pos + 2 : pos + 2 + 2 * count].decode("utf-16-le", "replace")
    return stream[pos + 2 : pos + 2 + count].decode("latin-1")


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes | None:
    """Return the first stream of an OLE2 compound file named in names (a minimal reader)."""
    unpack = struct.unpack_from
    sector_size = 1 << unpack("<H", data, 30)[0]
    mini_size = 1 << unpack("<H", data, 32)[0]
    fat_count, dir_start = unpack("<I", data, 44)[0], unpack("<I", data, 48)[0]
    cutoff, minifat_start, _, difat_start, difat_count = unpack("<IIIII", data, 56)
    sectors = max(len(data) // sector_size - 1, 0)

    def sector(number: int) -> bytes:
        start = (number + 1) * sector_size
        if number >= sectors:
            raise ValueError("sector out of range")
        return data[start : start + sector_size]

    fat_sectors = list(unpack("<109I", data, 76))
    next_difat = difat_start
    for _ in range(difat_count):
        if next_difat >= sectors:
            break
        entries = unpack(f"<{sector_size // 4}I", sector(next_difat))
        fat_sectors.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for number in fat_sectors[:fat_count]:
        fat.extend(unpack(f"<{sector_size // 4}I", sector(number)))

    def chain(first: int, table: list[int], limit: int) -> list[int]:
        out = []
        while first < 0xFFFFFFFA and len(out) <= limit:
            out.append(first)
            first = table[first]
        return out

    directory = b"".join(sector(n) for n in chain(dir_start, fat, sectors))
    entries = {}
    for offset in range(0, len(directory) - 127, 128):
        entry = directory[offset : offset + 128]
        length = unpack("<H", entry, 64)[0]
        name = entry[: max(length - 2, 0)].decode("utf-16-le", "replace")
        entries.setdefault(
            name, (entry[66], unpack("<I", entry, 116)[0], unpack("<I", entry, 120)[0])
        )
    root = directory[:128]
    for wanted in names:
        if wanted not in entries or entries[wanted][0] != 2:
            continue
        _, first, size = entries[wanted]
        if size >= cutoff:
            return b"".join(sector(n) for n in chain(first, fat, sectors))[:size]
        minifat: list[int] = []
        for number in chain(minifat_start, fat, sectors):
            minifat.extend(unpack(f"<{sector_size // 4}I", sector(number)))
        ministream = b"".join(sector(n) for n in chain(unpack("<I", root, 116)[0], fat, sectors))
        parts = [
            ministream[n * mini_size : (n + 1) * mini_size]
            for n in chain(first, minifat, len(minifat))
        ]
        return b"".join(parts)[:size]
    return None


def ole_is_encrypted(path) -> bool:
    """Tell whether an OLE2 file is an encrypted (password-protected) Office document."""
    marker = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            if marker in chunk:
                return True
    return False
