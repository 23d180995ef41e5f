"""The dry run: every row of a sheet read, matched to a firm and compared with what is stored.

A `Planner` turns converted rows, a chunk at a time, into `RowPlan`s saying what each would
create or change and what is wrong, without writing anything; `crm.excel.apply` writes them.
Matching is by unified social credit code, then by exact name or former name, among the firms
the user may reach: to a manager, a firm outside their reach reads exactly as a firm that does
not exist, in every message. An empty cell never wipes a stored value. The stored data is loaded
once, in a few set-based queries, into a `World`; each chunk's child records (yearly figures,
IP, qualifications) in one query more.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from crm.accounts.models import User
from crm.core.bulk import chunks
from crm.core.permissions import is_admin, is_manager
from crm.excel import contacts, duties, placements
from crm.excel.certificates import load_certificates, plan_certificate
from crm.excel.columns import ImportKind
from crm.excel.convert import ConvertedRow
from crm.extensions import db
from crm.firms.access import firm_scope
from crm.firms.models import Firm, FirmFormerName, FirmYear, IPItem, Qualification
from crm.firms.rules import HTE_KIND

#: Firm columns an import may set, by field key (reference fields end in `_id`).
FIRM_COLUMNS = {
    "name": "name",
    "uscc": "uscc",
    "legal_representative": "legal_representative",
    "established_on": "established_on",
    "registered_capital": "registered_capital",
    "address": "address",
    "district": "district_id",
    "park": "park_id",
    "industry": "industry_id",
    "tech_field": "tech_field_id",
    "is_above_scale": "is_above_scale",
    "is_incubator": "is_incubator",
    "notes": "notes",
}
YEAR_COLUMNS = (
    "total_revenue",
    "sales_revenue",
    "hightech_revenue",
    "rd_expense",
    "domestic_rd_expense",
    "total_costs",
    "total_assets",
    "total_liabilities",
    "total_staff",
    "tech_staff",
    "transformed_results",
)
IP_COLUMNS = ("kind", "number", "title", "granted_on", "status", "acquisition")
QUALIFICATION_COLUMNS = ("number", "source_document")


@dataclass(slots=True)
class RowPlan:
    """What one data row does: its action, the firm, the changes shown, and its problems."""

    number: int
    action: str = "unchanged"
    firm_id: int | None = None
    firm_name: str | None = None
    #: [(column letter, "error" | "warning", message)]
    issues: list[tuple[str, str, str]] = field(default_factory=list)
    #: Writes: the new firm's columns, or the changed columns of the matched firm.
    firm_values: dict[str, Any] = field(default_factory=dict)
    #: The stored values of the changed columns of the matched firm (for the audit trail).
    firm_old: dict[str, Any] = field(default_factory=dict)
    #: The name the row gives a firm matched by its code under another name, and the old one.
    new_name: str | None = None
    old_name: str | None = None
    #: The row names a firm outside the user's reach (never said to them), so it creates none.
    hidden: bool = False
    #: Writes of the row's child records: (table, key, id or None, new values, old values).
    children: list[tuple[str, tuple, int | None, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )

    @property
    def has_errors(self) -> bool:
        """Tell whether any problem of the row is an error."""
        if not self.issues:  # the usual case, asked several times for each row
            return False
        return any(level == "error" for _, level, _ in self.issues)

    def error(self, letter: str, message: str) -> None:
        """Note an error in column `letter` ("" for the row as a whole)."""
        self.issues.append((letter, "error", message))

    def warn(self, letter: str, message: str) -> None:
        """Note a warning in column `letter`."""
        self.issues.append((letter, "warning", message))


class World:
    """What the database holds that the rows are matched and compared against."""

    def __init__(
        self,
        kind: ImportKind,
        user: User | None,
        firm_columns: Iterable[str],
        letters: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        #: The sheet column of each field it maps, to name a cell a row leaves empty.
        self.letters = letters or {}
        #: Whether the sheet has a contact column (only then are contacts loaded).
        self.has_contacts = kind.creates_firms and any(k in contacts.FIELDS for k in self.letters)
        self.firm_columns = tuple(dict.fromkeys(("name", "uscc", *firm_columns)))
        columns = [getattr(Firm, c) for c in self.firm_columns]
        scope = firm_scope(user) if user is not None else None
        self.by_uscc: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.by_former: dict[str, int] = {}
        self.values: dict[int, tuple] = {}
        self.deleted: set[int] = set()
        self.editable: set[int] | None = None if scope is None or is_admin(user) else set()
        stmt = select(Firm.id, Firm.deleted_at, *columns)
        if self.editable is not None:
            stmt = stmt.add_columns(scope.label("in_scope"))
        for row in db.session.execute(stmt):
            firm_id, deleted_at, values = row[0], row[1], row[2 : 2 + len(columns)]
            self.values[firm_id] = tuple(values)
            name, uscc = values[0], values[1]
            if uscc:
                self.by_uscc[uscc] = firm_id
            if deleted_at is not None:
                self.deleted.add(firm_id)
            if self.editable is not None and row[-1]:
                self.editable.add(firm_id)
            self._index(self.by_name, name, firm_id)
        for name, firm_id in db.session.execute(
            select(FirmFormerName.name, FirmFormerName.firm_id)
        ):
            self._index(self.by_former, name, firm_id)
        self.former_names: dict[int, set[str]] = {}
        for name, firm_id in self.by_former.items():
            self.former_names.setdefault(firm_id, set()).add(name)
        self.user = user
        self.user_districts = set(user.district_ids) if is_manager(user) else None
        self.position = {column: i for i, column in enumerate(self.firm_columns)}

    def _index(self, names: dict[str, int], name: str, firm_id: int) -> None:
        """Note a firm under a name, the first one the user may reach before any other."""
        held = names.get(name)
        if held is None or (not self.reaches(held) and self.reaches(firm_id)):
            names[name] = firm_id

    def reaches(self, firm_id: int) -> bool:
        """Tell whether the user may match the firm (every firm, for an administrator)."""
        return self.editable is None or firm_id in self.editable

    def letter(self, row: ConvertedRow, key: str) -> str:
        """Return the column of the row's field `key`, empty or not ("" if it has none)."""
        return row.letters.get(key) or self.letters.get(key, "")

    def current(self, firm_id: int, column: str) -> Any:
        """Return the stored value of a firm column this import reads."""
        return self.values[firm_id][self.position[column]]

    def name_of(self, firm_id: int) -> str:
        """Return the firm's name."""
        return self.values[firm_id][0]

    def uscc_of(self, firm_id: int) -> str | None:
        """Return the firm's code."""
        return self.values[firm_id][1]


