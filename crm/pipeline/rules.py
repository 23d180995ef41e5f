"""Pure rules of the cultivation pipeline (domain.md §1): stages, allowed moves and their gates.

No Flask, no database: the services gather the facts a gate reads into `MoveFacts`, and
`check_move` returns what is missing, in Chinese. An empty list means the move may go ahead.
"""

from dataclasses import dataclass
from datetime import date

HTE = "hte"
LISTING = "listing"


@dataclass(frozen=True)
class StageDef:
    """A stage of a programme, as seeded into the `stages` table."""

    code: str
    name: str
    #: `stage` on the main line, `exit` off it, `outcome` for a listing side outcome.
    kind: str = "stage"
    #: An exit that closes the enrollment for good.
    is_terminal: bool = False
    #: Entering it needs an official document (number and date).
    needs_document: bool = False


@dataclass(frozen=True)
class ProgrammeDef:
    """A programme: its stages in board order and the moves allowed between them."""

    code: str
    name: str
    stages: tuple[StageDef, ...]
    moves: dict[str, frozenset[str]]
    entry: str

    def stage(self, code: str) -> StageDef:
        """Return the stage with `code`."""
        return next(s for s in self.stages if s.code == code)

    def targets(self, code: str) -> frozenset[str]:
        """Return the stages a firm in `code` may move to."""
        return self.moves.get(code, frozenset())


def _moves(pairs: dict[str, str]) -> dict[str, frozenset[str]]:
    return {source: frozenset(targets.split()) for source, targets in pairs.items()}


_HTE_EXITS = "moved closed"
HTE_PROGRAMME = ProgrammeDef(
    code=HTE,
    name="高企培育",
    entry="prospect",
    stages=(
        StageDef("prospect", "意向企业"),
        StageDef("reserve", "高企后备库"),
        StageDef("coaching", "一企一策辅导"),
        StageDef("applied", "已申报"),
        StageDef("review", "评审/公示中"),
        StageDef("certified", "已认定高企"),
        StageDef("not_certified", "未通过", kind="exit"),
        StageDef("lapsed", "资格到期", kind="exit"),
        StageDef("cancelled", "取消资格", kind="exit"),
        StageDef("moved", "迁出", kind="exit", is_terminal=True),
        StageDef("closed", "注销", kind="exit", is_terminal=True),
    ),
    moves=_moves(
        {
            "prospect": f"reserve {_HTE_EXITS}",
            "reserve": f"coaching applied {_HTE_EXITS}",
            "coaching": f"applied reserve {_HTE_EXITS}",
            "applied": f"review not_certified {_HTE_EXITS}",
            "review": f"certified not_certified {_HTE_EXITS}",
            # Re-certification: a new application inside the same enrollment.
            "certified": f"applied lapsed cancelled {_HTE_EXITS}",
            "not_certified": f"coaching reserve {_HTE_EXITS}",
            "lapsed": f"reserve {_HTE_EXITS}",
            "cancelled": f"reserve {_HTE_EXITS}",
        }
    ),
)

_LISTING_OFF = "withdrawn"
LISTING_PROGRAMME = ProgrammeDef(
    code=LISTING,
    name="上市后备",
    entry="pool",
    stages=(
        StageDef("pool", "入库培育"),
        StageDef("reform", "股份制改造", needs_document=True),
        StageDef("sign", "券商签约", needs_document=True),
        StageDef("tutor", "辅导备案", needs_document=True),
        StageDef("tutor_done", "辅导验收", needs_document=True),
        StageDef("filed", "申报受理", needs_document=True),
        StageDef("review", "审核注册", needs_document=True),
        StageDef("listed", "上市", needs_document=True, is_terminal=True),
        StageDef("neeq", "新三板挂牌", kind="outcome", needs_document=True),
        StageDef("regional", "区域股权市场挂牌", kind="outcome", needs_document=True),
        StageDef("withdrawn", "撤回/终止", kind="exit", is_terminal=True),
    ),
    moves=_moves(
        {
            # A firm already organised as a joint-stock company skips the reform.
            "pool": f"reform sign neeq regional {_LISTING_OFF}",
            "reform": f"sign neeq regional {_LISTING_OFF}",
            "sign": f"tutor neeq {_LISTING_OFF}",
            "tutor": f"tutor_done neeq {_LISTING_OFF}",
            "tutor_done": f"filed {_LISTING_OFF}",
            "filed": f"review {_LISTING_OFF}",
            "review": f"listed {_LISTING_OFF}",
            # Listing on a lower market does not end the road to an exchange.
            "neeq": f"sign tutor {_LISTING_OFF}",
            "regional": f"reform sign neeq {_LISTING_OFF}",
        }
    ),
)

