"""Eligibility use cases: settings versions, the facts of firms, and stored assessments.

Assessments are stored, not computed on every page view. Two session listeners keep them fresh:
after each flush they note the firms whose facts changed (registration date, tech field, deletion,
yearly figures, IP items, HTE certificates, the manager's assessment), and just before the commit
they recompute those firms in the same transaction. Web requests, CLI commands, jobs and tests all
commit through a session, so all of them get fresh assessments without calling anything. The
listeners are connected when this module is first imported: the eligibility blueprint and jobs,
which every app mounts, import it.

What changes with the date alone is found by `firms_due`, so the daily scan recomputes only the
firms whose result may have moved since it was stored, not every firm.

Everything here flushes and never commits.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import Session

from crm.core import clock, derived
from crm.eligibility.facts import VERDICT_RANK, ExpertFacts, FirmFacts, IPFacts, YearFacts
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.eligibility.rules import assess_hte, assess_tech_sme
from crm.eligibility.settings import DEFAULTS, Settings
from crm.extensions import db
from crm.firms import certificates
from crm.firms.models import Certificate, Firm, FirmYear, IPItem
from crm.firms.rules import HTE_KIND
from crm.reference.models import TechField

DEFAULT_EFFECTIVE_ON = date(2016, 1, 1)
DEFAULT_NOTE = "系统初始值（国科发火〔2016〕32号、195号）"
#: Firms assessed per round of queries.
CHUNK = 500

#: The FirmYear columns the rules read: every field of YearFacts.
_YEAR_COLUMNS = tuple(f.name for f in fields(YearFacts))
_FIRM_ATTRIBUTES = ("established_on", "tech_field_id", "tech_field", "deleted_at")


# --- Settings versions ---------------------------------------------------------------------------


def _session(session: Session | None) -> Session:
    return session if session is not None else db.session()


def settings_in_force(on: date, session: Session | None = None) -> SettingsVersion:
    """Return the settings version in force on `on`; create the national defaults if none exist."""
    session = _session(session)
    version = session.scalar(
        select(SettingsVersion)
        .where(SettingsVersion.effective_on <= on)
        .order_by(SettingsVersion.effective_on.desc(), SettingsVersion.id.desc())
        .limit(1)
    )
    if version is not None:
        return version
    # A date before every version: the earliest one is the best there is.
    version = session.scalar(
        select(SettingsVersion).order_by(SettingsVersion.effective_on, SettingsVersion.id).limit(1)
    )
    if version is not None:
        return version
    version = SettingsVersion(
        effective_on=DEFAULT_EFFECTIVE_ON, data=DEFAULTS.to_dict(), note=DEFAULT_NOTE
    )
    session.add(version)
    session.flush()
    return version


def create_settings_version(
    settings: Settings, effective_on: date, note: str, actor
) -> SettingsVersion:
    """Add a settings version; when it is in force today, reassess every firm with it."""
    settings_in_force(effective_on)  # the national defaults stay as the version before
    version = SettingsVersion(
        effective_on=effective_on,
        data=settings.to_dict(),
        note=note or None,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(version)
    db.session.flush()
    today = clock.today()
    if effective_on <= today and settings_in_force(today).id == version.id:
        refresh_assessments(None, today)
    return version


# --- Facts ---------------------------------------------------------------------------------------


def _firm_id(firm: Firm | int) -> int:
    """Return the firm's id without reloading a firm the last commit expired."""
    if isinstance(firm, int):
        return firm
    identity = inspect(firm).identity
    return identity[0] if identity else firm.id


def firm_facts(
    firms: Iterable[Firm | int], today: date, session: Session | None = None
) -> dict[int, FirmFacts]:
    """Return what the rules need to know about each firm, by firm id, in five queries."""
    session = _session(session)
    ids = sorted({_firm_id(f) for f in firms})
    if not ids:
        return {}
    heads = session.execute(
        select(Firm.id, Firm.established_on, TechField.name)
        .outerjoin(TechField, TechField.id == Firm.tech_field_id)
        .where(Firm.id.in_(ids))
    ).all()

    years: dict[int, list[YearFacts]] = defaultdict(list)
    columns = [getattr(FirmYear, name) for name in _YEAR_COLUMNS]
    for row in session.execute(
        select(FirmYear.firm_id, *columns)
        .where(FirmYear.firm_id.in_(ids))
        .order_by(FirmYear.firm_id, FirmYear.year)
    ):
        years[row[0]].append(YearFacts(**dict(zip(_YEAR_COLUMNS, row[1:], strict=True))))

    ip: dict[int, list[IPFacts]] = defaultdict(list)
    for row in session.execute(
        select(
            IPItem.firm_id,
            IPItem.kind,
            IPItem.status,
            IPItem.granted_on,
            IPItem.acquisition,
            IPItem.used_in_year,
        )
        .where(IPItem.firm_id.in_(ids))
        .order_by(IPItem.firm_id, IPItem.id)
    ):
        ip[row.firm_id].append(
            IPFacts(
                kind=row.kind,
                status=row.status,
                granted_on=row.granted_on,
                acquisition=row.acquisition,
                used_in_year=row.used_in_year,
            )
        )

    experts = {
        e.firm_id: e.facts()
        for e in session.scalars(select(ExpertAssessment).where(ExpertAssessment.firm_id.in_(ids)))
    }
    certified = certificates.firms_certified_on(ids, today, session=session)
    return {
        firm_id: FirmFacts(
            established_on=established_on,
            tech_field=field_name,
            years=tuple(years[firm_id]),
            ip_items=tuple(ip[firm_id]),
            expert=experts.get(firm_id, ExpertFacts()),
            holds_valid_hte=firm_id in certified,
        )
        for firm_id, established_on, field_name in heads
    }