def _load_children(kind: str, firm_ids: set[int]) -> dict[tuple, tuple[int, dict[str, Any]]]:
    """Return the stored child rows of the matched firms by their natural key."""
    ids = sorted(firm_ids)
    found: dict[tuple, tuple[int, dict[str, Any]]] = {}
    for chunk in chunks(ids):
        if kind == "years":
            stmt = select(
                FirmYear.id, FirmYear.firm_id, FirmYear.year, *_cols(FirmYear, YEAR_COLUMNS)
            )
            for row in db.session.execute(stmt.where(FirmYear.firm_id.in_(chunk))):
                found[(row[1], row[2])] = (row[0], dict(zip(YEAR_COLUMNS, row[3:], strict=True)))
        elif kind == "ip":
            stmt = select(IPItem.id, IPItem.firm_id, *_cols(IPItem, IP_COLUMNS))
            for row in db.session.execute(stmt.where(IPItem.firm_id.in_(chunk))):
                values = dict(zip(IP_COLUMNS, row[2:], strict=True))
                found[(row[1], *ip_key(values))] = (row[0], values)
        elif kind == "qualifications":
            q = Qualification
            stmt = select(q.id, q.firm_id, q.tier, q.year, q.number, q.source_document)
            for row in db.session.execute(stmt.where(q.firm_id.in_(chunk))):
                found[(row[1], row[2], row[3])] = (
                    row[0],
                    dict(zip(QUALIFICATION_COLUMNS, row[4:], strict=True)),
                )
    return found


