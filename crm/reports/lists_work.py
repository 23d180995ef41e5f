"""The work lists that can be exported, each as its page shows it (`crm.core.exports.ListExport`).

Each list reads its page's query arguments with the page's own filter parsing and yields the
rows of the page's own select, unpaged; its columns are those the page shows, under the page's
Chinese headers.
"""

from collections.abc import Iterator

from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.certification import queries as certification
from crm.certification.forms import cohort_filters
from crm.certification.rules import cohort_label
from crm.core import clock
from crm.core.exports import Column, ListExport, register
from crm.eligibility import queries as eligibility
from crm.eligibility.facts import VERDICT_LABELS
from crm.eligibility.forms import readiness_filters
from crm.pipeline import board_queries
from crm.pipeline import queries as pipeline
from crm.pipeline.board_forms import board_filters
from crm.pipeline.rules import PROGRAMMES
from crm.reports.lists import staff
from crm.support import queries as support
from crm.support.forms import ledger_filters


def _name(entity) -> str | None:
    return entity.name if entity is not None else None


# --- The readiness list --------------------------------------------------------------------------


def _readiness_rows(user: User, args: MultiDict) -> Iterator[tuple]:
    return eligibility.readiness_rows(user, readiness_filters(args), clock.today())


def _count_readiness(user: User, args: MultiDict) -> int:
    return eligibility.count_readiness(user, readiness_filters(args), clock.today())


def _assessed(read):
    """Read a value off a readiness row's assessment (None when the firm is not assessed)."""
    return lambda row: read(row[1]) if row[1] is not None else None


def _main_gap(assessment) -> str:
    gaps = assessment.result.get("gaps") or []
    return gaps[0]["message"] if gaps else "暂无差距"


READINESS = register(
    ListExport(
        name="readiness",
        filename="认定准备度",
        sheet="认定准备度",
        columns=(
            Column("name", "企业名称", "text", 36, lambda row: row[0].name),
            Column("uscc", "统一社会信用代码", "code", 22, lambda row: row[0].uscc),
            Column("district", "区县", "text", 14, lambda row: _name(row[0].district)),
            Column("manager", "服务专员", "text", 12, lambda row: _name(row[0].manager)),
            Column(
                "verdict",
                "结论",
                "text",
                10,
                lambda row: VERDICT_LABELS[row[1].verdict] if row[1] else "尚未评估",
            ),
            Column("score_min", "最低分", "count", 8, _assessed(lambda a: a.score_min)),
            Column("score_max", "最高分", "count", 8, _assessed(lambda a: a.score_max)),
            Column("largest_gap", "最大差距", "percent", 10, _assessed(lambda a: a.largest_gap)),
            Column("main_gap", "主要差距", "text", 40, _assessed(_main_gap)),
            Column(
                "tech_sme_score", "科小评分", "count", 10, _assessed(lambda a: a.tech_sme_score)
            ),
        ),
        rows=_readiness_rows,
        count=_count_readiness,
        allowed=staff,
    )
)


# --- The support ledger --------------------------------------------------------------------------


def _ledger_rows(user: User, args: MultiDict):
    return support.ledger_rows(user, ledger_filters(args))


def _count_ledger(user: User, args: MultiDict) -> int:
    return support.count_ledger(user, ledger_filters(args))


LEDGER = register(
    ListExport(
        name="support_ledger",
        filename="扶持台账",
        sheet="扶持台账",
        columns=(
            Column("granted_on", "日期", "date", 12, lambda e: e.granted_on),
            Column("firm", "企业", "text", 36, lambda e: e.firm.name),
            Column("uscc", "统一社会信用代码", "code", 22, lambda e: e.firm.uscc),
            Column("district", "区县", "text", 14, lambda e: _name(e.firm.district)),
            Column("kind", "扶持类型", "text", 14, lambda e: e.kind_label),
            Column("title", "事项", "text", 36, lambda e: e.title),
            Column("amount", "金额（万元）", "money_wan", 14, lambda e: e.amount),
            Column("document_number", "文号", "code", 20, lambda e: e.document_number),
            Column("status", "状态", "text", 10, lambda e: e.status_label),
            Column("paid_on", "拨付日期", "date", 12, lambda e: e.paid_on),
        ),
        rows=_ledger_rows,
        count=_count_ledger,
        allowed=staff,
    )
)


