"""Demo support ledger: HTE awards, coaching funds, listing subsidies, R&D subsidies, vouchers.

The entries a subsidy rule gives follow the demo's stage transitions exactly as the live pipeline
would make them (same rule, trigger key and date), so a later move never duplicates one. The older
an entry, the likelier it has been applied for and paid. Awards whose rule has no amount yet stay
待定 until paid; paid ones carry the amount the bureau decided (invented figures, as the Wuzhou and
Baise amounts are not published). Managers also recorded R&D post-subsidies and innovation
vouchers by hand. Drawn from a stream of its own per firm, so adding them changes no other value.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.support import rules
from crm.support.models import SubsidyRule, SupportEntry

#: What the demo bureau paid for the awards its rules leave undecided, in yuan.
DECIDED_AMOUNTS = {
    rules.FIRST_CERTIFIED: (Decimal("100000"), Decimal("200000")),
    rules.RECERTIFIED: (Decimal("50000"), Decimal("100000")),
    rules.INCUBATED_CERTIFIED: (Decimal("50000"),),
    rules.NOT_CERTIFIED: (Decimal("20000"), Decimal("30000")),
}
RD_SHARE = {"strong": 0.45, "near": 0.35, "mid": 0.2}
VOUCHER_SHARE = {"strong": 0.12, "near": 0.15, "mid": 0.1, "young": 0.12}
VOUCHER_USES = [
    ("检验检测服务", "广西某检验检测认证有限公司"),
    ("研发设计服务", "某工业设计研究院有限公司"),
    ("知识产权服务", "广西某知识产权代理有限公司"),
    ("科技咨询服务", "某科技咨询服务有限公司"),
]
VOUCHER_AMOUNTS = (Decimal("10000"), Decimal("20000"), Decimal("30000"), Decimal("50000"))
#: The most an R&D post-subsidy pays, and the least worth recording, in yuan.
RD_CAP, RD_FLOOR = Decimal("500000"), Decimal("10000")


class _Ledger:
    """The rules, the stage codes and the firms of one batch, and the entries drawn so far."""

    def __init__(self, seed: int, today: date, city_name: str) -> None:
        self.seed, self.today, self.abbr = seed, today, city_name[0]
        self.rules = list(db_rules())
        self.stages = stage_codes()
        self.entries: list[SupportEntry] = []

    def rng(self, firm: Firm) -> random.Random:
        return random.Random(f"{self.seed}-support-{firm.name}")

    def status(self, rng: random.Random, granted_on: date) -> tuple[str, date | None]:
        """Draw how far an entry granted on `granted_on` has come, and when it was paid."""
        age = (self.today - granted_on).days
        if age >= 180 and rng.random() < 0.85:
            return "paid", granted_on + timedelta(days=rng.randint(60, min(age, 240)))
        if age >= 60 and rng.random() < 0.7:
            return "applied", None
        return "claimable", None

    def document(self, rng: random.Random, kind: str, year: int) -> str:
        office = "金融" if kind == "listing_subsidy" else "科"
        return f"{self.abbr}{office}字〔{year}〕{rng.randint(3, 96)}号"

    def add(self, rng: random.Random, firm_id: int, granted_on: date, event=None, **values):
        """Add an entry granted on `granted_on`, drawing its status; `event` names its rule."""
        status, paid_on = self.status(rng, granted_on)
        if status == "paid" and values.get("amount") is None:
            values["amount"] = rng.choice(DECIDED_AMOUNTS.get(event, (Decimal("50000"),)))
        self.entries.append(
            SupportEntry(
                firm_id=firm_id,
                granted_on=granted_on,
                status=status,
                paid_on=paid_on,
                document_number=(
                    self.document(rng, values["kind"], paid_on.year) if paid_on else None
                ),
                **values,
            )
        )

    def grant(self, rng, firm_id: int, event: str, transition, related: int | None = None):
        """Add the entry the rule in force gives for `event` on the transition's date."""
        rule = rules.rule_in_force(self.rules, event, transition.moved_on)
        if rule is None:
            return
        self.add(
            rng,
            firm_id,
            transition.moved_on,
            event=event,
            kind=rule.kind,
            title=rule.name,
            amount=rule.amount,
            rule_id=rule.id,
            trigger_key=f"transition:{transition.id}",
            related_firm_id=related,
        )

    def follow(self, rng: random.Random, firm: Firm, enrollment: Enrollment) -> None:
        """Add the entries the rules give for the enrollment's transitions."""
        certified = 0
        for transition in enrollment.transitions:
            programme, code = self.stages[transition.to_stage_id]
            if programme == "listing":
                event = rules.listing_event(code)
                if event:
                    self.grant(rng, firm.id, event, transition)
            elif code == "not_certified":
                self.grant(rng, firm.id, rules.NOT_CERTIFIED, transition)
            elif code == "certified":
                first = certified == 0
                certified += 1
                incubated = firm.incubator_id is not None
                for event, for_incubator in rules.certification_events(first, incubated):
                    if for_incubator:
                        self.grant(rng, firm.incubator_id, event, transition, firm.id)
                    else:
                        self.grant(rng, firm.id, event, transition)

    def by_hand(self, rng: random.Random, firm: Firm, spec: dict) -> None:
        """Add the R&D post-subsidy and innovation vouchers a manager recorded."""
        profile, figures = spec["profile"], spec["figures"]
        # Subsidies for a year's R&D are granted from April to October of the next year.
        today = self.today
        year = today.year if today >= date(today.year, 5, 1) else today.year - 1
        row = next((row for row in figures if row["year"] == year - 1), None)
        if row is not None and rng.random() < RD_SHARE.get(profile, 0):
            rd = Decimal(row["rd"]).scaleb(-2)
            share = Decimal(str(round(rng.uniform(0.03, 0.08), 3)))
            amount = min(RD_CAP, (rd * share / 1000).quantize(Decimal(1)) * 1000)
            if amount >= RD_FLOOR:
                start, end = date(year, 4, 1), min(today, date(year, 10, 31))
                self.add(
                    rng,
                    firm.id,
                    start + timedelta(days=rng.randint(0, (end - start).days)),
                    kind="rd_subsidy",
                    title=f"{year - 1} 年度研发经费投入后补助",
                    amount=amount,
                    notes=f"按 {year - 1} 年度研发费用 {rd:,.0f} 元核定",
                )
        if rng.random() < VOUCHER_SHARE.get(profile, 0):
            use, provider = rng.choice(VOUCHER_USES)
            granted = self.today - timedelta(days=rng.randint(10, 500))
            self.add(
                rng,
                firm.id,
                max(granted, spec["established"]),
                kind="voucher",
                title=f"创新券（{use}）",
                amount=rng.choice(VOUCHER_AMOUNTS),
                notes=f"服务机构：{provider}",
            )


def db_rules() -> list[SubsidyRule]:
    """Return every subsidy rule version (a handful of rows)."""
    return list(db.session.scalars(select(SubsidyRule)))


def stage_codes() -> dict[int, tuple[str, str]]:
    """Return (programme code, stage code) by stage id."""
    rows = db.session.execute(select(Stage.id, Programme.code, Stage.code).join(Programme))
    return {stage_id: (programme, code) for stage_id, programme, code in rows}


def make_support_entries(
    seed: int,
    batch: list[tuple[Firm, dict]],
    enrollments: list[Enrollment],
    today: date,
    city_name: str,
) -> list[SupportEntry]:
    """Return the ledger entries of a batch of firms whose enrollments are flushed."""
    ledger = _Ledger(seed, today, city_name)
    by_firm: dict[int, list[Enrollment]] = {}
    for enrollment in enrollments:
        by_firm.setdefault(enrollment.firm_id, []).append(enrollment)
    for firm, spec in batch:
        rng = ledger.rng(firm)
        for enrollment in by_firm.get(firm.id, []):
            ledger.follow(rng, firm, enrollment)
        ledger.by_hand(rng, firm, spec)
    return ledger.entries