def _cols(model, names):
    return [getattr(model, name) for name in names]


def ip_key(values: dict[str, Any]) -> tuple:
    """Return what identifies an IP item within its firm: the number, else kind and title."""
    if values.get("number"):
        return ("number", values["number"])
    return ("title", values.get("kind"), values.get("title"))


# --- Matching rows to firms ----------------------------------------------------------------------


def _match(world: World, row: ConvertedRow, plan: RowPlan) -> int | None:
    """Find the row's firm by code, then by name or former name; note conflicts as errors.

    A firm the user may not reach is passed over before anything of it is looked at, and the
    row is marked `hidden`: to the user it is a firm that does not exist, except that it is not
    created again.
    """
    uscc, name = row.values.get("uscc"), row.values.get("name")
    letters = row.letters
    if uscc:
        firm_id = world.by_uscc.get(uscc)
        if firm_id is not None:
            if world.reaches(firm_id):
                return firm_id
            plan.hidden = True
    if name:
        firm_id = _named(world, name)
        if firm_id is not None and not world.reaches(firm_id):
            plan.hidden = True
        elif firm_id is not None:
            stored = world.uscc_of(firm_id)
            if uscc and stored and stored != uscc:
                plan.error(
                    letters.get("uscc", ""),
                    f"系统中的「{world.name_of(firm_id)}」统一社会信用代码为 {stored}，"
                    f"与本行的 {uscc} 不同，请核对",
                )
                return None
            if uscc and plan.hidden:  # the code is held by a firm out of reach
                plan.error(
                    letters.get("uscc", ""),
                    f"统一社会信用代码 {uscc} 不能用于企业「{world.name_of(firm_id)}」，"
                    "请联系管理员核对",
                )
                return None
            return firm_id
    return None


def _named(world: World, name: str) -> int | None:
    """Return the firm of a name, its current one before a former one, one in reach first."""
    found = [f for f in (world.by_name.get(name), world.by_former.get(name)) if f is not None]
    return next((f for f in found if world.reaches(f)), found[0] if found else None)


def _reachable(world: World, firm_id: int, row: ConvertedRow, plan: RowPlan) -> bool:
    if firm_id in world.deleted:
        plan.error("", f"企业「{world.name_of(firm_id)}」已被删除，请先请管理员恢复")
        return False
    return True


# --- Planning ------------------------------------------------------------------------------------


