"""What the dashboard draws: figures (a chart and the same numbers as a table) and headline cards.

A `Figure` holds categories and series of numbers, each number with the address of the list
behind it. The page embeds `Figure.chart()` as JSON for ECharts (static/js/dashboard.js) and
renders `Figure.rows()` as the table shown without JavaScript, so the chart and the table can
never disagree. Rates are kept as fractions and drawn as percentages.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

#: How a series' numbers are written: whole counts, rates, days, 万元, percentages already scaled.
STYLES = ("count", "rate", "days", "wan", "percent")
#: How a series is drawn: bars, a line, or a short mark (a target); `table` only in the table.
KINDS = ("bar", "line", "target", "table")
EMPTY = "—"

Number = int | float | Decimal | None


def format_number(value: Number, style: str) -> str:
    """Write a number of a series for people: counts with separators, rates as percentages."""
    if value is None:
        return EMPTY
    if style == "rate":
        return f"{float(value) * 100:.1f}%"
    if style == "percent":
        return f"{float(value):.2f}%"
    if style == "days":
        return f"{float(value):,.0f}"
    if style == "wan":
        return f"{Decimal(value):,.2f}"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def chart_number(value: Number, style: str) -> float | int | None:
    """Return a number as the chart draws it: rates as percentages, to two decimals."""
    if value is None:
        return None
    if style == "rate":
        return round(float(value) * 100, 1)
    if isinstance(value, int):
        return value
    number = round(float(value), 2)
    return int(number) if number.is_integer() and style == "count" else number


@dataclass(frozen=True)
class Series:
    """A named row of numbers, one per category, each with the list it counts (or None)."""

    name: str
    values: Sequence[Number]
    links: Sequence[str | None] | None = None
    kind: str = "bar"
    style: str = "count"

    def link(self, index: int) -> str | None:
        """Return the address behind the `index`-th number, if any."""
        return self.links[index] if self.links else None


@dataclass(frozen=True)
class Cell:
    """A table cell: the text, and the list it links to."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Figure:
    """A chart of the dashboard with the numbers and links behind it."""

    key: str
    title: str
    #: The heading of the categories' column in the table (阶段, 县（市、区）, 入库年度 ...).
    axis: str
    categories: Sequence[str]
    series: Sequence[Series]
    #: The unit of the value axis (家, 天, %, 万元).
    unit: str
    note: str = ""
    #: Bars run left to right, categories from the top (a funnel's stages).
    horizontal: bool = False
    #: Shown instead of the chart and table when the figure has nothing to show.
    empty_text: str = "暂无数据"
    #: Lines under the table (a total).
    footer: Sequence[str] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        """Tell whether no drawn series has a number other than 0."""
        return not any(
            value for series in self.series if series.kind != "table" for value in series.values
        )

    @property
    def columns(self) -> list[str]:
        """Return the table's column headings."""
        return [self.axis, *(series.name for series in self.series)]

    def rows(self) -> list[tuple[str, list[Cell]]]:
        """Return the table's rows: a category and a cell per series."""
        return [
            (
                category,
                [
                    Cell(format_number(series.values[n], series.style), series.link(n))
                    for series in self.series
                ],
            )
            for n, category in enumerate(self.categories)
        ]

    def chart(self) -> dict:
        """Return what dashboard.js needs to draw the figure with ECharts."""
        drawn = [series for series in self.series if series.kind != "table"]
        return {
            "title": self.title,
            "unit": self.unit,
            "horizontal": self.horizontal,
            "categories": list(self.categories),
            "series": [
                {
                    "name": series.name,
                    "kind": series.kind,
                    "data": [
                        {"value": chart_number(value, series.style), "href": series.link(n)}
                        for n, value in enumerate(series.values)
                    ],
                }
                for series in drawn
            ],
        }


@dataclass(frozen=True)
class Card:
    """A headline figure: its value, the target for the year and how far it is reached."""

    key: str
    label: str
    value: Number
    unit: str
    style: str = "count"
    href: str | None = None
    target: Number = None
    #: The target is the doubling plan's placeholder, not the bureau's own figure.
    placeholder: bool = False
    note: str = ""

    @property
    def text(self) -> str:
        """Return the value as shown."""
        return format_number(self.value, self.style)

    @property
    def target_text(self) -> str | None:
        """Return the target as shown, or None without one."""
        return None if self.target is None else format_number(self.target, self.style)

    @property
    def rate(self) -> float | None:
        """Return value ÷ target (完成率), or None without a positive target or a value."""
        if self.target is None or self.value is None or not Decimal(self.target) > 0:
            return None
        return float(Decimal(self.value) / Decimal(self.target))

    @property
    def rate_text(self) -> str | None:
        """Return 完成率 as shown, or None."""
        rate = self.rate
        return None if rate is None else format_number(rate, "rate")

    def data(self) -> dict:
        """Return the card's numbers for the page's JSON."""
        return {
            "value": chart_number(self.value, self.style),
            "target": chart_number(self.target, self.style),
        }


@dataclass(frozen=True)
class Dashboard:
    """Everything the page shows for one user and set of filters."""

    cards: Sequence[Card]
    figures: Sequence[Figure]

    def data(self) -> dict:
        """Return the JSON the page embeds: the charts and the cards' numbers."""
        return {
            "cards": {card.key: card.data() for card in self.cards},
            "charts": {figure.key: figure.chart() for figure in self.figures},
        }
