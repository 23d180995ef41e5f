"""Read-side selects for the firm pages; every firm list goes through firms.access."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import abort
from sqlalchemy import Select, and_, any_, func, or_, select

from crm.accounts.models import User
from crm.core.audit import AuditEntry
from crm.core.permissions import MANAGER, is_admin
from crm.core.web import Page, page_number, paginate
from crm.extensions import db
from crm.firms import rules
from crm.firms.access import visible_firms
from crm.firms.certificates import firms_certified_on, valid_on
from crm.firms.models import Certificate, Firm, FirmFormerName, FirmYear, Qualification
from crm.firms.uscc import normalise
from crm.reference.models import District, Industry, Park, TechField

#: The sorts of the firm list by a column of the firm, each with an index in its order.
SORTS = {
    "name": (Firm.name,),
    "established_on": (Firm.established_on,),
    "updated_at": (Firm.updated_at,),
}
#: The sort by district, in the districts' order (firms without one last), then by id.
BY_DISTRICT = "district"
DEFAULT_SORT = "name"


@dataclass
class FirmFilters:
    """What the firm list is narrowed by; empty values do not filter."""

    q: str = ""
    district_id: int | None = None
    park_id: int | None = None
    industry_id: int | None = None
    tech_field_id: int | None = None
    manager_id: int | None = None
    tier: str | None = None
    deleted: bool = False
    sort: str = DEFAULT_SORT

    def narrows(self) -> bool:
        """Tell whether a filter leaves out some of the firms in reach (the sort does not)."""
        return bool(
            self.q.strip()
            or self.tier in rules.TIERS
            or any(
                value is not None
                for value in (
                    self.district_id,
                    self.park_id,
                    self.industry_id,
                    self.tech_field_id,
                    self.manager_id,
                )
            )
        )


def normalise_sort(sort: str | None) -> str:
    """Return `sort` when it names a known column (with an optional `-`), else the default."""
    key = sort.lstrip("-") if sort else ""
    if (key in SORTS or key == BY_DISTRICT) and sort.count("-") <= 1 and not sort.endswith("-"):
        return sort
    return DEFAULT_SORT


def _contains(column, q: str):
    """Return `column` containing `q`, any case (ILIKE on PostgreSQL, lower() LIKE on SQLite).

    On PostgreSQL a trigram index of the firm's name and of the former names serves it
    (migration 0019); SQLite has none and tests each firm.
    """
    escaped = q.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.ilike(f"%{escaped}%", escape="/")


#: The characters a normalised code is made of, in the order every collation sorts them.
_CODE_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _code_prefix(prefix: str):
    """Return the condition that the USCC starts with `prefix` (digits and capital letters).

    A range (`prefix` <= code < the next prefix) rather than LIKE, so that the unique index of
    the codes serves it on both databases whatever their collation.
    """
    condition = Firm.uscc >= prefix
    head = prefix.rstrip(_CODE_CHARACTERS[-1])
    if head:
        following = head[:-1] + _CODE_CHARACTERS[_CODE_CHARACTERS.index(head[-1]) + 1]
        condition = and_(condition, Firm.uscc < following)
    return condition


def text_condition(q: str):
    """Return the condition matching `q` in the name, a former name or the USCC.

    The firms with a matching former name are found once, not tested firm by firm. On
    PostgreSQL they are an array (`id = ANY(ARRAY(...))`), so that each part of the OR can be
    read off an index and the planner chooses between walking the list's sort (a common word)
    and combining the indexes (a full name, a rare word, a code prefix).
    """
    q = q.strip()
    former = select(FirmFormerName.firm_id).where(_contains(FirmFormerName.name, q))
    if db.session.get_bind().dialect.name == "postgresql":
        by_former = Firm.id == any_(func.array(former.scalar_subquery()))
    else:
        by_former = Firm.id.in_(former)
    conditions = [_contains(Firm.name, q), by_former]
    code = normalise(q)
    if code.isalnum() and code.isascii():
        if len(code) == 18:
            conditions.append(Firm.uscc == code)
        elif len(code) >= 6:
            conditions.append(_code_prefix(code))
    return or_(*conditions)


def tier_condition(tier: str, today: date):
    """Return the condition selecting firms currently holding `tier` (a valid certificate for
    the tiers that are certificates).

    The holders are one subquery evaluated once. `Firm.id + 0` keeps SQLite from fetching every
    holder by its id and sorting them all: it walks the index of the list's sort instead and
    stops at the end of the page (a correlated EXISTS went through every certificate of the kind
    for each firm, 9 to 26 s at 20,000 firms).
    """
    if tier in rules.CERTIFICATE_KINDS:
        holders = select(Certificate.firm_id).where(valid_on(today, tier))
    else:
        holders = select(Qualification.firm_id).where(
            Qualification.tier == tier,
            Qualification.year >= rules.tier_current_since(tier, today),
        )
    return (Firm.id + 0).in_(holders)


def filtered_firms(user: User, filters: FirmFilters, today: date, *, every: bool = False) -> Select:
    """Return the select of the firms `user` sees, narrowed by `filters`, in no order
    (`every`: the select reads all of them, see `firms.access.firm_scope`)."""
    stmt = visible_firms(user, include_deleted=filters.deleted, every=every)
    if filters.deleted and is_admin(user):
        stmt = stmt.where(Firm.deleted_at.is_not(None))
    for column, value in (
        (Firm.district_id, filters.district_id),
        (Firm.park_id, filters.park_id),
        (Firm.industry_id, filters.industry_id),
        (Firm.tech_field_id, filters.tech_field_id),
        (Firm.manager_id, filters.manager_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.tier in rules.TIERS:
        stmt = stmt.where(tier_condition(filters.tier, today))
    if filters.q.strip():
        stmt = stmt.where(text_condition(filters.q))
    return stmt


def worth_walking(count: int, wanted: int, span: int | None = None) -> bool:
    """Tell whether SQLite should walk a list's order and test each firm, rather than fetch
    the `count` firms a condition selects and sort them, to find the first `wanted`.

    Walking visits about `wanted` x (`span` / `count`) firms, `span` being about how many firms
    there are (`firm_span`, asked for when not given); fetching and sorting costs about `count`.
    Without statistics SQLite takes any index the condition offers and sorts; callers write the
    condition with `+ 0` when this answers yes. PostgreSQL weighs the two itself.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    return count * count >= wanted * (firm_span() if span is None else span)


