"""A firm list's contact person: the 联系人, 联系电话, 邮箱 and 职务 of a row, planned against the
contacts the firm has.

The row's contact is the firm's contact of that name, or, when the row names nobody, its
primary contact (`crm.firms.rules.primary_contact`). A name the firm has no contact of is a new
contact who becomes the primary one; the former primary one stays in the list. A contact named
in the row becomes the primary one too. An empty cell keeps what is stored. The writes are
child rows of the plan (table `firm_contacts`), written and undone like yearly figures.
"""

from typing import Any

from sqlalchemy import select

from crm.core.bulk import chunks
from crm.extensions import db
from crm.firms.models import FirmContact
from crm.firms.rules import primary_contact

TABLE = FirmContact.__tablename__
#: Field key → contact column.
FIELDS = {
    "contact_name": "name",
    "contact_role": "role",
    "contact_phone": "phone",
    "contact_email": "email",
}
COLUMNS = ("name", "role", "phone", "email", "is_primary")
#: What a contact's columns are called in the import's words.
LABELS = {"role": "职务", "phone": "联系电话", "email": "邮箱", "is_primary": "主要联系人"}


class Stored:
    """A stored contact as the plan compares it (ordered by id within its firm)."""

    __slots__ = ("id", "values")

    def __init__(self, contact_id: int, values: dict[str, Any]) -> None:
        self.id = contact_id
        self.values = values

    @property
    def is_primary(self) -> bool:
        return bool(self.values["is_primary"])


def load_contacts(firm_ids: set[int]) -> dict[int, list[Stored]]:
    """Return the stored contacts of the firms, each firm's in id order."""
    found: dict[int, list[Stored]] = {}
    columns = [getattr(FirmContact, c) for c in COLUMNS]
    for chunk in chunks(sorted(firm_ids)):
        stmt = (
            select(FirmContact.id, FirmContact.firm_id, *columns)
            .where(FirmContact.firm_id.in_(chunk))
            .order_by(FirmContact.id)
        )
        for row in db.session.execute(stmt):
            values = dict(zip(COLUMNS, row[2:], strict=True))
            found.setdefault(row[1], []).append(Stored(row[0], values))
    return found


def plan_contacts(world, rows, plans, matched, stored: dict[int, list[Stored]]) -> None:
    """Add each row's contact writes to its plan (rows with errors write nothing)."""
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        values = {column: row.values[key] for key, column in FIELDS.items() if key in row.values}
        if not values:
            continue
        if plan.action == "create":  # a new firm
            _plan_one(world, row, plan, None, values, [])
        elif firm_id is not None:
            _plan_one(world, row, plan, firm_id, values, stored.get(firm_id, []))


def _plan_one(world, row, plan, firm_id, values, contacts: list[Stored]) -> None:
    primary = primary_contact(contacts)
    name = values.get("name")
    if name is None:
        if primary is None:
            _unnamed(world, row, plan)
            return
        target = primary
    else:
        target = next((c for c in contacts if c.values["name"] == name), None)
        if target is None:
            plan.children.append((TABLE, (firm_id, name), None, {**values, "is_primary": True}, {}))
            _demote(plan, firm_id, contacts, keep=None)
            return
    changed = {c: v for c, v in values.items() if target.values[c] != v}
    if target is not primary:
        changed["is_primary"] = True
        _demote(plan, firm_id, contacts, keep=target)
    if changed:
        old = {c: target.values[c] for c in changed}
        plan.children.append((TABLE, (firm_id, target.values["name"]), target.id, changed, old))


def _demote(plan, firm_id, contacts: list[Stored], keep: Stored | None) -> None:
    """Make every contact marked primary but `keep` an ordinary one of the list."""
    for contact in contacts:
        if contact.is_primary and contact is not keep:
            key = (firm_id, contact.values["name"])
            plan.children.append(
                (TABLE, key, contact.id, {"is_primary": False}, {"is_primary": True})
            )


def _unnamed(world, row, plan) -> None:
    """Warn that the row's contact cells went nowhere: no name, and no contact to give them."""
    given = [key for key in FIELDS if key in row.values]
    what = "、".join(LABELS[FIELDS[key]] for key in given)
    letter = world.letter(row, "contact_name") or row.letters[given[0]]
    plan.warn(letter, f"未填联系人姓名，企业也没有联系人，本行的{what}未导入")
