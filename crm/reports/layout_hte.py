"""The layouts of the high-tech programme: the reserve-pool roster, the recommendation summary
of a certification batch, and the re-certification list of an expiry year.

"In the reserve pool in year Y" (domain.md §1.1, §9): admission is for a year and the firm is
re-admitted or leaves at the yearly review, so a firm is in the pool in Y when it spent some day
of Y in the pool's stages, 高企后备库 or 一企一策辅导 (a coached firm stays a pool firm), read off
its stage transitions: a stay runs from its transition's date to the next one's. A firm that
applied in Y after time in the pool is in Y's roster; one certified or gone before Y is not. The
stage shown is the one it stood in at the end of Y (today, for the current year).

The recommendation summary lists a batch's applications but the withdrawn ones. The
re-certification list holds the certificates expiring in the year as the 重新认定 page does
(valid, lapsed, or replaced by the re-certification; not cancelled), with the firm's
application in a batch of that year, if any.
"""

from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from crm.accounts.models import User
from crm.certification.models import APPLICATION_STATUSES, CertificationApplication
from crm.certification.queries import COHORT_STATUSES, applications_in_year
from crm.eligibility.facts import VERDICT_LABELS
from crm.firms.models import Certificate, Firm
from crm.firms.rules import CERTIFICATE_STATUSES, HTE_KIND
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.models import Enrollment, Stage, StageTransition
from crm.pipeline.rules import ENTRY_REASONS, HTE
from crm.reports.layout_book import chinese_date
from crm.reports.layout_rows import (
    Row,
    contacts_filler,
    firm_select,
    ip_filler,
    stream,
    years_filler,
)
from crm.reports.layout_sources import Params, Source, closing_day, figure_years

#: The stages of the high-tech programme that make up the reserve pool.
POOL_STAGES = ("reserve", "coaching")


# --- 高企后备库入库企业名单 ----------------------------------------------------------------------


def pool_select(year: int, today: date):
    """Return the select of the enrollments that put a firm in the reserve pool in `year`: the
    enrollment and firm ids, the last entry into the pool, the stage id at the end of the year
    and `rank`, 1 for the firm's latest such enrollment (see the module's docstring)."""
    first, last, as_of = date(year, 1, 1), date(year, 12, 31), closing_day(year, today)
    ids = pipeline_queries.stage_ids(HTE)
    pool = [ids[code] for code in POOL_STAGES]
    order = (StageTransition.moved_on, StageTransition.at, StageTransition.id)
    stays = (
        select(
            StageTransition.enrollment_id,
            StageTransition.firm_id,
            StageTransition.to_stage_id.label("stage_id"),
            StageTransition.moved_on.label("start"),
            func.lead(StageTransition.moved_on)
            .over(partition_by=StageTransition.enrollment_id, order_by=order)
            .label("end"),
        )
        .join(Enrollment, Enrollment.id == StageTransition.enrollment_id)
        # A stay that starts after the year cannot matter; without it, the one before looks
        # open, which every test below answers as it would with its real end.
        .where(
            Enrollment.programme_id == pipeline_queries.programme(HTE).id,
            StageTransition.moved_on <= last,
        )
        .subquery()
    )

    def ended_after(day):
        return or_(stays.c.end.is_(None), stays.c.end > day)

    # A stay of no length (two moves on one day) was never a day in the pool.
    in_pool = and_(stays.c.stage_id.in_(pool), ended_after(first), ended_after(stays.c.start))
    per_enrollment = (
        select(
            stays.c.enrollment_id,
            stays.c.firm_id,
            func.max(case((stays.c.stage_id == ids["reserve"], stays.c.start))).label("entered_on"),
            func.max(
                case((and_(stays.c.start <= as_of, ended_after(as_of)), stays.c.stage_id))
            ).label("stage_id"),
            func.row_number()
            .over(partition_by=stays.c.firm_id, order_by=stays.c.enrollment_id.desc())
            .label("rank"),
        )
        .group_by(stays.c.enrollment_id, stays.c.firm_id)
        .having(func.max(case((in_pool, 1), else_=0)) == 1)
        .subquery()
    )
    return per_enrollment


def reserve(params: Params, user: User, keys: set[str], today: date) -> Source:
    """Return the reserve-pool roster of `params.year`."""
    year = params.year
    pool = pool_select(year, today)
    stmt = (
        firm_select(
            pool.c.entered_on.label("entered_on"),
            Enrollment.entry_reason.label("entry_reason_code"),
            Stage.name.label("stage"),
            user=user,
            district_id=params.district_id,
        )
        .join(pool, and_(pool.c.firm_id == Firm.id, pool.c.rank == 1))
        .join(Enrollment, Enrollment.id == pool.c.enrollment_id)
        .outerjoin(Stage, Stage.id == pool.c.stage_id)
    )
    years = figure_years(year)

    def reasons(rows: list[Row]) -> None:
        for row in rows:
            row["entry_reason"] = ENTRY_REASONS.get(row.pop("entry_reason_code") or 0)

    as_of = closing_day(year, today)
    return Source(
        title=f"{year}年高企后备库入库企业名单",
        years=years,
        rows=stream(
            stmt,
            [
                reasons,
                years_filler(keys, years),
                contacts_filler(keys),
                ip_filler(keys, lambda row: as_of + timedelta(days=1)),
            ],
        ),
        notes=[
            (
                f"名单为{year}年内在高企后备库或一企一策辅导阶段的企业；入库日期为最近一次进入"
                f"高企后备库的日期，培育阶段为{chinese_date(as_of)}所处的阶段。",
                frozenset(),
            ),
            (
                "研发费用占比为近三个会计年度研发费用总额占同期销售收入总额的比例。",
                frozenset({"rd_ratio"}),
            ),
        ],
    )


