"""Parse one spreadsheet cell into a clean value (pure: no Flask, no database).

Every parser takes a raw cell value as the spreadsheet reader delivers it (None, a stripped str,
int, float, bool, datetime.date or datetime.datetime) and returns the clean value, or None for an
empty cell, or raises `CellError` whose Chinese message says what is wrong with the value (the
caller adds the row and the column). Reference data (districts, parks, choices) is passed in.

Warning convention: a parser that can accept a value and still doubt it (`parse_percent`,
`parse_uscc`, `parse_phone`) always returns a `Parsed(value, warning)` named tuple, `warning`
being None or a Chinese sentence for the importer to show; it unpacks like a pair (`code,
warning = parse_uscc(v)`). Every other parser returns the bare value.

Decisions worth knowing:
- Empty: None, "" and the placeholders of `EMPTY_MARKERS` ("—", "-", "/", "无"…) are empty for
  numbers, dates, codes, districts and choices. `parse_text` keeps them as text, and `parse_bool`
  reads 无 as 否. Excel error values ("#DIV/0!", "#N/A"…) are errors, never empty.
- Dates are parsed by `crm.excel.dates`, reference data matched by `crm.excel.matchers`.
- Floats become Decimal through their 15-significant-digit text, the precision Excel itself
  keeps: 0.1 + 0.2 gives 0.3, and 1234.565 stored as 1234.5649999999998 rounds to 1234.57.
- Amounts are quantised to fen (0.01, half up). A unit written in the cell (元, 万元, 亿元…)
  overrides the `scale` the caller derived from the header.
- Percentages: a number whose magnitude is at most 1 is a ratio (a %-formatted cell arrives as
  0.125); a larger one is read as a percentage, with a warning. A percentage written in an
  amount column is refused; a %-formatted number cell there cannot be told from a number.
- Amounts and head counts of a field (`money_parser`, `count_parser` with its label) are never
  negative: revenue, R&D, assets or staff below zero are refused on their cell.
- Phones: a text cell is kept as typed; a number cell cannot hold a leading 0, so its digits
  are kept, a Guangxi landline gets its 0 back, and a number that may have lost one warns.

Speed: the importer calls these about 1.5 million times per 50,000-row file, so each parser
tries the common cell types first (None, a value already of the target type, a plain ASCII
string) before normalising full-width text, and the matchers cache every answer.
"""

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from crm.firms import uscc as uscc_rules
from crm.spreadsheets.writer import FORMULA_STARTS


class CellError(ValueError):
    """A cell value that cannot be used; the message (Chinese) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Parsed(NamedTuple):
    """A parsed value and an optional warning about it."""

    value: Any
    warning: str | None = None


_NOTHING = Parsed(None, None)


#: Placeholders people type for "nothing here".
EMPTY_MARKERS = frozenset(
    {"-", "--", "---", "—", "——", "–", "――", "―", "/", "\\", "无", "暂无", "N/A", "n/a"}
)
EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
)

#: IP kind synonyms for `parse_choice` over `crm.firms.rules.IP_KINDS` (labels and codes match
#: by themselves).
IP_KIND_SYNONYMS = {
    "发明": "invention",
    "发明授权": "invention",
    "植物新品种权": "plant_variety",
    "农作物品种": "crop_variety",
    "新药": "new_drug",
    "中药保护品种": "tcm_variety",
    "集成电路布图设计": "ic_layout",
    "布图设计": "ic_layout",
    "实用新型": "utility_model",
    "新型": "utility_model",
    "外观设计": "design",
    "外观": "design",
    "外观专利": "design",
    "软著": "software",
    "软件著作": "software",
    "软件版权": "software",
    "计算机软件著作权": "software",
    "计算机软件著作权登记": "software",
}

_CENT = Decimal("0.01")
_ZERO_CENT = Decimal("0.00")
_ONE = Decimal(1)
#: Units an amount may carry, longest first, and what they multiply by.
_UNIT_SCALES = {
    "万元": Decimal(10000),
    "亿元": Decimal(100000000),
    "千元": Decimal(1000),
    "元": _ONE,
    "万": Decimal(10000),
    "亿": Decimal(100000000),
}
_COUNT_UNITS = dict.fromkeys(
    ("人", "个", "项", "件", "家", "名", "位", "次", "台", "套", "篇", "年"), 1
)
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")


_TRUE_WORDS = ("是", "是的", "有", "对", "√", "✓", "✔", "y", "yes", "1", "true")
_FALSE_WORDS = ("否", "不是", "无", "没有", "×", "✗", "✘", "n", "no", "0", "false")
_BOOLS = {**dict.fromkeys(_TRUE_WORDS, True), **dict.fromkeys(_FALSE_WORDS, False)}

#: The most answers a parser or matcher caches.
CACHE_LIMIT = 20000


def show_value(value) -> str:
    """Render a raw value the way the user saw it, shortened for a message."""
    cls = value.__class__
    if cls is str:
        text = value
    elif cls is float:
        return format(value, ".15g")
    elif cls is bool:
        return "TRUE" if value else "FALSE"
    elif isinstance(value, date):
        return value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def normalise_text(text: str) -> str:
    """Convert full-width characters to half-width and trim."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def refuse_error_value(text: str) -> None:
    """Refuse an Excel error value (#DIV/0!, #N/A…) with a message that says to fix the formula."""
    if text in EXCEL_ERRORS:
        raise CellError(f"单元格是公式错误值「{text}」，请先修正公式")


