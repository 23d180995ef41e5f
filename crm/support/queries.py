"""Read-side selects of the support ledger: a firm's entries, the ledger list, totals, rules.

The ledger only ever shows entries of firms the user can see (firms.access), and sums the
amounts of the filtered set in SQL.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from crm.accounts.models import User
from crm.core.web import Page, paginate
from crm.extensions import db
from crm.firms.access import firm_ids_in_reach, firm_scope
from crm.firms.models import Firm
from crm.firms.queries import text_condition
from crm.support.models import SubsidyRule, SupportEntry
from crm.support.rules import ENTRY_STATUSES, RULE_EVENTS, SUPPORT_KINDS, rule_in_force

#: Rows fetched from the database at a time by an unpaged read.
_CHUNK = 2000


@dataclass(frozen=True)
class StatusTotal:
    """How many entries have a status and the sum of their known amounts, in yuan."""

    status: str
    count: int
    amount: Decimal

    @property
    def label(self) -> str:
        """Return the status in Chinese."""
        return ENTRY_STATUSES[self.status]


@dataclass(frozen=True)
class Totals:
    """The totals of a set of entries by status, in ledger order."""

    by_status: list[StatusTotal]

    @property
    def count(self) -> int:
        """Return how many entries there are."""
        return sum(t.count for t in self.by_status)

    @property
    def amount(self) -> Decimal:
        """Return the sum of the known amounts."""
        return sum((t.amount for t in self.by_status), Decimal(0))


@dataclass
class LedgerFilters:
    """What the ledger list is narrowed by; empty values do not filter."""

    q: str = ""
    year: int | None = None
    district_id: int | None = None
    kind: str | None = None
    status: str | None = None


def get_entry(firm: Firm, entry_id: int) -> SupportEntry:
    """Load an entry on `firm`'s ledger, or answer 404."""
    entry = db.session.get(SupportEntry, entry_id)
    if entry is None or entry.firm_id != firm.id:
        abort(404)
    return entry


def entries_of(firm_id: int) -> list[SupportEntry]:
    """Return the firm's entries, latest first."""
    stmt = (
        select(SupportEntry)
        .where(SupportEntry.firm_id == firm_id)
        .order_by(SupportEntry.granted_on.desc(), SupportEntry.id.desc())
    )
    return list(db.session.scalars(stmt))


def _totals(stmt: Select) -> Totals:
    """Return the totals by status of the entries `stmt` selects (grouped in SQL)."""
    rows = db.session.execute(
        stmt.with_only_columns(
            SupportEntry.status,
            func.count(SupportEntry.id),
            func.coalesce(func.sum(SupportEntry.amount), 0),
        )
        .group_by(SupportEntry.status)
        .order_by(None)
    )
    found = {status: (count, Decimal(amount)) for status, count, amount in rows}
    return Totals(
        [StatusTotal(status, *found.get(status, (0, Decimal(0)))) for status in ENTRY_STATUSES]
    )


def firm_totals(firm_id: int) -> Totals:
    """Return the totals of the firm's entries by status."""
    return _totals(select(SupportEntry).where(SupportEntry.firm_id == firm_id))


def year_bounds(year: int) -> tuple[date, date]:
    """Return the first and last day of `year`, so a year filter can use the date index."""
    return date(year, 1, 1), date(year, 12, 31)


def _entry_conditions(filters: LedgerFilters) -> list:
    """Return the conditions of `filters` on the entries themselves."""
    conditions = []
    if filters.year is not None:
        first, last = year_bounds(filters.year)
        conditions.append(SupportEntry.granted_on.between(first, last))
    if filters.kind in SUPPORT_KINDS:
        conditions.append(SupportEntry.kind == filters.kind)
    if filters.status in ENTRY_STATUSES:
        conditions.append(SupportEntry.status == filters.status)
    return conditions


