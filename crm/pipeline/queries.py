"""Read-side selects of the pipeline: programmes, stages, a firm's enrollments and transitions."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition


def programme(code: str) -> Programme:
    """Return the programme with `code` (seeded reference data)."""
    return db.session.execute(select(Programme).filter_by(code=code)).scalar_one()


def programmes() -> list[Programme]:
    """Return every programme, the high-tech one first."""
    return list(db.session.scalars(select(Programme).order_by(Programme.id)))


def stage(programme_id: int, code: str) -> Stage:
    """Return a stage of a programme by code."""
    return db.session.execute(
        select(Stage).filter_by(programme_id=programme_id, code=code)
    ).scalar_one()


def stage_ids(programme_code: str) -> dict[str, int]:
    """Return the ids of a programme's stages by code."""
    rows = db.session.execute(
        select(Stage.code, Stage.id).join(Programme).where(Programme.code == programme_code)
    )
    return {code: stage_id for code, stage_id in rows}


def open_enrollment(firm_id: int, programme_id: int) -> Enrollment | None:
    """Return the firm's open enrollment in a programme, if any."""
    return db.session.scalar(
        select(Enrollment).where(
            Enrollment.firm_id == firm_id,
            Enrollment.programme_id == programme_id,
            Enrollment.closed_on.is_(None),
        )
    )


def firm_enrollments(firm_id: int) -> list[Enrollment]:
    """Return the firm's enrollments, open first, newest first, with their transitions."""
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.firm_id == firm_id)
            .options(selectinload(Enrollment.transitions))
            .order_by(Enrollment.closed_on.is_not(None), Enrollment.opened_on.desc())
        )
    )


def get_enrollment(enrollment_id: int) -> Enrollment | None:
    """Return an enrollment by id (the caller checks the firm is within reach)."""
    return db.session.get(Enrollment, enrollment_id)


def last_moved_on(enrollment_id: int) -> date | None:
    """Return the effective date of the enrollment's latest transition."""
    return db.session.scalar(
        select(func.max(StageTransition.moved_on)).where(
            StageTransition.enrollment_id == enrollment_id
        )
    )


def last_transition_into(firm_id: int, programme_code: str, stage_code: str):
    """Return the firm's latest transition into a stage, in any of its enrollments."""
    return db.session.scalar(
        select(StageTransition)
        .join(Stage, Stage.id == StageTransition.to_stage_id)
        .join(Programme, Programme.id == Stage.programme_id)
        .where(
            StageTransition.firm_id == firm_id,
            Programme.code == programme_code,
            Stage.code == stage_code,
        )
        .order_by(StageTransition.moved_on.desc(), StageTransition.id.desc())
        .limit(1)
    )