def _float_decimal(value: float) -> Decimal:
    """Return the Decimal of a float at Excel's 15 significant digits."""
    if value.is_integer() and -1e15 < value < 1e15:
        return Decimal(int(value))  # exact, and faster than through text
    text = repr(value)
    # A repr of at most 16 characters has at most 15 digits, so it is already the 15-digit
    # rounding; only longer ones ("1234.5649999999998") need the slower format().
    if len(text) > 16:
        text = format(value, ".15g")
    elif text[-1] in "nf":  # nan, inf
        raise CellError(f"「{text}」不是有效的数字")
    return Decimal(text)


def _split_unit(text: str, units: Mapping[str, Any]) -> tuple[str, Any]:
    """Split a trailing unit off `text`; return (number text, the unit's value or None)."""
    if text[-1].isascii():  # the usual case: no unit at all
        return text, None
    for name, unit in units.items():
        if text.endswith(name) and len(text) > len(name):
            return text[: -len(name)].rstrip(), unit
    return text, None


def _text_decimal(text: str, shown: str, *, currency: bool = False) -> Decimal:
    """Parse a normalised number text: sign, accounting brackets, thousands separators."""
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if currency and text.startswith("¥"):
        text = text[1:].lstrip()
    if text and text[0] in "-+":
        negative, text = (negative != (text[0] == "-")), text[1:].lstrip()
    if currency and text.startswith("¥"):
        text = text[1:].lstrip()
    if "," in text:
        if not _GROUPED_NUMBER.fullmatch(text):
            if _NUMBER.fullmatch(text.replace(",", "")):
                raise CellError(f"「{shown}」的千分位逗号位置不对")
            raise CellError(f"「{shown}」不是数字")
        text = text.replace(",", "")
    elif not _NUMBER.fullmatch(text):
        raise CellError(f"「{shown}」不是数字")
    number = Decimal(text)
    return -number if negative else number


def _quantise(number: Decimal, raw) -> Decimal:
    """Round to the fen, half up; `raw` only names the cell in an error."""
    try:
        result = number.quantize(_CENT, ROUND_HALF_UP)  # positional: a keyword costs 2x
    except InvalidOperation:
        raise CellError(f"「{show_value(raw)}」数值过大") from None
    return result if result else _ZERO_CENT  # no "-0.00"


# --- numbers -----------------------------------------------------------------------------------


def parse_decimal(value, scale: Decimal | int = _ONE) -> Decimal | None:
    """Return an amount in yuan to the fen, times `scale` unless the cell names its own unit."""
    cls = value.__class__
    if cls is float:
        number = _float_decimal(value)
    elif cls is int:
        number = Decimal(value)
    elif value is None:
        return None
    elif cls is str:
        if PLAIN_NUMBER.fullmatch(value):
            number = Decimal(value)
        else:
            shown = show_value(value)
            text = normalise_text(value)
            if not text or text in EMPTY_MARKERS:
                return None
            refuse_error_value(text)
            if text[-1] in "%‰":
                raise CellError(f"「{shown}」是百分比，这里应填写数值")
            text, unit = _split_unit(text, _UNIT_SCALES)
            number = _text_decimal(text, shown, currency=True)
            if unit is not None:
                return _quantise(number * unit, value)
    elif cls is Decimal:
        if not value.is_finite():
            raise CellError(f"「{value}」不是有效的数字")
        number = value
    elif cls is bool:
        raise CellError(f"「{show_value(value)}」不是数字")
    else:
        raise CellError(f"「{show_value(value)}」不是数字")
    if scale is not _ONE and scale != 1:
        number *= scale
    return _quantise(number, value)


