"""Parse a date cell (pure: no Flask, no database), as `crm.excel.values` parses the others.

A month without a day ("2016年5月"), a bare year (2016, "2016") and two-digit years are refused
rather than guessed. Excel serial numbers follow the 1900 date system, whose phantom 1900-02-29
(serial 60) is refused. Dates read from text are cached: a sheet repeats them.
"""

import calendar
import math
import re
from contextlib import suppress
from datetime import date, datetime, time, timedelta

from crm.excel.values import (
    CACHE_LIMIT,
    EMPTY_MARKERS,
    PLAIN_NUMBER,
    CellError,
    normalise_text,
    refuse_error_value,
    show_value,
)

_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_MAX_SERIAL = 2958465  # 9999-12-31
_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME),
    re.compile(r"(\d{4})\s*(年)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + _TIME),
)
_CHINESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_MONTH_ONLY = re.compile(r"\d{4}\s*(?:[-/.]\s*\d{1,2}|年\s*\d{1,2}\s*月份?)")
_DATE_HINT = "请按 2016-05-08 或 2016年5月8日 的格式填写"

#: Dates already read from text: a sheet repeats them, and 2016年5月8日 costs ~2 µs to read.
_text_dates: dict[str, date] = {}


def _from_serial(serial: float, shown: str) -> date:
    """Return the date of an Excel serial number (1900 date system)."""
    # Serials 1900-2100 (years 1905-1906) and 190001-210012 (YYYYMM) are typed years and months.
    if 1900 <= serial < 2101:
        raise CellError(f"「{shown}」像是年份，请填写完整日期（如 2016-05-08）")
    if 190001 <= serial <= 210012 and serial == int(serial) and 1 <= serial % 100 <= 12:
        raise CellError(f"日期「{shown}」缺少日，请填写完整日期（如 2016年5月8日）")
    if not 1 <= serial < _MAX_SERIAL + 1:
        raise CellError(f"无法识别的日期「{shown}」，{_DATE_HINT}")
    days = int(serial)
    if days == 60:
        raise CellError("Excel 日期序号 60 对应不存在的 1900年2月29日，请填写正确日期")
    if days < 60:
        days += 1  # Excel counts a 1900-02-29 that never was.
    return date.fromordinal(_EXCEL_EPOCH + days)


def _make_date(year: int, month: int, day: int, shown: str) -> date:
    if not 1 <= month <= 12:
        raise CellError(f"日期「{shown}」不存在：月份应为 1 到 12")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise CellError(f"日期「{shown}」不存在：{year}年{month}月只有 {last} 天")
    return date(year, month, day)


def _from_digits(digits: str, shown: str) -> date:
    """Return the date of an all-digit value: YYYYMMDD or an Excel serial number."""
    if len(digits) == 8:
        return _make_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]), shown)
    return _from_serial(int(digits), shown)


def _text_date(text: str) -> date | None:
    shown = show_value(text)
    text = normalise_text(text)
    if not text or text in EMPTY_MARKERS:
        return None
    refuse_error_value(text)
    if text.isdigit():
        return _from_digits(text, shown)
    if _MONTH_ONLY.fullmatch(text):
        raise CellError(f"日期「{shown}」缺少日，请填写完整日期（如 2016年5月8日）")
    if PLAIN_NUMBER.fullmatch(text):
        return _from_serial(float(text), shown)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, _, month, day = match.groups()
            return _make_date(int(year), int(month), int(day), shown)
    raise CellError(f"无法识别的日期「{shown}」，{_DATE_HINT}")


def parse_date(value) -> date | None:
    """Return the date in a cell: a date cell, an Excel serial number or a date written as text."""
    cls = value.__class__
    if cls is date:
        return value
    if cls is datetime:
        return value.date()
    if value is None:
        return None
    if cls is str:
        found = _text_dates.get(value)
        if found is not None:
            return found
        found = None
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            with suppress(ValueError):
                found = date.fromisoformat(value)
        else:
            # \d also matches full-width digits and int() reads them: no normalising needed.
            match = _CHINESE_DATE.fullmatch(value)
            if match:
                with suppress(ValueError):
                    found = date(int(match[1]), int(match[2]), int(match[3]))
        if found is None:
            found = _text_date(value)
            if found is None:
                return None
        if len(_text_dates) >= CACHE_LIMIT:
            _text_dates.clear()
        _text_dates[value] = found
        return found
    if cls is float:
        if not math.isfinite(value):
            raise CellError(f"无法识别的日期「{show_value(value)}」，{_DATE_HINT}")
        if value == int(value) and 19000101 <= value <= 21001231:
            return _from_digits(str(int(value)), show_value(value))
        return _from_serial(value, show_value(value))
    if cls is int:
        if 19000101 <= value <= 21001231:
            return _from_digits(str(value), str(value))
        return _from_serial(value, str(value))
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time | timedelta):
        raise CellError(f"「{value}」是时间，不是日期")
    raise CellError(f"无法识别的日期「{show_value(value)}」，{_DATE_HINT}")
