"""The reminder rules' settings as versions: seeding, the version in force, a new version.

A rule's settings are never edited in place: an administrator adds a version with an effective
date, as for the eligibility settings, and the scan of a day uses the version in force that day.
Everything here flushes and never commits.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from crm.core import clock
from crm.core.database import insert_or_ignore
from crm.extensions import db
from crm.reminders import rules
from crm.reminders.models import ReminderRule, ReminderRuleVersion

#: The effective date of the seeded settings: before any date the product deals with.
DEFAULT_EFFECTIVE_ON = date(2000, 1, 1)
DEFAULT_NOTE = "默认规则（domain.md §4）"


def seed_rules() -> int:
    """Create the rules missing from the table, each with its default settings; return how many.

    Safe against a second seeder at the same time: the rule's code is unique and the insert
    ignores a conflict, and only the seeder whose insert created a rule adds its first version.
    """
    known = set(db.session.scalars(select(ReminderRule.code)))
    created = 0
    now = clock.utcnow()
    for spec in rules.RULES:
        if spec.code in known:
            continue
        inserted = db.session.execute(
            insert_or_ignore(ReminderRule, ["code"])
            .values(code=spec.code, created_at=now, updated_at=now)
            .returning(ReminderRule.id)
        ).scalar()
        if inserted is None:
            continue
        db.session.add(
            ReminderRuleVersion(
                rule_id=inserted,
                effective_on=DEFAULT_EFFECTIVE_ON,
                enabled=True,
                data=rules.defaults(spec).to_dict(),
                note=DEFAULT_NOTE,
            )
        )
        created += 1
    db.session.flush()
    return created


@dataclass(frozen=True)
class RuleInForce:
    """A rule and the version of its settings in force on a day."""

    rule: ReminderRule
    version: ReminderRuleVersion

    @property
    def settings(self) -> rules.RuleSettings:
        """Return the settings of the version."""
        return self.version.settings


def rules_in_force(on: date) -> list[RuleInForce]:
    """Return every known rule with its version in force on `on`, in the order of `rules.RULES`
    (a date before every version takes the earliest). Rules not seeded yet are left out."""
    versions = db.session.scalars(
        select(ReminderRuleVersion).order_by(
            ReminderRuleVersion.effective_on, ReminderRuleVersion.id
        )
    )
    chosen: dict[int, ReminderRuleVersion] = {}
    for version in versions:
        if version.effective_on <= on or version.rule_id not in chosen:
            chosen[version.rule_id] = version
    order = {spec.code: i for i, spec in enumerate(rules.RULES)}
    found = [
        RuleInForce(version.rule, version)
        for version in chosen.values()
        if version.rule.code in rules.SPECS
    ]
    return sorted(found, key=lambda item: order[item.rule.code])


def rule_in_force(rule: ReminderRule, on: date) -> RuleInForce:
    """Return `rule` with its version in force on `on`."""
    return next(item for item in rules_in_force(on) if item.rule.id == rule.id)


def create_rule_version(
    rule: ReminderRule, settings: rules.RuleSettings, effective_on: date, note: str | None, actor
) -> ReminderRuleVersion:
    """Add a version of `rule`'s settings in force from `effective_on`."""
    if not settings.recipients:
        raise ValueError("请至少选择一类接收人")
    version = ReminderRuleVersion(
        rule_id=rule.id,
        effective_on=effective_on,
        enabled=settings.enabled,
        data=settings.to_dict(),
        note=note or None,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(version)
    db.session.flush()
    return version


def rule_versions(rule: ReminderRule) -> list[ReminderRuleVersion]:
    """Return the versions of `rule`, newest first."""
    return list(
        db.session.scalars(
            select(ReminderRuleVersion)
            .where(ReminderRuleVersion.rule_id == rule.id)
            .order_by(ReminderRuleVersion.id.desc())
        )
    )