def _refuse_negative(raw, label: str) -> CellError:
    return CellError(f"「{show_value(raw)}」是负数，{label}不能为负")


def money_parser(scale: Decimal, label: str | None = None) -> Callable[[Any], Decimal | None]:
    """Return `parse_decimal` for a column of amounts in one unit, fast for plain numbers.

    With the field's `label`, a negative amount is refused (revenue, assets, R&D cannot be).

    A number whose amount in fen comes within 0.01 of a whole number, as nearly every amount
    does, is that whole number of fen. Below 10^12 fen the float product and Excel's 15-digit
    rounding (which `parse_decimal` applies first) together stay within 0.006 fen of the exact
    amount, so the exact path's half-up rounding would give the same fen. Anything else (text,
    a fraction of a fen, a huge number) takes the exact path.
    """
    # The fast paths' lower bound, in fen: half a fen below zero rounds to zero either way.
    low = -0.5 if label else -1e12

    def exact(value):
        amount = parse_decimal(value, scale)
        if label and amount is not None and amount < 0:
            raise _refuse_negative(value, label)
        return amount

    fen = scale * 100
    if fen != fen.to_integral_value() or not 1 <= fen <= 10**10:
        return exact
    by_float, by_int, cent = float(fen), int(fen), _CENT

    def parse(value):
        cls = value.__class__
        if cls is float:
            amount = value * by_float
            if low < amount < 1e12:  # false for nan and inf too
                whole = round(amount)
                if -0.01 <= amount - whole <= 0.01:
                    return Decimal(whole) * cent
        elif cls is int:
            amount = value * by_int
            if low < amount < 10**12:
                return Decimal(amount) * cent
        return exact(value)

    return parse


def count_parser(label: str) -> Callable[[Any], int | None]:
    """Return `parse_int` for a column of head counts, refusing a negative one."""

    def parse(value):
        if value.__class__ is int and value >= 0:  # the usual case
            return value
        number = parse_int(value)
        if number is not None and number < 0:
            raise _refuse_negative(value, label)
        return number

    return parse


def parse_int(value) -> int | None:
    """Return a whole number such as a head count: 12, 12.0, "12人", "1,200"."""
    cls = value.__class__
    if cls is int:
        return value
    if value is None:
        return None
    if cls is float:
        if not math.isfinite(value):
            raise CellError(f"「{show_value(value)}」不是有效的数字")
        if value.is_integer():
            return int(value)
        raise CellError(f"「{show_value(value)}」应为整数")
    if cls is str:
        if value.isdigit() and value.isascii():
            return int(value)
        shown = show_value(value)
        text = normalise_text(value)
        if not text or text in EMPTY_MARKERS:
            return None
        refuse_error_value(text)
        text, _ = _split_unit(text, _COUNT_UNITS)
        number = _text_decimal(text, shown)
    elif cls is Decimal:
        number, shown = value, str(value)
        if not number.is_finite():
            raise CellError(f"「{shown}」不是有效的数字")
    else:
        raise CellError(f"「{show_value(value)}」不是数字")
    if number != number.to_integral_value():
        raise CellError(f"「{shown}」应为整数")
    if number.adjusted() >= 18:
        raise CellError(f"「{shown}」数值过大")
    return int(number)


def _ratio(number: Decimal, shown: str) -> Parsed:
    """Read a bare number as a ratio (|n| ≤ 1) or a percentage (|n| > 1, with a warning)."""
    if abs(number) > 1:
        return Parsed(number.scaleb(-2), f"「{shown}」已按 {shown}% 理解，请核对")
    if abs(number) == 1:
        whole = "-100%" if number < 0 else "100%"
        return Parsed(number, f"「{shown}」已按 {whole} 理解，如指 {shown}% 请填写「{shown}%」")
    return Parsed(number, None)