# --- 高新技术企业认定推荐汇总表 ------------------------------------------------------------------


def recommendation(params: Params, user: User, keys: set[str], today: date, batch) -> Source:
    """Return the recommendation summary of the applications in `batch`."""
    stmt = firm_select(
        CertificationApplication.is_renewal.label("is_renewal"),
        CertificationApplication.submitted_on.label("submitted_on"),
        CertificationApplication.status.label("status"),
        # Only the score range of the stored assessment, not the whole copy it keeps.
        CertificationApplication.assessment_snapshot["score_min"].as_integer().label("score_min"),
        CertificationApplication.assessment_snapshot["score_max"].as_integer().label("score_max"),
        CertificationApplication.assessment_verdict.label("verdict_code"),
        user=user,
        district_id=params.district_id,
    ).join(CertificationApplication, CertificationApplication.firm_id == Firm.id)
    stmt = stmt.where(
        CertificationApplication.batch_id == batch.id,
        CertificationApplication.status != "withdrawn",
    )
    years = figure_years(batch.year)

    def describe(rows: list[Row]) -> None:
        for row in rows:
            row["application_kind"] = "重新认定" if row.pop("is_renewal") else "首次认定"
            row["result"] = APPLICATION_STATUSES.get(row["status"], row["status"])
            row["score"] = score_range(row.pop("score_min"), row.pop("score_max"))
            row["verdict"] = VERDICT_LABELS.get(row.pop("verdict_code") or "", None)

    return Source(
        title=f"{batch.year}年{batch.name}高新技术企业认定推荐汇总表",
        years=years,
        rows=stream(
            stmt,
            [
                describe,
                years_filler(keys, years),
                contacts_filler(keys),
                ip_filler(keys, lambda row: row["submitted_on"]),
            ],
        ),
        notes=[
            (
                "研发费用占比为申报前三个会计年度研发费用总额占同期销售收入总额的比例；"
                "高新技术产品（服务）收入占比、科技人员占比按最近一个会计年度计算。",
                frozenset({"rd_ratio", "hightech_ratio", "tech_staff_ratio"}),
            ),
            (
                "知识产权为申报日前授权、有效且非许可使用的件数。",
                frozenset({"ip_class_i", "ip_class_ii"}),
            ),
            ("预评估得分为申报时系统预评估的得分区间，仅供参考。", frozenset({"score", "verdict"})),
        ],
    )


def score_range(low: int | None, high: int | None) -> str | None:
    """Return a pre-assessment's score as the range it is known to lie in: "71–85", or "78"."""
    if low is None or high is None:
        return None
    return str(low) if low == high else f"{low}–{high}"


# --- 高新技术企业重新认定名单 --------------------------------------------------------------------


def recertification(params: Params, user: User, keys: set[str], today: date) -> Source:
    """Return the certificates expiring in `params.year` and their firms' re-applications."""
    year = params.year
    stmt = firm_select(
        Certificate.number.label("certificate_number"),
        Certificate.issued_on.label("issued_on"),
        Certificate.expires_on.label("expires_on"),
        Certificate.status.label("certificate_status_code"),
        Certificate.application_id.label("application_id"),
        user=user,
        district_id=params.district_id,
    ).join(Certificate, Certificate.firm_id == Firm.id)
    stmt = stmt.where(
        Certificate.kind == HTE_KIND,
        Certificate.status.in_(COHORT_STATUSES),
        Certificate.expires_on.between(date(year, 1, 1), date(year, 12, 31)),
    )
    years = figure_years(year)

    def reapplications(rows: list[Row]) -> None:
        again = applications_in_year(sorted({row["firm_id"] for row in rows}), year)
        for row in rows:
            status = row.pop("certificate_status_code")
            row["certificate_status"] = CERTIFICATE_STATUSES.get(status, status)
            row["days_left"] = (row["expires_on"] - today).days
            renewal = again.get(row["firm_id"])
            if renewal is not None and renewal.id == row["application_id"]:
                renewal = None
            row["reapplied"] = "是" if renewal is not None else "否"
            row["reapply_batch"] = renewal.batch.label if renewal is not None else None
            row["reapply_result"] = renewal.status_label if renewal is not None else None

    return Source(
        title=f"{year}年高新技术企业重新认定名单",
        years=years,
        rows=stream(
            stmt,
            [
                reapplications,
                years_filler(keys, years),
                contacts_filler(keys),
                ip_filler(keys, lambda row: today + timedelta(days=1)),
            ],
        ),
        notes=[
            (
                f"名单为有效期在{year}年届满的高新技术企业证书，含已重新认定（原证书已被替换）和已到期的，"
                "不含被取消资格的。",
                frozenset(),
            ),
            (f"重新申报为{year}年度认定批次中的申报。", frozenset({"reapplied", "reapply_batch"})),
            (
                "知识产权为截至填报日有效且非许可使用的件数。",
                frozenset({"ip_class_i", "ip_class_ii"}),
            ),
        ],
    )