PROGRAMMES = {HTE: HTE_PROGRAMME, LISTING: LISTING_PROGRAMME}

#: Reserve-pool entry reasons (domain.md §1.4, Wuzhou 2025 priorities).
ENTRY_REASONS = {
    1: "高企资格上年到期未重新申报",
    2: "上年申报未通过",
    3: "高企资格本年到期",
    4: "已入库科技型中小企业（非高企）",
    5: "上年研发投入强度不低于 1% 的规上工业企业（非高企）",
    6: "重点领域内创新基础较好、有意申报的其他企业",
}

#: A lapsed firm becomes a reserve candidate with reason 1; a failed one comes back with reason 2.
SUGGESTED_ENTRY_REASONS = {"lapsed": 1, "not_certified": 2}


@dataclass(frozen=True)
class BatchFacts:
    """A certification batch an application would join."""

    name: str
    opens_on: date
    closes_on: date


@dataclass(frozen=True)
class MoveFacts:
    """What a gate reads: the move's own inputs and what is known about the firm."""

    today: date
    # Given with the move.
    reason: str = ""
    entry_reason: int | None = None
    document_number: str = ""
    document_on: date | None = None
    batch: BatchFacts | None = None
    certificate_number: str = ""
    certificate_issued_on: date | None = None
    cancel_ground: str = ""
    # Known about the firm.
    has_district: bool = False
    has_tech_field: bool = False
    plan_exists: bool = False
    plan_measures: int = 0
    plan_has_manager: bool = False
    #: Years of the last three that have no figures recorded.
    missing_figure_years: tuple[int, ...] = ()
    #: The day the HTE qualification was last cancelled, if ever.
    cancelled_on: date | None = None
    #: Expiry of the firm's current HTE certificate, if any.
    certificate_expires_on: date | None = None
    #: The sponsor broker recorded on the firm's listing case.
    sponsor_broker: str = ""


def stage_name(programme: str, code: str) -> str:
    """Return the Chinese name of a stage."""
    return PROGRAMMES[programme].stage(code).name


def move_inputs(programme: str, code: str) -> str:
    """Return the inputs a move into `code` asks for (entry_reason document certificate batch
    cancel_ground).

    The move forms show these fields when the stage is chosen; the gates check them.
    """
    stage = PROGRAMMES[programme].stage(code)
    needs = []
    if programme == HTE and code == "reserve":
        needs.append("entry_reason")
    if stage.needs_document or stage.kind == "exit":
        needs.append("document")
    if programme == HTE and code == "certified":
        needs.append("certificate")
    if programme == HTE and code == "applied":
        needs.append("batch")
    if programme == HTE and code == "cancelled":
        needs.append("cancel_ground")
    return " ".join(needs)


def check_move(programme: str, source: str | None, target: str, facts: MoveFacts) -> list[str]:
    """Return the unmet requirements for moving from `source` to `target` (empty: allowed).

    `source` None is a new enrollment, which enters the programme's entry stage or, for the
    high-tech programme, directly the reserve pool.
    """
    refusal = route_refusal(programme, source, target)
    if refusal is not None:
        return [refusal]
    return _gate(programme, source, target, facts)


def entry_stages(programme: str) -> tuple[str, ...]:
    """Return the stages a new enrollment may start in, in board order."""
    spec = PROGRAMMES[programme]
    allowed = {spec.entry} | ({"reserve"} if programme == HTE else set())
    return tuple(s.code for s in spec.stages if s.code in allowed)


def route_refusal(programme: str, source: str | None, target: str) -> str | None:
    """Return why the programme's graph forbids the move, or None when it allows it.

    Unlike an unmet gate requirement, this can never be overridden.
    """
    spec = PROGRAMMES[programme]
    codes = {s.code for s in spec.stages}
    for code in (source, target):
        if code is not None and code not in codes:
            return f"未知的阶段：{code}"
    if source is None:
        allowed = entry_stages(programme)
        if target not in allowed:
            names = "或".join(f"「{stage_name(programme, c)}」" for c in allowed)
            return f"新入库企业只能进入{names}"
    elif target not in spec.targets(source):
        if spec.stage(source).is_terminal:
            return f"「{stage_name(programme, source)}」已结束，不能再变更阶段"
        return (
            f"不能从「{stage_name(programme, source)}」直接转入「{stage_name(programme, target)}」"
        )
    return None