def parse_percent(value) -> Parsed:
    """Return Parsed(ratio, warning): "12.5%" and 0.125 give 0.125; 12.5 too, with a warning."""
    cls = value.__class__
    if cls is float:
        if -1.0 < value < 1.0:  # a %-formatted cell, the usual case
            return Parsed(_float_decimal(value), None)
        return _ratio(_float_decimal(value), show_value(value))
    if value is None:
        return _NOTHING
    if cls is int:
        return _ratio(Decimal(value), str(value))
    if cls is Decimal:
        if not value.is_finite():
            raise CellError(f"「{value}」不是有效的数字")
        return _ratio(value, str(value))
    if cls is not str:
        raise CellError(f"「{show_value(value)}」不是百分比")
    shown = show_value(value)
    text = normalise_text(value)
    if not text or text in EMPTY_MARKERS:
        return _NOTHING
    refuse_error_value(text)
    if text.endswith("%"):
        return Parsed(_text_decimal(text[:-1].rstrip(), shown).scaleb(-2), None)
    if text.endswith("‰"):
        return Parsed(_text_decimal(text[:-1].rstrip(), shown).scaleb(-3), None)
    try:
        number = _text_decimal(text, shown)
    except CellError:
        raise CellError(f"「{shown}」不是百分比") from None
    return _ratio(number, shown)


# --- booleans and text -------------------------------------------------------------------------


def parse_bool(value) -> bool | None:
    """Return True or False for 是/否, √/×, Y/N, yes/no, 1/0, true/false, 有/无."""
    cls = value.__class__
    if cls is bool:
        return value
    if value is None:
        return None
    if cls is int or cls is float:
        if value == 1:
            return True
        if value == 0:
            return False
    elif cls is str:
        text = normalise_text(value)
        answer = _BOOLS.get(text.lower())
        if answer is not None:
            return answer
        if not text or text in EMPTY_MARKERS:
            return None
    raise CellError(
        f"「{show_value(value)}」不是“是/否”，请填写 是 或 否（也可用 √、×，Y、N，1、0）"
    )


#: Text a spreadsheet would run as a formula, refused on import: "=" and anything, or "+", "-"
#: or "@" before a function (+HYPERLINK(…), -cmd|…) or a cell reference (@A1); "+86 774…" and
#: "-" are not. (Writing escapes every text starting with `writer.FORMULA_STARTS`, to be safe.)
FORMULA_LIKE = re.compile(
    r"=\s*\S|[+\-@]\s*(?:[A-Za-z_][\w.]*\s*[(|]|\$?[A-Za-z]{1,3}\$?\d+(?![\w.-]))"
)


def parse_text(value, max_length: int | None = None) -> str | None:
    """Return the text of a cell; a number typed for a phone or certificate number loses ".0".

    Text that looks like a formula (=HYPERLINK(…)) is refused: stored, it would run as one
    wherever it is exported again, and it is never a firm's name.
    """
    cls = value.__class__
    if cls is str:
        text = value.strip()
        if text.startswith(FORMULA_STARTS) and FORMULA_LIKE.match(text):
            raise CellError(f"「{show_value(text)}」是公式或像公式的文字，不能导入；请改为实际内容")
    elif value is None:
        return None
    elif cls is int:
        text = str(value)
    elif cls is float:
        if not math.isfinite(value):
            raise CellError(f"「{show_value(value)}」不是有效的内容")
        if value.is_integer():
            if abs(value) >= 1e15:
                raise CellError(
                    f"「{show_value(value)}」超过 15 位，Excel 已把末尾数字变成 0，"
                    "请把该列设为文本格式后重新填写"
                )
            text = str(int(value))
        else:
            text = format(value, ".15g")
    elif cls is bool:
        text = show_value(value)
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    elif isinstance(value, date | Decimal):
        text = str(value)
    else:
        text = str(value).strip()
    if not text:
        return None
    if max_length is not None and len(text) > max_length:
        raise CellError(f"内容过长：共 {len(text)} 个字，最多 {max_length} 个字")
    return text


# --- phones and e-mail addresses ---------------------------------------------------------------

