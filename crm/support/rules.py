"""Pure rules of the support ledger (domain.md §3): vocabularies, the rule in force, amounts.

No Flask, no database: the services load the subsidy rules of an event and ask `rule_in_force`
which one applies on a date; amounts typed by people are parsed here. The listing events are the
stages of the pipeline's (pure) listing programme.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol, TypeVar

from crm.pipeline.rules import LISTING_PROGRAMME

SUPPORT_KINDS = {
    "coaching_fund": "辅导认定经费",
    "rd_subsidy": "研发经费投入后补助",
    "hte_award": "高企认定奖励",
    "incubator_award": "孵化器奖励",
    "voucher": "创新券",
    "listing_subsidy": "上市分阶段补助",
    "other": "其他扶持",
}
ENTRY_STATUSES = {"claimable": "可申领", "applied": "已申请", "paid": "已拨付"}
LISTING_PREFIX = "listing:"
#: What makes a rule create an entry: any stage of the listing-reserve programme reached (the
#: Wuzhou decision subsidises 股份制改造 and 券商签约 too, domain.md §9), or a certification result.
RULE_EVENTS = {
    **{
        f"{LISTING_PREFIX}{stage.code}": f"上市后备：{stage.name}"
        for stage in LISTING_PROGRAMME.stages
        if stage.kind != "exit"
    },
    "hte:first_certified": "高企：首次认定",
    "hte:recertified": "高企：重新认定",
    "hte:incubated_certified": "高企：在孵企业首次认定（奖励孵化器）",
    "hte:not_certified": "高企：申报未通过（辅导认定经费）",
}
FIRST_CERTIFIED = "hte:first_certified"
RECERTIFIED = "hte:recertified"
INCUBATED_CERTIFIED = "hte:incubated_certified"
NOT_CERTIFIED = "hte:not_certified"

#: The kind of support an event usually gives (the default of a new rule).
EVENT_KINDS = {
    **{event: "listing_subsidy" for event in RULE_EVENTS if event.startswith(LISTING_PREFIX)},
    FIRST_CERTIFIED: "hte_award",
    RECERTIFIED: "hte_award",
    INCUBATED_CERTIFIED: "incubator_award",
    NOT_CERTIFIED: "coaching_fund",
}

#: The order a ledger entry moves in; `paid` is the end.
STATUS_FLOW = ("claimable", "applied", "paid")

NANNING_2017 = "参照南宁市 2017 年企业上市（挂牌）分阶段扶持政策"
GUILIN_NEEQ = "参照桂林高新区新三板挂牌奖励政策"
TO_BE_DECIDED = "金额待本市政策确定后由管理员填写"


@dataclass(frozen=True)
class SeedRule:
    """A subsidy rule the product starts with (domain.md §3)."""

    name: str
    event: str
    amount: Decimal | None
    basis: str
    effective_from: date = date(2017, 1, 1)

    @property
    def kind(self) -> str:
        """Return the kind of support the rule gives."""
        return EVENT_KINDS[self.event]


SEED_RULES = (
    SeedRule("辅导备案补助", "listing:tutor", Decimal("500000"), NANNING_2017),
    SeedRule("辅导验收补助", "listing:tutor_done", Decimal("500000"), NANNING_2017),
    SeedRule("上市申请受理补助", "listing:filed", Decimal("1000000"), NANNING_2017),
    SeedRule("上市奖励", "listing:listed", Decimal("2000000"), NANNING_2017),
    SeedRule("新三板挂牌奖励", "listing:neeq", Decimal("500000"), GUILIN_NEEQ),
    SeedRule("高企首次认定奖励", FIRST_CERTIFIED, None, TO_BE_DECIDED),
    SeedRule("高企重新认定奖励", RECERTIFIED, None, TO_BE_DECIDED),
    SeedRule("孵化器培育高企奖励", INCUBATED_CERTIFIED, None, TO_BE_DECIDED),
    SeedRule("辅导认定经费", NOT_CERTIFIED, None, TO_BE_DECIDED),
)

CENT = Decimal("0.01")
WAN = Decimal(10000)
#: The largest amount Numeric(16, 2) holds, in yuan.
MAX_AMOUNT = Decimal("99999999999999.99")
_AMOUNT = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<unit>万元|万|元)?")


class AmountError(ValueError):
    """An amount typed by a person that cannot be read; the message is in Chinese."""


class RuleVersion(Protocol):
    """What `rule_in_force` reads of a subsidy rule."""

    id: int
    event: str
    effective_from: date
    is_active: bool


R = TypeVar("R", bound=RuleVersion)


def rule_in_force(rules: Iterable[R], event: str, on: date) -> R | None:
    """Return the active rule for `event` with the latest effective date on or before `on`.

    Two versions taking effect on the same day: the later one entered (higher id) wins.
    """
    candidates = [
        rule
        for rule in rules
        if rule.event == event and rule.is_active and rule.effective_from <= on
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rule: (rule.effective_from, rule.id or 0))


def listing_event(stage_code: str) -> str | None:
    """Return the rule event of reaching a listing stage, or None when no rule can name it."""
    event = LISTING_PREFIX + stage_code
    return event if event in RULE_EVENTS else None


def certification_events(first: bool, incubated: bool) -> list[tuple[str, bool]]:
    """Return (event, for the incubator) pairs a certification triggers.

    A first certification earns the firm its award and, for an incubated firm, the incubator its
    own; a later one only the re-certification award.
    """
    if not first:
        return [(RECERTIFIED, False)]
    events = [(FIRST_CERTIFIED, False)]
    if incubated:
        events.append((INCUBATED_CERTIFIED, True))
    return events


def once_per_firm(event: str) -> bool:
    """Tell whether the event pays a firm once at most (a listing stage reached again does not)."""
    return event.startswith(LISTING_PREFIX) or event in (FIRST_CERTIFIED, INCUBATED_CERTIFIED)


def next_status(status: str) -> str | None:
    """Return the status an entry moves to next, or None at the end."""
    if status not in STATUS_FLOW or status == STATUS_FLOW[-1]:
        return None
    return STATUS_FLOW[STATUS_FLOW.index(status) + 1]


def status_problems(status: str, document_number: str | None, paid_on: date | None) -> list[str]:
    """Return what an entry lacks for its status, in Chinese (empty: consistent)."""
    if status not in ENTRY_STATUSES:
        return ["未知的状态"]
    if status != "paid":
        return []
    problems = []
    if not (document_number or "").strip():
        problems.append("已拨付的扶持需填写拨付文号")
    if paid_on is None:
        problems.append("已拨付的扶持需填写拨付日期")
    return problems


def parse_amount(text: str | None) -> Decimal | None:
    """Read an amount in yuan: `500000`, `500,000.00`, `¥500,000`, `50万`, `50 万元`.

    Full-width digits and separators are accepted; 万 multiplies by 10,000. The result must be
    non-negative and exact to the fen (two decimals in yuan). Empty text is None.
    """
    cleaned = unicodedata.normalize("NFKC", text or "")
    cleaned = re.sub(r"[\s,，¥￥]", "", cleaned).replace("人民币", "").replace("RMB", "")
    if not cleaned:
        return None
    if cleaned.startswith("-"):
        raise AmountError("金额不能为负数")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError("请输入金额，如 500000、500,000.00 或 50万")
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:
        raise AmountError("请输入金额，如 500000、500,000.00 或 50万") from exc
    if match["unit"] in ("万", "万元"):
        number *= WAN
    if number != number.quantize(CENT):
        raise AmountError("金额最多精确到分（元以下两位小数）")
    if number > MAX_AMOUNT:
        raise AmountError("金额过大")
    return number.quantize(CENT)


def format_yuan(value: Decimal | None, empty: str = "") -> str:
    """Show an amount in yuan with thousands separators and two decimals."""
    if value is None:
        return empty
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def describe_amount(value: Decimal | None) -> str:
    """Return an amount for a message: `500,000.00 元`, or `金额待定`."""
    return "金额待定" if value is None else f"{format_yuan(value)} 元"
