"""Bind a sheet's mapped columns to the cell parsers, and convert its rows.

`Reader`s are built once per import from the mapping (field, unit, year) and the reference
data; `convert_rows` then turns each data row into a `ConvertedRow`: clean values, yearly
figures by (field, year), and the problems of its cells with their column letters.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import select

from crm.excel import values as parse
from crm.excel.columns import FieldDef, ImportKind
from crm.excel.dates import parse_date
from crm.excel.matchers import ChoiceMatcher, DistrictMatcher, NameMatcher
from crm.extensions import db
from crm.reference.cities import CITIES
from crm.reference.models import District, Industry, Park, TechField

#: The accepted range of a year cell.
YEARS = range(1980, 2100)
#: Short names people give the eight technology fields (《国家重点支持的高新技术领域》).
TECH_FIELD_SYNONYMS = {
    "电子": "电子信息",
    "生物医药": "生物与新医药",
    "生物": "生物与新医药",
    "新医药": "生物与新医药",
    "航空": "航空航天",
    "新能源": "新能源与节能",
    "节能": "新能源与节能",
    "资源环境": "资源与环境",
    "环保": "资源与环境",
    "高新技术服务": "高技术服务",
    "先进制造": "先进制造与自动化",
    "智能制造": "先进制造与自动化",
}


@dataclass(frozen=True)
class MappedColumn:
    """A sheet column and the field it fills (None: ignored)."""

    index: int
    letter: str
    label: str
    key: str | None
    scale: Decimal | None = None
    year: int | None = None


@dataclass(slots=True)
class ConvertedRow:
    """One data row with its cells parsed."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    #: Yearly figures: (field key, year from the header or None) → value.
    yearly: dict[tuple[str, int | None], Any] = field(default_factory=dict)
    #: Field key → the column letter it came from (for messages).
    letters: dict[str, str] = field(default_factory=dict)
    #: [(column letter, "error" | "warning", message)]
    issues: list[tuple[str, str, str]] = field(default_factory=list)
    #: Field keys whose value was accepted with a warning (a code with a wrong check character).
    warned: set[str] = field(default_factory=set)


class Reader(NamedTuple):
    """How one mapped column is read (a tuple: `convert_rows` unpacks it for every cell)."""

    index: int
    letter: str
    key: str
    #: Where a yearly figure goes in `ConvertedRow.yearly`, (key, year); None for a value.
    slot: tuple[str, int | None] | None
    #: Raw cell → clean value, or Parsed(value, warning); raises CellError.
    parse: Callable[[Any], Any]


class Matchers:
    """The reference-data matchers of the configured city (built once per import)."""

    def __init__(self, city: str) -> None:
        districts = db.session.scalars(select(District).order_by(District.sort_order))
        self.district = DistrictMatcher(list(districts), CITIES[city]["name"])
        self.park = NameMatcher(list(db.session.scalars(select(Park))), label="园区")
        # A firm goes in without an industry or field the system does not know (a warning);
        # a district decides who may see the firm, so an unknown one stays an error.
        self.industry = NameMatcher(
            list(db.session.scalars(select(Industry))), label="行业", leave_unknown=True
        )
        fields = list(db.session.scalars(select(TechField)))
        known = {field.name for field in fields}
        self.tech_field = NameMatcher(
            fields,
            {short: name for short, name in TECH_FIELD_SYNONYMS.items() if name in known},
            label="技术领域",
            leave_unknown=True,
        )


def _year(value) -> int | None:
    year = parse.parse_int(value)
    if year is not None and year not in YEARS:
        raise parse.CellError(f"「{value}」不是有效的年份")
    return year


def _parser(definition: FieldDef, column: MappedColumn, matchers: Matchers) -> Callable:
    kind = definition.parser
    if kind == "text":
        limit = definition.max_length
        return lambda value: parse.parse_text(value, limit)
    if kind == "money":  # amounts and counts that cannot be negative
        return parse.money_parser(column.scale or Decimal(1), definition.label)
    if kind == "int":
        return parse.count_parser(definition.label)
    if kind == "year":
        return _year
    if kind == "date":
        return parse_date
    if kind == "bool":
        return parse.parse_bool
    if kind == "percent":
        return parse.parse_percent
    if kind == "uscc":
        return parse.parse_uscc
    if kind == "phone":
        return parse.parse_phone
    if kind == "email":
        return parse.parse_email
    if kind == "choice":
        matcher = ChoiceMatcher(definition.choices, definition.choice_synonyms)
        return matcher.match
    return getattr(matchers, kind).match


def readers(kind: ImportKind, columns: Iterable[MappedColumn], matchers: Matchers) -> list[Reader]:
    """Return the readers of the mapped columns."""
    found = []
    for column in columns:
        if not column.key:
            continue
        definition = kind.get(column.key)
        found.append(
            Reader(
                column.index,
                column.letter,
                column.key,
                (column.key, column.year) if definition.yearly else None,
                _parser(definition, column, matchers),
            )
        )
    return found


def convert_rows(
    readers: list[Reader], rows: Iterable[tuple[int, list[Any]]]
) -> Iterator[ConvertedRow]:
    """Yield each sheet row (number, values aligned with the sheet's columns) converted."""
    parsed_type = parse.Parsed
    cell_error = parse.CellError
    for number, cells in rows:
        row = ConvertedRow(number)
        values, yearly, letters = row.values, row.yearly, row.letters
        width = len(cells)
        # Once per cell, about 1.5 million times per 50,000 rows.
        for index, letter, key, slot, parse_cell in readers:
            if index >= width:
                continue
            raw = cells[index]
            if raw is None:
                continue
            try:
                value = parse_cell(raw)
            except cell_error as error:
                row.issues.append((letter, "error", error.message))
                letters[key] = letter
                continue
            if value.__class__ is parsed_type:
                value, warning = value
                if warning:
                    row.issues.append((letter, "warning", warning))
                    row.warned.add(key)
            if value is None:
                continue
            letters[key] = letter
            if slot is None:
                values[key] = value
            else:
                yearly[slot] = value
        yield row