class Planner:
    """Dry-run rows chunk by chunk against one load of the stored data.

    Memory stays bounded by the chunk: each chunk's plans go to the caller and are dropped,
    while only the keys that find duplicates across chunks are kept. When every chunk is
    planned, `duplicates` says which rows describe the same record as another row.
    """

    def __init__(
        self,
        kind: ImportKind,
        user: User | None,
        options: dict[str, Any],
        firm_columns,
        letters: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.options = options
        self.world = World(kind, user, firm_columns, letters)
        self.placements = placements.Placements()
        #: Each record key → the first row that gave it; a later row repeating one is noted.
        self._seen: dict[tuple, int] = {}
        self._repeats: dict[int, tuple[str, str]] = {}

    def plan(self, rows: list[ConvertedRow]) -> list[RowPlan]:
        """Return the plans of a chunk of converted rows."""
        kind, world = self.kind, self.world
        plans = [RowPlan(row.number, issues=list(row.issues)) for row in rows]
        matched: list[int | None] = [None] * len(rows)
        for index, (row, plan) in enumerate(zip(rows, plans, strict=True)):
            if plan.has_errors and not row.values.get("uscc") and not row.values.get("name"):
                continue
            firm_id = _match(world, row, plan)
            if firm_id is not None and not _reachable(world, firm_id, row, plan):
                firm_id = None
            matched[index] = firm_id
            if firm_id is not None:
                plan.firm_id, plan.firm_name = firm_id, world.name_of(firm_id)
            else:
                plan.firm_name = row.values.get("name") or row.values.get("uscc")
        if kind.code == "firms":
            _plan_firms(world, rows, plans, matched)
            firm_ids = {m for m in matched if m is not None}
            children = _load_children("years", firm_ids)
            _plan_years(world, rows, plans, matched, children, long_form=False)
            if world.has_contacts:
                stored = contacts.load_contacts(firm_ids)
                contacts.plan_contacts(world, rows, plans, matched, stored)
        else:
            for row, plan, firm_id in zip(rows, plans, matched, strict=True):
                if firm_id is None and not plan.has_errors:
                    letter = _key_letter(row) or world.letter(row, "name")
                    plan.error(letter, _unknown_firm(world, row))
            children = _load_children(kind.code, {m for m in matched if m is not None})
            if kind.code == "years":
                _plan_years(world, rows, plans, matched, children, long_form=True)
            elif kind.code == "ip":
                _plan_ip(world, rows, plans, matched, children)
            elif kind.code == "reserve":
                placements.plan_reserve(self.placements, rows, plans, matched, self.options)
            elif kind.code == "duties":
                duties.plan_duties(world, rows, plans, matched, self.options)
            else:
                candidates = _plan_qualifications(rows, plans, matched, children, self.options)
                placements.plan_certified(self.placements, candidates)
        self._note_keys(rows, plans, matched)
        for plan in plans:
            settle(kind, plan)
        return plans

    def _note_keys(self, rows, plans, matched) -> None:
        seen, repeats = self._seen, self._repeats
        for row, plan, firm_id in zip(rows, plans, matched, strict=True):
            keys = _record_keys(self.kind, row, plan, firm_id)
            earlier = [key for key in keys if key in seen]
            if earlier:
                key = min(earlier, key=lambda k: (seen[k], _REPEAT_ORDER.get(k[0], 2)))
                repeats[plan.number] = self._repeat(row, key[0], seen[key])
            for key in keys:
                seen.setdefault(key, plan.number)

    def _repeat(self, row: ConvertedRow, by: str, first: int) -> tuple[str, str]:
        """Return the column and the message of a row repeating row `first`'s record."""
        rule = f"只按第 {first} 行导入，本行未导入"
        if self.kind.code != "firms":
            return _key_letter(row), f"与第 {first} 行是同一记录：{rule}"
        if by in ("uscc", "name"):
            label = self.kind.get(by).label
            return row.letters.get(by, ""), f"{label}与第 {first} 行相同：同一企业{rule}"
        return _key_letter(row), f"与第 {first} 行是同一企业：{rule}"

    def duplicates(self) -> dict[int, tuple[str, str]]:
        """Return, by row number, the column and the error of every row that repeats the record
        of an earlier row: the first row of a record is imported, each later one rejected."""
        return self._repeats


#: Which shared key a repeated row's message names first: the code, then the name.
_REPEAT_ORDER = {"uscc": 0, "name": 1}


def settle(kind: ImportKind, plan: RowPlan) -> None:
    """Set the row's action from what it writes and whether it has errors."""
    if plan.has_errors:
        plan.action = "rejected"
    elif plan.action != "unchanged":
        return
    elif plan.firm_values:
        plan.action = "update"
    elif plan.children:
        # Only new rows of the kind's own table are creates: written in SQL
        # (`crm.excel.creates`), or by the package that owns them.
        creates_only = kind.code != "firms" and all(
            c[2] is None and c[0] == kind.records for c in plan.children
        )
        plan.action = "create" if creates_only else "update"


def _key_letter(row: ConvertedRow) -> str:
    return row.letters.get("uscc") or row.letters.get("name", "")


def _unknown_firm(world: World, row: ConvertedRow) -> str:
    """Say that no firm matches the row; to a manager, in words that fit a firm out of reach."""
    if not row.values.get("uscc") and not row.values.get("name"):
        return "缺少企业名称和统一社会信用代码，无法确定是哪家企业"
    shown = row.values.get("name") or row.values.get("uscc")
    if world.editable is not None:
        return f"系统中没有您负责的企业「{shown}」，请核对企业名称和统一社会信用代码，或联系管理员"
    return f"系统中没有企业「{shown}」，请先导入企业名单或在企业库中新建"


def _plan_firms(world, rows, plans, matched) -> None:
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        values = {FIRM_COLUMNS[k]: v for k, v in row.values.items() if k in FIRM_COLUMNS}
        if firm_id is None:
            _plan_new_firm(world, row, plan, values)
            continue
        name = values.pop("name", None)
        stored_code = world.uscc_of(firm_id)
        if "uscc" not in values and name == world.name_of(firm_id):
            plan.warn(
                row.letters["name"],
                "本行未填统一社会信用代码，已按企业名称匹配到系统中的企业，请核对",
            )
        elif "uscc" in values and stored_code is None:
            plan.warn(
                row.letters["uscc"],
                f"系统中的「{world.name_of(firm_id)}」尚无统一社会信用代码，"
                "已按企业名称匹配并补填，请核对",
            )
        if name and name != world.name_of(firm_id):
            if name in world.former_names.get(firm_id, ()):
                plan.warn(
                    row.letters["name"],
                    f"「{name}」是该企业的曾用名，现名为「{world.name_of(firm_id)}」，名称不作修改",
                )
            else:
                plan.new_name, plan.old_name = name, world.name_of(firm_id)
                plan.action = "rename"
        if "uscc" in values and stored_code != values["uscc"]:
            values["uscc_check_accepted"] = "uscc" in row.warned
        for column, value in values.items():
            old = world.current(firm_id, column) if column in world.position else None
            if old != value:
                plan.firm_values[column] = value
                plan.firm_old[column] = old
        if "district_id" in plan.firm_values and world.user_districts is not None:
            new_district = plan.firm_values["district_id"]
            if new_district not in world.user_districts:
                plan.warn(row.letters["district"], "改到您不负责的县区后，您可能无法再看到该企业")


def _plan_new_firm(world, row, plan, values) -> None:
    if not values.get("name"):
        plan.error(world.letter(row, "name"), "新建企业需填写企业名称")
        return
    if world.user_districts is not None and values.get("district_id") not in world.user_districts:
        plan.error(
            row.letters.get("district", ""),
            "您只能新建本人所负责县（市、区）的企业，请填写所属县（市、区）",
        )
        return
    if plan.hidden:
        # A firm out of the user's reach has the code or name: creating another would duplicate
        # it, and saying why would tell that it exists.
        plan.error(_key_letter(row), f"不能新建企业「{values['name']}」，请联系管理员核对后导入")
        return
    if not values.get("uscc"):
        where = "系统中" if world.editable is None else "您负责的企业中"
        plan.error(
            world.letter(row, "uscc"),
            f"新建企业需填写统一社会信用代码；{where}也没有名为「{values['name']}」的企业",
        )
        return
    plan.action = "create"
    if is_manager(world.user):
        values["manager_id"] = world.user.id
    if values.get("uscc"):
        values["uscc_check_accepted"] = "uscc" in row.warned
    plan.firm_values = values


def _plan_years(world, rows, plans, matched, children, *, long_form: bool) -> None:
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        # Each year's figures, led by the year: a new row's values as they are.
        by_year: dict[int, dict[str, Any]] = {}
        for (key, year), value in row.yearly.items():
            if year is None:
                year = row.values.get("year") if long_form else None
                if year is None:
                    plan.error(
                        row.letters.get(key, ""),
                        "无法确定年度：请在列名中写明年份（如「2024年营业收入」）或增加「年度」列",
                    )
                    continue
            values = by_year.get(year)
            if values is None:
                by_year[year] = values = {"year": year}
            values[key] = value
        for year, values in sorted(by_year.items()):
            stored = children.get((firm_id, year)) if firm_id is not None else None
            if stored is None:
                plan.children.append(("firm_years", (firm_id, year), None, values, {}))
                continue
            row_id, old_values = stored
            changed = {c: v for c, v in values.items() if c != "year" and old_values[c] != v}
            if changed:
                old = {c: old_values[c] for c in changed}
                plan.children.append(("firm_years", (firm_id, year), row_id, changed, old))
        if long_form and not by_year and not plan.has_errors and row.values.get("year"):
            plan.warn("", "本行没有任何指标数据")


def _plan_ip(world, rows, plans, matched, children) -> None:
    labels = {c: IPItem.__table__.columns[c].info["label"] for c in IP_COLUMNS}
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        values = {k: row.values[k] for k in IP_COLUMNS if row.values.get(k) is not None}
        key = (firm_id, *ip_key(values))
        stored = children.get(key)
        if stored is None:
            for required in ("kind", "title"):
                if not values.get(required):
                    plan.error(
                        row.letters.get(required, ""), f"新增知识产权需填写{labels[required]}"
                    )
            if plan.has_errors:
                continue
            plan.children.append(("ip_items", key, None, values, {}))
            continue
        row_id, old = stored
        changed = {c: v for c, v in values.items() if old[c] != v}
        if changed:
            plan.children.append(("ip_items", key, row_id, changed, {c: old[c] for c in changed}))


def _plan_qualifications(rows, plans, matched, children, options) -> list[tuple]:
    """Plan each row's qualification or certificate; return (plan, firm id, issue date,
    number) of the rows whose certificate was planned, which may enrol their firm."""
    candidates = []
    default_tier = options.get("tier")
    certificates = {}
    if any((row.values.get("tier") or default_tier) == HTE_KIND for row in rows):
        certificates = load_certificates(sorted({m for m in matched if m is not None}))
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        tier = row.values.get("tier") or default_tier
        year = row.values.get("year")
        issued = row.values.get("issued_on")
        if year is None and issued is not None:
            year = issued.year
        if tier is None:
            plan.error(
                row.letters.get("tier", ""), "缺少资质类型：请增加「资质」列或在导入时选择资质"
            )
        if year is None:
            plan.error(row.letters.get("year", ""), "缺少年度：请填写年度或发证日期")
        if plan.has_errors:
            continue
        if tier == HTE_KIND:
            issued = plan_certificate(row, plan, firm_id, year, certificates.get(firm_id, []))
            if issued is not None:
                candidates.append((plan, firm_id, issued, row.values.get("number")))
            continue
        values = {c: row.values[c] for c in QUALIFICATION_COLUMNS if row.values.get(c)}
        key = (firm_id, tier, year)
        stored = children.get(key)
        if stored is None:
            plan.children.append(
                ("qualifications", key, None, {"tier": tier, "year": year, **values}, {})
            )
            continue
        row_id, old = stored
        changed = {c: v for c, v in values.items() if old[c] != v}
        if changed:
            old = {c: old[c] for c in changed}
            plan.children.append(("qualifications", key, row_id, changed, old))
    return candidates


def _record_keys(kind, row: ConvertedRow, plan: RowPlan, firm_id: int | None) -> set[tuple]:
    """Return what identifies the records the row describes, to find repeated rows."""
    firm_key = ("id", firm_id) if firm_id is not None else _new_firm_key(row)
    if firm_key is None:
        return set()
    if kind.code == "firms":
        keys = {firm_key}
        for key in ("uscc", "name"):
            if row.values.get(key):
                keys.add((key, row.values[key]))
        return keys
    # A certificate's row may also place its firm: the certificate tells the rows apart.
    keys = {
        (firm_key, *child[1][1:])
        for child in plan.children
        if child[0] != placements.TABLE or kind.code == "reserve"
    }
    return keys or {(firm_key, *_row_key(kind.code, row))}


def _new_firm_key(row: ConvertedRow) -> tuple | None:
    if row.values.get("uscc"):
        return ("uscc", row.values["uscc"])
    if row.values.get("name"):
        return ("name", row.values["name"])
    return None


def _row_key(kind: str, row: ConvertedRow) -> tuple:
    if kind == "years":
        return (row.values.get("year"),)
    if kind == "ip":
        return ip_key(row.values)
    if kind == "reserve":
        return (placements.HTE,)
    if kind == "duties":
        return (row.values.get("duty_kind"), row.values.get("year"))
    return (row.values.get("tier"), row.values.get("year"))