def firm_span() -> int:
    """Return the highest firm id: about how many firms a walk through them all visits."""
    return db.session.scalar(select(func.max(Firm.id))) or 0


def firm_list_select(user: User, filters: FirmFilters, today: date) -> Select:
    """Return the select of the firms `user` sees, narrowed by `filters` and in the order of
    one of the column sorts (`SORTS`); the sort by district is paged by `list_firms`."""
    sort = normalise_sort(filters.sort)
    descending = sort.startswith("-")
    order = [c.desc() if descending else c.asc() for c in SORTS[sort.lstrip("-")]]
    return filtered_firms(user, filters, today).order_by(
        *order, Firm.id.desc() if descending else Firm.id.asc()
    )


def list_firms(user: User, filters: FirmFilters, number: int, per_page: int, today: date) -> Page:
    """Return one page of the firm list for `user`, narrowed and sorted by `filters`."""
    sort = normalise_sort(filters.sort)
    if sort.lstrip("-") == BY_DISTRICT:
        return _page_by_district(user, filters, today, number, per_page)
    return paginate(firm_list_select(user, filters, today), number, per_page)


def firm_list_selects(user: User, filters: FirmFilters, today: date) -> list[Select]:
    """Return the selects that, read one after another, give every firm of the list `user`
    sees for `filters`, unpaged and in the list's order (an export of the list reads them).

    A column sort is one select; the sort by district is one select per district, in the
    districts' order (firms without one last), by id within a district, as the pages show it.
    """
    sort = normalise_sort(filters.sort)
    if sort.lstrip("-") != BY_DISTRICT:
        return [firm_list_select(user, filters, today)]
    descending = sort.startswith("-")
    order: list[int | None] = list(
        db.session.scalars(select(District.id).order_by(District.sort_order, District.code))
    )
    order.append(None)
    if descending:
        order.reverse()
    stmt = filtered_firms(user, filters, today)
    return [firms_in_district(stmt, district_id, descending) for district_id in order]


def firms_in_district(stmt: Select, district_id: int | None, descending: bool) -> Select:
    """Return the firms of `stmt` in one district (or in none), by id."""
    in_district = (
        Firm.district_id.is_(None) if district_id is None else Firm.district_id == district_id
    )
    return stmt.where(in_district).order_by(Firm.id.desc() if descending else Firm.id.asc())


def _page_by_district(
    user: User, filters: FirmFilters, today: date, number: int, per_page: int
) -> Page:
    """Return one page of the firm list in the districts' order, by id within a district.

    The firms are counted per district (read off the district index), and the page is then
    read district by district off the index of (district, id) from the right offset, instead
    of joining every firm to its district and sorting them all.
    """
    number = page_number(number)
    descending = normalise_sort(filters.sort).startswith("-")
    counted = filtered_firms(user, filters, today, every=True)
    counts = dict(
        db.session.execute(
            counted.with_only_columns(Firm.district_id, func.count()).group_by(Firm.district_id)
        ).all()
    )
    stmt = filtered_firms(user, filters, today)
    order = list(
        db.session.scalars(select(District.id).order_by(District.sort_order, District.code))
    )
    order.append(None)
    if descending:
        order.reverse()
    skip = (number - 1) * per_page
    wanted = per_page + 1
    items: list[Firm] = []
    for district_id in order:
        count = counts.get(district_id, 0)
        if skip >= count:
            skip -= count
            continue
        items += db.session.scalars(
            firms_in_district(stmt, district_id, descending).offset(skip).limit(wanted - len(items))
        ).unique()
        skip = 0
        if len(items) >= wanted:
            break
    return Page(items=items[:per_page], number=number, has_next=len(items) > per_page)