#: The longest phone text a contact keeps (`FirmContact.phone`).
PHONE_LENGTH = 32
#: Guangxi's area codes, 0770–0779, without their 0: no mobile number begins with 7 and no other
#: area code with 077, so 10 or 11 digits beginning 77 are a Guangxi landline (a 7- or 8-digit
#: local number after the code) whose leading 0 was lost when the cell became a number.
_GUANGXI_AREA = "77"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def _restored(digits: str) -> str | None:
    """Return a Guangxi landline that lost its leading 0 with the 0 back, else None."""
    if len(digits) in (10, 11) and digits.startswith(_GUANGXI_AREA):
        return "0" + digits
    return None


def parse_phone(value) -> Parsed:
    """Return Parsed(phone text, warning): a text cell as typed, a number cell as its digits.

    A number cell cannot hold a leading 0. The digits are kept; a Guangxi landline's 0 is put
    back (see `_GUANGXI_AREA`); a mobile (11 digits from 1) or a local number (7 or 8 digits)
    lost nothing; any other number is kept as it is, with a warning to check it.
    """
    if value is None:
        return _NOTHING
    cls = value.__class__
    if cls is float and value.is_integer():
        value, cls = int(value), int
    if cls is int:
        digits = str(value)
        if value < 0 or len(digits) < 7:
            raise CellError(f"「{show_value(value)}」不是电话号码")
        if len(digits) in (7, 8) or (len(digits) == 11 and digits[0] == "1"):
            return Parsed(digits, None)
        restored = _restored(digits)
        if restored is not None:
            return Parsed(restored, None)
        return Parsed(
            digits,
            f"「{digits}」以数字形式存储，开头的 0 可能已丢失，请核对；电话列请设为文本格式后填写",
        )
    if cls is not str:
        raise CellError(f"「{show_value(value)}」不是电话号码")
    shown = show_value(value)
    text = normalise_text(value)
    if not text or text in EMPTY_MARKERS:
        return _NOTHING
    refuse_error_value(text)
    if "@" in text:
        raise CellError(f"「{shown}」像是电子邮箱，请填在邮箱列")
    if sum(c.isdigit() for c in text) < 7:
        raise CellError(f"「{shown}」不是电话号码")
    if len(text) > PHONE_LENGTH:
        raise CellError(f"内容过长：共 {len(text)} 个字，最多 {PHONE_LENGTH} 个字")
    if text.isascii() and text.isdigit():
        return Parsed(_restored(text) or text, None)
    return Parsed(text, None)


def parse_email(value) -> str | None:
    """Return an e-mail address as written (full-width characters made half-width)."""
    if value is None:
        return None
    if value.__class__ is not str:
        raise CellError(f"「{show_value(value)}」不是有效的电子邮箱")
    text = normalise_text(value)
    if not text or text in EMPTY_MARKERS:
        return None
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise CellError(f"「{show_value(value)}」不是有效的电子邮箱")
    return text


_USCC_CHARACTERS = frozenset(uscc_rules.ALPHABET)


def parse_uscc(value) -> Parsed:
    """Return Parsed(code, warning) for a unified social credit code (a bad check char warns)."""
    if value is None:
        return _NOTHING
    cls = value.__class__
    if cls is float or cls is int:
        # No code survives as a number: 18 digits exceed Excel's 15 and most codes hold letters.
        raise CellError(
            f"「{show_value(value)}」：统一社会信用代码被当作数字，末尾数字可能已丢失，"
            "请把该列设为文本格式后重新填写"
        )
    if cls is not str:
        raise CellError(f"「{show_value(value)}」不是统一社会信用代码")
    if len(value) == 18 and value.isascii():  # the usual case: a clean code, checked in C
        code = value.upper()
        if _USCC_CHARACTERS.issuperset(code) and uscc_rules.check_character(code[:17]) == code[17]:
            return Parsed(code, None)
    shown = show_value(value)
    if value.strip() in EMPTY_MARKERS:
        return _NOTHING
    result = uscc_rules.check(value)
    if not result.code:
        return _NOTHING
    if result.error:
        raise CellError(f"「{shown}」：{result.error}")
    if result.warning:
        return Parsed(result.code, f"{result.warning}，请核对")
    return Parsed(result.code, None)
