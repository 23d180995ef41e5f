"""Use cases on firms and what describes them: change, flush, never commit.

The audit listener records every change; nothing here writes history by hand.
"""

from datetime import date
from typing import Any

from crm.core import clock
from crm.extensions import db
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification
from crm.firms.signals import firm_renamed


def create_firm(values: dict[str, Any]) -> Firm:
    """Register a new firm."""
    firm = Firm(**values)
    db.session.add(firm)
    db.session.flush()
    return firm


def rename_firm(firm: Firm, name: str, changed_on: date | None = None) -> None:
    """Give the firm a new name from `changed_on` (today) and keep the old one searchable.

    Packages that follow renames (a certified firm must report the change) hear `firm_renamed`.
    """
    if not name or name == firm.name:
        return
    old_name, changed_on = firm.name, changed_on or clock.today()
    if old_name:
        db.session.add(FirmFormerName(firm=firm, name=old_name, changed_on=changed_on))
    firm.name = name
    if old_name:
        firm_renamed.send(firm, old_name=old_name, changed_on=changed_on)


def update_firm(firm: Firm, values: dict[str, Any]) -> Firm:
    """Change a firm's registration data; a new name keeps the old one as a former name."""
    values = dict(values)
    rename_firm(firm, values.pop("name", firm.name))
    for key, value in values.items():
        setattr(firm, key, value)
    db.session.flush()
    return firm


def delete_firm(firm: Firm) -> None:
    """Soft-delete a firm: it disappears for everyone but admins."""
    if firm.deleted_at is None:
        firm.deleted_at = clock.utcnow()
        db.session.flush()


def restore_firm(firm: Firm) -> None:
    """Bring a soft-deleted firm back."""
    if firm.deleted_at is not None:
        firm.deleted_at = None
        db.session.flush()


def _add(model, firm: Firm, values: dict[str, Any]):
    row = model(firm=firm, **values)
    db.session.add(row)
    db.session.flush()
    return row


def _update(row, values: dict[str, Any]):
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def _delete(row) -> None:
    db.session.delete(row)
    db.session.flush()


def add_year(firm: Firm, values: dict[str, Any]) -> FirmYear:
    """Record a year of figures for the firm."""
    return _add(FirmYear, firm, values)


def update_year(row: FirmYear, values: dict[str, Any]) -> FirmYear:
    """Change a year of figures."""
    return _update(row, values)


def delete_year(row: FirmYear) -> None:
    """Remove a year of figures."""
    _delete(row)


def add_ip(firm: Firm, values: dict[str, Any]) -> IPItem:
    """Record an IP item of the firm."""
    return _add(IPItem, firm, values)


def update_ip(row: IPItem, values: dict[str, Any]) -> IPItem:
    """Change an IP item."""
    return _update(row, values)


def delete_ip(row: IPItem) -> None:
    """Remove an IP item."""
    _delete(row)


def add_contact(firm: Firm, values: dict[str, Any]) -> FirmContact:
    """Add a contact person to the firm."""
    return _add(FirmContact, firm, values)


def update_contact(row: FirmContact, values: dict[str, Any]) -> FirmContact:
    """Change a contact person."""
    return _update(row, values)


def delete_contact(row: FirmContact) -> None:
    """Remove a contact person."""
    _delete(row)


def add_qualification(firm: Firm, values: dict[str, Any]) -> Qualification:
    """Record a tier the firm holds for a year."""
    return _add(Qualification, firm, values)


def delete_qualification(row: Qualification) -> None:
    """Remove a qualification."""
    _delete(row)