def suggested_entry_reason(source: str | None) -> int | None:
    """Return the reserve-pool entry reason a firm coming from `source` usually has (§1.1, §1.4)."""
    return SUGGESTED_ENTRY_REASONS.get(source or "")


def _gate(programme: str, source: str | None, target: str, facts: MoveFacts) -> list[str]:
    stage = PROGRAMMES[programme].stage(target)
    missing: list[str] = []
    if stage.kind == "exit" and not facts.reason.strip():
        missing.append(f"转入「{stage.name}」需填写原因")
    if stage.needs_document:
        if not facts.document_number.strip():
            missing.append(f"转入「{stage.name}」需填写证明文件文号")
        if facts.document_on is None:
            missing.append(f"转入「{stage.name}」需填写证明文件日期")
        elif facts.document_on > facts.today:
            missing.append("证明文件日期不能晚于今天")
    if programme == HTE:
        missing += _hte_gate(source, target, facts)
    elif target == "sign" and not facts.sponsor_broker.strip():
        missing.append("转入「券商签约」需先在上市案卷中填写保荐券商")
    return missing


def _hte_gate(source: str | None, target: str, facts: MoveFacts) -> list[str]:
    missing: list[str] = []
    if target == "reserve":
        if facts.entry_reason not in ENTRY_REASONS:
            missing.append("进入高企后备库需选择入库理由")
        if not facts.has_district:
            missing.append("进入高企后备库需填写企业所属县（市、区）")
        if not facts.has_tech_field:
            missing.append("进入高企后备库需填写企业技术领域")
    elif target == "coaching":
        if not facts.plan_exists:
            missing.append("进入一企一策辅导需先制定本年度辅导方案")
        else:
            if facts.plan_measures < 1:
                missing.append("辅导方案至少需要 1 项辅导措施")
            if not facts.plan_has_manager:
                missing.append("辅导方案需指定负责的服务专员")
    elif target == "applied":
        missing += _application_gate(source, facts)
    elif target == "certified":
        if not facts.certificate_number.strip():
            missing.append("认定为高企需填写证书编号")
        if facts.certificate_issued_on is None:
            missing.append("认定为高企需填写发证日期")
        elif facts.certificate_issued_on > facts.today:
            missing.append("发证日期不能晚于今天")
    elif target == "cancelled":
        if not facts.cancel_ground:
            missing.append("取消资格需选择取消依据（《高新技术企业认定管理办法》第十九条）")
    elif target == "lapsed":
        expires = facts.certificate_expires_on
        if expires is not None and expires >= facts.today:
            missing.append(f"证书有效期至 {expires.isoformat()}，尚未到期")
    return missing


def _application_gate(source: str | None, facts: MoveFacts) -> list[str]:
    missing: list[str] = []
    if facts.batch is None:
        missing.append("申报需选择认定批次")
    elif not facts.batch.opens_on <= facts.today <= facts.batch.closes_on:
        missing.append(
            f"认定批次「{facts.batch.name}」的申报时间为 {facts.batch.opens_on.isoformat()} 至 "
            f"{facts.batch.closes_on.isoformat()}"
        )
    if facts.missing_figure_years:
        years = "、".join(str(y) for y in facts.missing_figure_years)
        missing.append(f"申报需有近三个会计年度的财务数据，缺少 {years} 年度")
    if facts.cancelled_on is not None and facts.cancelled_on.year == facts.today.year:
        missing.append(f"企业于 {facts.cancelled_on.isoformat()} 被取消高企资格，当年不得再次申报")
    if source == "certified":
        expires = facts.certificate_expires_on
        if expires is None or expires.year > facts.today.year:
            shown = expires.isoformat() if expires else "未知"
            missing.append(f"高企证书有效期至 {shown}，到期当年方可重新申报")
    return missing


def days_in_stages(moves: list[tuple[str, date]], today: date) -> dict[str, int]:
    """Return the days spent in each stage from (stage entered, on) rows in time order."""
    totals: dict[str, int] = {}
    if not moves:
        return totals
    for (stage, start), (_, end) in zip(moves, [*moves[1:], (None, today)], strict=True):
        totals[stage] = totals.get(stage, 0) + max(0, (end - start).days)
    return totals