def tiers_held(firm_ids: Iterable[int], today: date) -> dict[int, list[str]]:
    """Return, for each firm id, the labels of the tiers it currently holds (one query)."""
    ids = list(firm_ids)
    if not ids:
        return {}
    current = or_(
        *(
            and_(
                Qualification.tier == tier,
                Qualification.year >= rules.tier_current_since(tier, today),
            )
            for tier in rules.QUALIFICATION_TIERS
        )
    )
    rows = list(
        db.session.execute(
            select(Qualification.firm_id, Qualification.tier)
            .where(Qualification.firm_id.in_(ids), current)
            .distinct()
        )
    )
    for kind in rules.CERTIFICATE_KINDS:
        rows += [(firm_id, kind) for firm_id in firms_certified_on(ids, today, kind)]
    order = list(rules.TIERS)
    held: dict[int, list[str]] = {}
    for firm_id, tier in sorted(rows, key=lambda r: order.index(r[1])):
        held.setdefault(firm_id, []).append(rules.TIERS[tier][0])
    return held


def firm_choices_data() -> dict[str, list[tuple[int, str]]]:
    """Return the reference lists the firm filters and forms offer."""
    return {
        "districts": [
            (d.id, d.name)
            for d in db.session.scalars(
                select(District).order_by(District.sort_order, District.code)
            )
        ],
        "parks": [(p.id, p.name) for p in db.session.scalars(select(Park).order_by(Park.name))],
        "industries": [
            (i.id, i.name)
            for i in db.session.scalars(select(Industry).order_by(Industry.sort_order, Industry.id))
        ],
        "tech_fields": [
            (t.id, t.name)
            for t in db.session.scalars(select(TechField).order_by(TechField.sort_order))
        ],
        "managers": active_managers(),
    }


def active_managers() -> list[tuple[int, str]]:
    """Return (id, name) of the active account managers."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.role == MANAGER, User.is_active.is_(True))
        .order_by(User.name, User.id)
    )
    return [(r.id, r.name) for r in rows]


def incubator_choices(user: User, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """Return (id, name) of the incubators among the firms `user` sees."""
    stmt = visible_firms(user).where(Firm.is_incubator.is_(True)).order_by(Firm.name)
    if exclude_id is not None:
        stmt = stmt.where(Firm.id != exclude_id)
    rows = db.session.execute(stmt.with_only_columns(Firm.id, Firm.name))
    return [(r.id, r.name) for r in rows]


def uscc_owner(code: str, exclude_id: int | None = None) -> Firm | None:
    """Return the firm, deleted or not, already using `code` (uniqueness is global)."""
    stmt = select(Firm).where(Firm.uscc == code)
    if exclude_id is not None:
        stmt = stmt.where(Firm.id != exclude_id)
    return db.session.scalar(stmt)


def is_visible(user: User, firm_id: int) -> bool:
    """Tell whether `user` may open the firm `firm_id` (admins also see deleted ones)."""
    stmt = visible_firms(user, include_deleted=True).where(Firm.id == firm_id)
    return db.session.scalar(stmt.with_only_columns(Firm.id)) is not None


def year_taken(firm_id: int, year: int, exclude_id: int | None = None) -> bool:
    """Tell whether the firm already has figures for `year`."""
    stmt = select(FirmYear.id).where(FirmYear.firm_id == firm_id, FirmYear.year == year)
    if exclude_id is not None:
        stmt = stmt.where(FirmYear.id != exclude_id)
    return db.session.scalar(stmt) is not None


def qualification_taken(firm_id: int, tier: str, year: int) -> bool:
    """Tell whether the firm already holds `tier` for `year`."""
    stmt = select(Qualification.id).where(
        Qualification.firm_id == firm_id, Qualification.tier == tier, Qualification.year == year
    )
    return db.session.scalar(stmt) is not None


def get_child(model, firm: Firm, child_id: int):
    """Load a row of `model` that belongs to `firm`, or answer 404."""
    row = db.session.get(model, child_id)
    if row is None or row.firm_id != firm.id:
        abort(404)
    return row


def history_page(firm: Firm, number: int, per_page: int) -> Page:
    """Return one page of the firm's audit entries, newest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.firm_id == firm.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    return paginate(stmt, number, per_page)