# --- The re-certification cohort -----------------------------------------------------------------


def _cohort_rows(user: User, args: MultiDict):
    return certification.cohort_rows(user, cohort_filters(args), clock.today())


def _count_cohort(user: User, args: MultiDict) -> int:
    return certification.count_cohort(user, cohort_filters(args))


def _reapplication(row) -> str:
    again = row.reapplication
    return f"已申报（{again.batch.label} · {again.status_label}）" if again else "未申报"


def _certificate(read):
    return lambda row: read(row.certificate)


COHORT = register(
    ListExport(
        name="cohort",
        filename="重新认定名单",
        sheet="重新认定名单",
        columns=(
            Column(
                "cohort",
                "批次",
                "text",
                24,
                _certificate(lambda c: cohort_label(c.issued_on, c.expires_on)),
            ),
            Column("firm", "企业", "text", 36, _certificate(lambda c: c.firm.name)),
            Column("uscc", "统一社会信用代码", "code", 22, _certificate(lambda c: c.firm.uscc)),
            Column("number", "证书编号", "code", 20, _certificate(lambda c: c.number)),
            Column("issued_on", "发证日期", "date", 12, _certificate(lambda c: c.issued_on)),
            Column("expires_on", "有效期至", "date", 12, _certificate(lambda c: c.expires_on)),
            Column("days_left", "剩余天数", "count", 10, lambda row: row.days_left),
            Column("district", "区县", "text", 14, _certificate(lambda c: _name(c.firm.district))),
            Column(
                "manager", "服务专员", "text", 12, _certificate(lambda c: _name(c.firm.manager))
            ),
            Column("reapplication", "重新申报", "text", 30, _reapplication),
        ),
        rows=_cohort_rows,
        count=_count_cohort,
        allowed=staff,
    )
)


# --- A column of the board -----------------------------------------------------------------------


def board_column_of(args: MultiDict) -> tuple | None:
    """Return the (programme, stage) the export's `programme` and `stage` arguments name, or
    None when they name none."""
    code, stage_code = args.get("programme", ""), args.get("stage", "")
    if code not in PROGRAMMES:
        return None
    programme = pipeline.programme(code)
    stage = next((s for s in programme.stages if s.code == stage_code), None)
    return (programme, stage) if stage is not None else None


def _column_rows(user: User, args: MultiDict):
    found = board_column_of(args)
    if found is None:
        return iter(())
    return board_queries.column_cards(user, *found, board_filters(args), clock.today())


def _count_column(user: User, args: MultiDict) -> int:
    found = board_column_of(args)
    if found is None:
        return 0
    return board_queries.column_count(user, *found, board_filters(args), clock.today())


BOARD_COLUMN = register(
    ListExport(
        name="board_column",
        filename="培育看板阶段名单",
        sheet="阶段名单",
        columns=(
            Column("name", "企业名称", "text", 36, lambda card: card.firm.name),
            Column("uscc", "统一社会信用代码", "code", 22, lambda card: card.firm.uscc),
            Column("district", "区县", "text", 14, lambda card: _name(card.firm.district)),
            Column("park", "园区", "text", 20, lambda card: _name(card.firm.park)),
            Column("manager", "服务专员", "text", 12, lambda card: _name(card.firm.manager)),
            Column("entered_on", "进入本阶段", "date", 12, lambda card: card.entered_on),
            Column("days", "本阶段天数", "count", 12, lambda card: card.days),
            Column(
                "verdict",
                "预评估",
                "text",
                10,
                lambda card: VERDICT_LABELS.get(card.verdict) if card.verdict else None,
            ),
        ),
        rows=_column_rows,
        count=_count_column,
        allowed=staff,
        accepts=lambda user, args: board_column_of(args) is not None,
    )
)