# --- Stored assessments --------------------------------------------------------------------------


def refresh_assessments(
    firm_ids: Iterable[int] | None = None,
    today: date | None = None,
    session: Session | None = None,
) -> int:
    """Recompute the firms' assessments (every firm when None); return how many rows were added.

    A firm whose current assessment already says the same with the same settings version gets no
    new row, so saving unchanged data does not grow the history. Deleted firms are left alone.
    """
    session = _session(session)
    today = today or clock.today()
    version = settings_in_force(today, session)
    settings = version.settings
    stmt = select(Firm.id).where(Firm.deleted_at.is_(None)).order_by(Firm.id)
    if firm_ids is None:
        ids = list(session.scalars(stmt))
        # Everything is being recomputed: what the flushes noted so far is covered.
        derived.forget(session, DERIVED.name)
    else:
        wanted = sorted(set(firm_ids))
        ids = []
        for start in range(0, len(wanted), CHUNK):
            ids += session.scalars(stmt.where(Firm.id.in_(wanted[start : start + CHUNK])))
    written = 0
    for start in range(0, len(ids), CHUNK):
        written += _refresh_chunk(session, ids[start : start + CHUNK], today, version.id, settings)
    return written


def _refresh_chunk(
    session: Session, ids: list[int], today: date, settings_id: int, settings: Settings
) -> int:
    facts = firm_facts(ids, today, session)
    # A stored result carries its day and settings version: only one of today's with today's
    # version can say the same, so only those are decoded to compare.
    same_day = list(
        session.scalars(
            select(Assessment.firm_id).where(
                Assessment.firm_id.in_(ids),
                Assessment.is_current.is_(True),
                Assessment.applied_on == today,
                Assessment.settings_id == settings_id,
            )
        )
    )
    current = {
        row.firm_id: row
        for row in session.execute(
            select(
                Assessment.firm_id, Assessment.settings_id, Assessment.result, Assessment.tech_sme
            ).where(Assessment.firm_id.in_(same_day), Assessment.is_current.is_(True))
        )
    }
    now = clock.utcnow()
    rows: list[dict[str, Any]] = []
    for firm_id in ids:
        hte = assess_hte(facts[firm_id], today, settings)
        sme = assess_tech_sme(facts[firm_id], today.year, settings)
        result, tech_sme = hte.to_dict(), sme.to_dict()
        old = current.get(firm_id)
        if (
            old is not None
            and old.settings_id == settings_id
            and old.result == result
            and old.tech_sme == tech_sme
        ):
            continue
        rows.append(
            {
                "firm_id": firm_id,
                "computed_at": now,
                "applied_on": today,
                "settings_id": settings_id,
                "is_current": True,
                "verdict": hte.verdict,
                "verdict_rank": VERDICT_RANK[hte.verdict],
                "score_min": hte.score_min,
                "score_max": hte.score_max,
                "largest_gap": hte.largest_gap.quantize(Decimal("0.0001"), ROUND_HALF_UP),
                "tech_sme_year": sme.year,
                "tech_sme_score": sme.score,
                "tech_sme_verdict": sme.verdict,
                "result": result,
                "tech_sme": tech_sme,
            }
        )
    if not rows:
        return 0
    changed = [row["firm_id"] for row in rows]
    session.execute(
        update(Assessment)
        .where(Assessment.firm_id.in_(changed), Assessment.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(Assessment.__table__.insert(), rows)
    return len(rows)


# --- The daily scan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """What a daily scan did: firms checked, firms recomputed, new assessment rows."""

    checked: int
    recomputed: int
    written: int


def firms_due(today: date, session: Session | None = None) -> tuple[list[int], int]:
    """Return the firms whose stored assessment may say something else on `today`, and how many
    firms were checked.

    Changed facts are recomputed when they are committed (or, for bulk writes, by the job they
    queue), so the stored result of a firm stays right until the date alone moves it. With the
    assessment stored for day A, the rules read the date in these places only, and a firm is due
    when one of them moves between A and `today`:
    - no current assessment, or one made with another settings version than today's;
    - the year (the three-year window, last year's figures, the tech-SME year, the year a
      Class II item was used in): A in another year than `today`, or after it;
    - registered a year (condition 1): a firm not yet registered the required days on A, whose
      shortfall shrinks daily until the anniversary, when the condition is met;
    - IP granted before the application date: an item granted on a day from A to yesterday;
    - a valid high-tech certificate (tech-SME direct route): a certificate issued or ended after
      A and by `today`, or expiring (valid through its expiry date) from A to yesterday.
    Nothing else in the rules depends on the date; a firm assessed today is never due.
    """
    session = _session(session)
    settings_id = settings_in_force(today, session).id
    settings = session.get(SettingsVersion, settings_id).settings
    young = timedelta(days=settings.hte.min_days_registered)
    due: set[int] = set()
    since: dict[int, date] = {}
    checked = 0
    rows = session.execute(
        select(Firm.id, Firm.established_on, Assessment.applied_on, Assessment.settings_id)
        .outerjoin(Assessment, and_(Assessment.firm_id == Firm.id, Assessment.is_current.is_(True)))
        .where(Firm.deleted_at.is_(None))
    )
    for firm_id, established_on, applied_on, assessed_with in rows:
        checked += 1
        if applied_on == today and assessed_with == settings_id:
            continue
        if (
            applied_on is None
            or assessed_with != settings_id
            or applied_on > today
            or applied_on.year != today.year
            or (established_on is not None and established_on + young > applied_on)
        ):
            due.add(firm_id)
        else:
            since[firm_id] = applied_on
    if since:
        earliest = min(since.values())
        granted = session.execute(
            select(IPItem.firm_id, IPItem.granted_on).where(
                IPItem.granted_on >= earliest, IPItem.granted_on < today
            )
        )
        for firm_id, granted_on in granted:
            if firm_id in since and since[firm_id] <= granted_on:
                due.add(firm_id)
        certificates = session.execute(
            select(
                Certificate.firm_id,
                Certificate.issued_on,
                Certificate.expires_on,
                Certificate.ended_on,
            ).where(
                Certificate.kind == HTE_KIND,
                or_(
                    and_(Certificate.issued_on > earliest, Certificate.issued_on <= today),
                    and_(Certificate.expires_on >= earliest, Certificate.expires_on < today),
                    and_(Certificate.ended_on > earliest, Certificate.ended_on <= today),
                ),
            )
        )
        for firm_id, issued_on, expires_on, ended_on in certificates:
            day = since.get(firm_id)
            if day is not None and (
                day < issued_on <= today
                or day <= expires_on < today
                or (ended_on is not None and day < ended_on <= today)
            ):
                due.add(firm_id)
    return sorted(due), checked


def reassess_due(today: date | None = None, progress=None) -> Scan:
    """Recompute the firms `firms_due` names for `today` (the daily scan); flush, never commit.

    `progress(done, total)`, when given, is called after each chunk.
    """
    today = today or clock.today()
    due, checked = firms_due(today)
    written = 0
    for start in range(0, len(due), CHUNK):
        written += refresh_assessments(due[start : start + CHUNK], today)
        if progress is not None:
            progress(min(start + CHUNK, len(due)), len(due))
    return Scan(checked, len(due), written)


def current_assessment(firm_id: int) -> Assessment | None:
    """Return the firm's current stored assessment, if it has one."""
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.firm_id == firm_id, Assessment.is_current.is_(True))
        .order_by(Assessment.id.desc())
        .limit(1)
    )