def _firm_conditions(user: User, filters: LedgerFilters, *, every: bool = False) -> list:
    """Return the conditions on the entries' firms: in reach, live, and the firm filters
    (`every`: the select reads all of them, see `firms.access.firm_scope`)."""
    conditions = [firm_scope(user, every=every), Firm.deleted_at.is_(None)]
    if filters.district_id is not None:
        conditions.append(Firm.district_id == filters.district_id)
    if filters.q.strip():
        conditions.append(text_condition(filters.q))
    return conditions


def ledger_select(user: User, filters: LedgerFilters) -> Select:
    """Return the select of the entries of the firms `user` sees, narrowed by `filters`."""
    return (
        select(SupportEntry)
        .join(Firm, Firm.id == SupportEntry.firm_id)
        .where(*_firm_conditions(user, filters), *_entry_conditions(filters))
    )


def ledger_page(user: User, filters: LedgerFilters, number: int, per_page: int) -> Page:
    """Return one page of the ledger, latest entries first, each with its firm loaded.

    The page's ids are read off the index of the ledger's order (alone, or within a kind or a
    status) on the narrow join, and only its rows are loaded with their firm and district.
    """
    stmt = (
        ledger_select(user, filters)
        .with_only_columns(SupportEntry.id)
        .order_by(SupportEntry.granted_on.desc(), SupportEntry.id.desc())
    )
    page = paginate(stmt, number, per_page)
    loaded = db.session.scalars(
        select(SupportEntry)
        .where(SupportEntry.id.in_(page.items))
        .options(joinedload(SupportEntry.firm).joinedload(Firm.district))
    ).unique()
    by_id = {entry.id: entry for entry in loaded}
    page.items = [by_id[i] for i in page.items if i in by_id]
    return page


def ledger_rows(user: User, filters: LedgerFilters) -> Iterator[SupportEntry]:
    """Yield every entry of the filtered ledger in the page's order (latest first), unpaged,
    each with its firm loaded."""
    stmt = (
        ledger_select(user, filters)
        .options(joinedload(SupportEntry.firm))
        .order_by(SupportEntry.granted_on.desc(), SupportEntry.id.desc())
    )
    yield from db.session.scalars(stmt).yield_per(_CHUNK)


def count_ledger(user: User, filters: LedgerFilters) -> int:
    """Return how many entries the filtered ledger holds."""
    stmt = ledger_select(user, filters).with_only_columns(SupportEntry.id)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def ledger_totals(user: User, filters: LedgerFilters) -> Totals:
    """Return the totals by status of the whole filtered ledger (not only the page shown); the
    firms are a condition on the entries' firm ids (`firms.access.firm_ids_in_reach`)."""
    narrowed = None
    if filters.district_id is not None or filters.q.strip():
        narrowed = select(Firm).where(*_firm_conditions(user, filters, every=True))
    reach = firm_ids_in_reach(user, SupportEntry.firm_id, narrowed)
    return _totals(select(SupportEntry).where(reach, *_entry_conditions(filters)))


# --- Rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRules:
    """The versions of one event's rules, newest first, and the one in force."""

    event: str
    versions: list[SubsidyRule]
    in_force: SubsidyRule | None

    @property
    def label(self) -> str:
        """Return the event in Chinese."""
        return RULE_EVENTS.get(self.event, self.event)


def rules_by_event(today: date) -> list[EventRules]:
    """Return every event with its rule versions and the version in force on `today`."""
    rules = list(
        db.session.scalars(
            select(SubsidyRule).order_by(SubsidyRule.effective_from.desc(), SubsidyRule.id.desc())
        )
    )
    return [
        EventRules(
            event,
            [rule for rule in rules if rule.event == event],
            rule_in_force(rules, event, today),
        )
        for event in RULE_EVENTS
    ]


def get_rule(rule_id: int) -> SubsidyRule:
    """Load a subsidy rule by id, or answer 404."""
    rule = db.session.get(SubsidyRule, rule_id)
    if rule is None:
        abort(404)
    return rule
