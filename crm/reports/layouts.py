"""Government layouts (上报报表): the administrator's templates, and building a layout's workbook.

The built-in layouts (`layout_columns.LAYOUTS`) define the columns each can show; a template
(`ReportTemplate`) holds the ones an administrator chose, in order. Building a workbook asks the
layout's source for its rows (`layout_sources`), within the user's reach, and writes them with
`layout_book`: the city in the title, yearly figures grouped under their year, money in 万元.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from crm.accounts.models import User
from crm.core.filters import to_wan
from crm.extensions import db
from crm.reference.cities import CITIES
from crm.reference.models import District
from crm.reports import layout_hte, layout_sources
from crm.reports.layout_book import Book, SheetColumn, write
from crm.reports.layout_columns import LAYOUTS, Column, Layout
from crm.reports.models import ReportTemplate

UNIT_NOTE = "金额单位为万元。"

#: The function that gathers each layout's rows.
SOURCES: dict[str, Callable[..., layout_sources.Source]] = {
    "reserve": layout_hte.reserve,
    "recommendation": layout_hte.recommendation,
    "recertification": layout_hte.recertification,
    "listing": layout_sources.listing,
    "support": layout_sources.support,
}


class TemplateError(ValueError):
    """A choice of columns that cannot be saved; the message says why, in Chinese."""


# --- Templates -----------------------------------------------------------------------------------


def template_of(layout: Layout) -> ReportTemplate | None:
    """Return the administrator's template of `layout`, or None while it has the default."""
    return db.session.scalar(select(ReportTemplate).where(ReportTemplate.key == layout.key))


def shown_keys(layout: Layout, template: ReportTemplate | None = None) -> list[str]:
    """Return the keys of the columns `layout` shows, in order: the template's or the default.

    Keys the layout no longer has are skipped; a template left with none shows the default.
    """
    template = template if template is not None else template_of(layout)
    if template is None:
        return layout.default_keys
    keys = list(dict.fromkeys(k for k in template.columns if layout.column(k) is not None))
    return keys or layout.default_keys


def save_template(layout: Layout, keys: list[str], user: User) -> ReportTemplate:
    """Store the columns `layout` shows, in order; flushes.

    Raises TemplateError for an unknown or repeated column, or when none is chosen.
    """
    unknown = [key for key in keys if layout.column(key) is None]
    if unknown:
        raise TemplateError(f"「{layout.name}」没有这一列：{'、'.join(unknown)}")
    if len(set(keys)) != len(keys):
        raise TemplateError("同一列不能选择两次")
    if not keys:
        raise TemplateError("请至少选择一列")
    template = template_of(layout)
    if template is None:
        template = ReportTemplate(key=layout.key, name=layout.name)
        db.session.add(template)
    template.name = layout.name
    template.columns = list(keys)
    template.updated_by_id = user.id
    db.session.flush()
    return template


def restore_default(layout: Layout) -> None:
    """Forget the administrator's template of `layout`: it shows its default columns; flushes."""
    template = template_of(layout)
    if template is not None:
        db.session.delete(template)
        db.session.flush()


# --- Building ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A workbook written: its title, the name to download it as, and how many rows it has."""

    title: str
    filename: str
    rows: int


def city_name() -> str:
    """Return the name of the configured city, e.g. 梧州市."""
    return CITIES[current_app.config["CITY"]]["name"]


def sheet_columns(
    layout: Layout, keys: list[str], years: list[int]
) -> list[tuple[SheetColumn, Any, Column]]:
    """Return the sheet's columns for the shown `keys`: (sheet column, row key, column).

    The yearly columns form one block where the first of them stands, one group per year, each
    group holding the yearly columns in the order of `keys`; the row key of a yearly figure is
    (key, year).
    """
    columns = [layout.column(key) for key in keys]
    yearly = [c for c in columns if c.yearly]
    result: list[tuple[SheetColumn, Any, Column]] = []
    placed = False
    for column in columns:
        if not column.yearly:
            sheet = SheetColumn(column.header, column.kind, column.width, tally=column.tally)
            result.append((sheet, column.key, column))
        elif not placed:
            placed = True
            for year in years:
                for figure in yearly:
                    sheet = SheetColumn(figure.header, figure.kind, figure.width, f"{year}年")
                    result.append((sheet, (figure.key, year), figure))
    return result


def _converter(column: Column) -> Callable[[Any], Any]:
    if column.kind == "money":
        return to_wan
    if column.kind == "percent":
        return lambda value: None if value is None else float(value)
    return lambda value: value


def _values(rows: Iterable[dict], getters: list[tuple[Any, Callable]]) -> Iterator[list]:
    for row in rows:
        yield [convert(row.get(key)) for key, convert in getters]


def title_of(source_title: str, district_id: int | None) -> str:
    """Return the workbook's title: the city, the district if one was chosen, the source's."""
    district = db.session.get(District, district_id) if district_id is not None else None
    return f"{city_name()}{district.name if district else ''}{source_title}"


def build(
    layout: Layout,
    params: layout_sources.Params,
    user: User,
    target: str | IO[bytes],
    *,
    today: date,
    filler: str = "",
    batch=None,
) -> Built:
    """Write `layout`'s workbook for `params` into `target`, holding the firms `user` reaches.

    `batch` is the certification batch of the recommendation summary; `filler` the reporting
    unit written on the 填报单位 line (a blank to fill in by hand when empty).
    """
    keys = shown_keys(layout)
    shown = set(keys)
    extra = {"batch": batch} if layout.key == "recommendation" else {}
    source = SOURCES[layout.key](params, user, shown, today, **extra)
    columns = sheet_columns(layout, keys, source.years)
    notes = [UNIT_NOTE] if any(c.kind == "money" for _, _, c in columns) else []
    notes += [note for note, about in source.notes if not about or about & shown]
    title = title_of(source.title, params.district_id)
    book = Book(
        title=title,
        sheet_name=layout.name,
        columns=[sheet for sheet, _, _ in columns],
        filled_on=today,
        filler=filler,
        notes=notes,
    )
    getters = [(key, _converter(column)) for _, key, column in columns]
    count = write(book, _values(source.rows, getters), target)
    return Built(title=title, filename=f"{title}.xlsx", rows=count)


def get_layout(key: str) -> Layout | None:
    """Return the built-in layout with `key`, or None."""
    return LAYOUTS.get(key)