# --- Automatic recomputation ---------------------------------------------------------------------


def _is_fact_row(obj, state) -> bool:
    """Tell whether `obj` is a row the assessment reads."""
    return isinstance(obj, FirmYear | IPItem | Certificate | ExpertAssessment)


def _touched_firms(session: Session) -> set[int]:
    """Return the ids of the firms whose facts this flush changed."""
    touched: set[int] = set()
    for obj in session.new:
        state = inspect(obj)
        if isinstance(obj, Firm):
            touched.add(obj.id)
        elif _is_fact_row(obj, state):
            touched |= derived.firm_ids_of(state)
    for obj in session.dirty:
        state = inspect(obj)
        if isinstance(obj, Firm):
            if any(state.attrs[name].history.has_changes() for name in _FIRM_ATTRIBUTES):
                touched.add(obj.id)
        elif _is_fact_row(obj, state) and session.is_modified(obj, include_collections=False):
            touched |= derived.firm_ids_of(state)
    for obj in session.deleted:
        # Read the instance dict only: a deleted row must not be reloaded.
        state = inspect(obj)
        if _is_fact_row(obj, state):
            touched |= derived.firm_ids_of(state)
    return touched


#: The assessments, computed again before each commit for the firms whose facts changed.
DERIVED = derived.register(
    derived.Derived(
        "eligibility",
        _touched_firms,
        lambda session, firm_ids: refresh_assessments(firm_ids, session=session),
    )
)
