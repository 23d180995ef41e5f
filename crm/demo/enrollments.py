"""Demo enrollments: the firms spread over 高企培育 and 上市后备 consistently with their data.

Firms holding a high-tech certificate went prospect → reserve → applied → review → certified in
that year's certification batch, their certificate issued on the batch's filing day (8 December)
(and re-applied in the expiry year, or lapsed and came back to the reserve pool with reason 1; a
few had the qualification cancelled); strong and near firms without one sit in the reserve pool,
a few in coaching when they have a plan for the year, a few failed last year, and some applied
this year; some middling firms are prospects; a share of above-scale and certified firms are in
the listing pool, at every stage up to the filing, or listed on the NEEQ or the regional market.
Every application is recorded in its batch with its result, and a certified firm's renames and
other changes carry their change reports. The history is written directly, without the gates.
Drawn from a stream of its own per firm, so adding them changes no other demo value.
"""

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from crm.certification.certificates import end_current_certificate, record_certificate
from crm.certification.models import CertificationApplication, CertificationBatch, ChangeReport
from crm.certification.rules import PENDING_STATUSES, change_report_due, lapse_reason
from crm.certification.services import assessment_snapshot
from crm.coaching.services import plan_gate_facts
from crm.eligibility.services import refresh_assessments
from crm.extensions import db
from crm.firms.models import Firm, FirmFormerName, Qualification
from crm.firms.rules import certificate_expiry
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition

#: Chance that an above-scale firm, or a certified one below scale, is in the listing pool.
LISTING_SHARE = {"above_scale": 0.45, "certified": 0.12}
#: How far listing-reserve firms have come, with weights: the main line, and the firms that
#: listed on the NEEQ or the regional equity market instead.
LISTING_ROUTES = (
    (("pool",), 5),
    (("pool", "reform"), 4),
    (("pool", "reform", "sign"), 3),
    (("pool", "reform", "sign", "tutor"), 2),
    (("pool", "reform", "sign", "tutor", "tutor_done"), 1),
    (("pool", "reform", "sign", "tutor", "tutor_done", "filed"), 1),
    (("pool", "regional"), 2),
    (("pool", "reform", "sign", "neeq"), 2),
)
#: The issuer of each stage's evidence document; `{city}` is the city's one-character name.
LISTING_DOCUMENTS = {
    "reform": "{city}金融〔{year}〕{n}号",
    "sign": "{city}金融〔{year}〕{n}号",
    "tutor": "桂证监辅〔{year}〕{n}号",
    "tutor_done": "桂证监验〔{year}〕{n}号",
    "filed": "深证上审〔{year}〕{n}号",
    "neeq": "股转函〔{year}〕{n}号",
    "regional": "北部湾股交挂〔{year}〕{n}号",
}
FAILED_REASON = "专家评审得分未达 71 分"
#: Years of batches before this one: the oldest certificate a renewal or a lapse goes back to.
BATCH_YEARS = 6
FIRST, SECOND = "第一批", "第二批"
CANCEL_SHARE = 0.06
#: Why the demo's firms lost their qualification: (ground, the reason written down).
CANCEL_REASONS = [
    ("missed_reports", "连续两年未按期填报年度发展情况报表"),
    ("incident", "发生重大安全事故"),
    ("unreported_change", "名称变更未在三个月内报告"),
]
CHANGES = [
    ("business", "经营范围增加新材料研发、技术服务"),
    ("business", "主营产品调整为智能控制设备"),
    ("merger", "吸收合并全资子公司"),
    ("merger", "分立出独立核算的销售公司"),
]


class Pipeline:
    """The seeded programme and stage ids the demo writes against."""

    def __init__(self) -> None:
        self.programmes = {p.code: p.id for p in db.session.scalars(select(Programme))}
        self.stages = {
            (code, stage.code): stage.id
            for code, programme_id in self.programmes.items()
            for stage in db.session.scalars(select(Stage).filter_by(programme_id=programme_id))
        }


def demo_batches(today: date) -> dict[tuple[int, str], CertificationBatch]:
    """Return the demo's certification batches, creating the missing ones (idempotent).

    One batch a year, open 21 May – 5 September as Guangxi's was in 2025, with the public notice
    in November and the filing on 8 December; this year also a second batch still open.
    """
    found = {(b.year, b.name): b for b in db.session.scalars(select(CertificationBatch))}
    wanted = []
    for year in range(today.year - BATCH_YEARS, today.year + 1):
        filed = date(year, 12, 8)
        wanted.append(
            (
                year,
                FIRST,
                {
                    "opens_on": date(year, 5, 21),
                    "closes_on": date(year, 9, 5),
                    "city_recommend_by": date(year, 9, 20),
                    "notice_from": date(year, 11, 10),
                    "notice_to": date(year, 11, 21),
                    "filed_on": filed if filed <= today else None,
                    "notes": f"广西壮族自治区{year}年高新技术企业认定",
                },
            )
        )
    wanted.append(
        (
            today.year,
            SECOND,
            {
                "opens_on": date(today.year, 11, 1),
                "closes_on": date(today.year, 12, 15),
                "city_recommend_by": date(today.year, 12, 20),
                "notes": "补充批次",
            },
        )
    )
    for year, name, values in wanted:
        if (year, name) not in found:
            batch = CertificationBatch(year=year, name=name, **values)
            db.session.add(batch)
            found[(year, name)] = batch
    db.session.flush()
    return found


class _Story:
    """One firm's enrollment, built step by step with dates that only move forward."""

    def __init__(self, pipeline: Pipeline, programme: str, firm: Firm, today: date) -> None:
        self.pipeline, self.programme, self.firm, self.today = pipeline, programme, firm, today
        self.enrollment = Enrollment(firm_id=firm.id, programme_id=pipeline.programmes[programme])
        self.last: date | None = None
        self.stage_id: int | None = None
        self.applications: list[CertificationApplication] = []
        #: What happened to the firm's certificates, in order, recorded once the rows have ids.
        self.certificate_events: list[tuple] = []

    def step(self, code: str, on: date, **values) -> bool:
        """Record a move on `on` (pushed after the last move); False when it would be future."""
        if self.last is not None and on <= self.last:
            on = self.last + timedelta(days=1)
        if on > self.today:
            return False
        to_stage = self.pipeline.stages[(self.programme, code)]
        if "entry_reason" in values:
            self.enrollment.entry_reason = values.pop("entry_reason")
        self.enrollment.transitions.append(
            StageTransition(
                firm_id=self.firm.id,
                from_stage_id=self.stage_id,
                to_stage_id=to_stage,
                moved_on=on,
                at=datetime.combine(on, time(1, 30)),
                by_id=self.firm.manager_id,
                **values,
            )
        )
        if self.last is None:
            self.enrollment.opened_on = on
        self.last, self.stage_id = on, to_stage
        self.enrollment.stage_id = to_stage
        return True

    def apply(self, batch: CertificationBatch, on: date, renewal: bool = False) -> bool:
        """Apply in `batch` on `on` (within its window), opening the application."""
        on = min(max(on, batch.opens_on), batch.closes_on)
        if not self.step("applied", on, reason=f"{batch.year}年高新技术企业认定申报"):
            return False
        application = CertificationApplication(
            firm_id=self.firm.id,
            batch_id=batch.id,
            submitted_on=self.last,
            is_renewal=renewal,
            status="submitted",
        )
        application.enrollment = self.enrollment
        self.applications.append(application)
        return True

    @property
    def application(self) -> CertificationApplication:
        """Return the latest application."""
        return self.applications[-1]

    def review(self, batch: CertificationBatch) -> bool:
        """Enter the expert review and public notice of the latest application."""
        if not self.step("review", batch.notice_from):
            return False
        self.application.status = "review"
        return True

    def certify(self, number: str, issued: date) -> bool:
        """Record the certificate of the latest application."""
        if not self.step("certified", issued, document_number=number, document_on=issued):
            return False
        application = self.application
        application.status, application.result_on = "certified", self.last
        application.certificate_number, application.issued_on = number, issued
        application.expires_on = certificate_expiry(issued)
        transition = self.enrollment.transitions[-1]
        self.certificate_events.append(("issued", application, transition, number, issued))
        return True

    def close(
        self, code: str, on: date, reason: str, status: str | None = None, ground: str = ""
    ) -> bool:
        """Move to an exit and mark the application it concerns."""
        if not self.step(code, on, reason=reason):
            return False
        application = self.application
        application.status = status or code
        if code != "lapsed":
            application.result_on, application.reason = self.last, reason
        if code in ("lapsed", "cancelled"):
            self.certificate_events.append(("ended", code, self.last, reason, ground or None))
        return True

    def done(self) -> Enrollment | None:
        return self.enrollment if self.last is not None else None


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _application_day(rng: random.Random, year: int) -> date:
    return _between(rng, date(year, 5, 25), date(year, 8, 25))


def _certified_story(
    rng, story: _Story, certificates: list[Qualification], spec: dict, batches: dict
) -> None:
    """Write a certified firm's history (`certificates`: the years and numbers it was issued)."""
    established = spec["established"]
    for n, cert in enumerate(certificates):
        batch = batches[(cert.year, FIRST)]
        issued = date(cert.year, 12, 8)
        if n == 0:
            start = max(issued - timedelta(days=rng.randint(420, 560)), established)
            story.step("prospect", start + timedelta(days=rng.randint(20, 60)))
            reserve_on = story.last + timedelta(days=rng.randint(20, 90))
            story.step("reserve", reserve_on, entry_reason=6, reason="重点领域企业，有意申报")
        story.apply(batch, _application_day(rng, cert.year), renewal=n > 0)
        story.review(batch)
        story.certify(cert.number, issued)
    expires = certificate_expiry(story.last)
    today = story.today
    if expires < today:
        story.close("lapsed", expires + timedelta(days=1), lapse_reason(expires))
        back = story.last + timedelta(days=rng.randint(20, 80))
        story.step("reserve", back, entry_reason=1, reason="高企资格到期未重新申报")
    elif expires.year == today.year and rng.random() < 0.6:
        batch = batches[(today.year, FIRST)]
        if story.apply(batch, _application_day(rng, today.year), renewal=True):
            story.review(batch)
    elif len(certificates) == 1 and rng.random() < CANCEL_SHARE:
        cancel_on = _between(rng, story.last + timedelta(days=200), today - timedelta(days=30))
        ground, reason = rng.choice(CANCEL_REASONS)
        story.close("cancelled", cancel_on, reason, ground=ground)


def _reserve_story(rng, story: _Story, spec: dict, has_sme: bool, has_plan: bool, batches) -> None:
    today = story.today
    failed = rng.random() < (0.2 if spec["profile"] == "near" else 0.1)
    last_year = today.year - 1
    start = date(last_year - 1, 9, 1) if failed else today - timedelta(days=rng.randint(60, 420))
    story.step("prospect", max(start, spec["established"]))
    reason = 4 if has_sme else 6
    story.step("reserve", story.last + timedelta(days=rng.randint(15, 90)), entry_reason=reason)
    if failed:
        batch = batches[(last_year, FIRST)]
        story.apply(batch, _application_day(rng, last_year))
        story.review(batch)
        story.close("not_certified", date(last_year, 12, 8), FAILED_REASON)
        back = _between(rng, date(today.year, 1, 5), date(today.year, 2, 28))
        if has_plan:
            story.step("coaching", back, reason="纳入一企一策辅导")
        else:
            story.step("reserve", back, entry_reason=2, reason="上年申报未通过")
        return
    if has_plan and rng.random() < 0.7:
        story.step("coaching", story.last + timedelta(days=rng.randint(20, 120)))
    chance = 0.3 if spec["profile"] == "strong" else 0.12
    if rng.random() >= chance:
        return
    first, second = batches[(today.year, FIRST)], batches[(today.year, SECOND)]
    if story.last < date(today.year, 8, 20):
        if story.apply(first, _application_day(rng, today.year)):
            story.review(first)
    elif second.opens_on <= today:
        story.apply(second, _between(rng, second.opens_on, min(today, second.closes_on)))


def _listing_story(rng, story: _Story, spec: dict, abbr: str) -> None:
    route = rng.choices([r for r, _ in LISTING_ROUTES], [w for _, w in LISTING_ROUTES])[0]
    start = story.today - timedelta(days=rng.randint(200, 300 * len(route)))
    story.step("pool", max(start, spec["established"]), reason="列入上市后备资源库")
    for code in route[1:]:
        on = story.last + timedelta(days=rng.randint(90, 240))
        year = min(on, story.today).year
        number = LISTING_DOCUMENTS[code].format(city=abbr, year=year, n=rng.randint(1, 60))
        if not story.step(code, on, document_number=number, document_on=min(on, story.today)):
            break


def _change_reports(rng, firm: Firm, story: _Story, former: list, today: date) -> list:
    """Return the change reports of a certified firm: its renames, and now and then a change."""
    held = [
        (a.issued_on, a.result_on if a.status == "cancelled" else a.expires_on)
        for a in story.applications
        if a.issued_on is not None
    ]

    def certified_on(day: date) -> bool:
        return any(start <= day <= end for start, end in held)

    changes = [
        ("name", name.changed_on, f"{name.name} → {firm.name}")
        for name in former
        if name.changed_on and certified_on(name.changed_on)
    ]
    recent = today - timedelta(days=rng.randint(20, 240))
    if rng.random() < 0.08 and certified_on(recent):
        kind, description = rng.choice(CHANGES)
        changes.append((kind, recent, description))
    reports = []
    for kind, changed_on, description in changes:
        due = change_report_due(changed_on)
        report = ChangeReport(
            firm_id=firm.id,
            kind=kind,
            changed_on=changed_on,
            description=description,
            due_on=due,
        )
        # Older changes were reported in time; the latest may still be open, or overdue.
        reported = changed_on + timedelta(days=rng.randint(15, 80))
        if reported <= today and (due < today - timedelta(days=60) or rng.random() < 0.4):
            report.reported_on = reported
            report.document_number = f"桂科高备〔{reported.year}〕{rng.randint(1, 300)}号"
        reports.append(report)
    return reports


def _snapshot_pending(objects: list, today: date) -> None:
    """Give this year's open applications the firm's assessment (older ones predate it)."""
    pending = [
        o
        for o in objects
        if isinstance(o, CertificationApplication) and o.status in PENDING_STATUSES
    ]
    if not pending:
        return
    refresh_assessments({application.firm_id for application in pending}, today)
    for application in pending:
        snapshot, verdict = assessment_snapshot(application.firm_id)
        application.assessment_snapshot, application.assessment_verdict = snapshot, verdict


def make_enrollments(
    seed: int, batch: list[tuple[Firm, dict]], objects: list, today: date, city_name: str
) -> tuple[list[Enrollment], list[tuple]]:
    """Return the demo enrollments (with their transitions) of a batch of firms, and the events
    of their certificates for `record_certificates` once the enrollments are flushed.

    Their certification applications and change reports are added to the session with them.
    """
    pipeline = Pipeline()
    batches = demo_batches(today)
    quals: dict[int, list[Qualification]] = {}
    former: dict[int, list[FirmFormerName]] = {}
    for obj in objects:
        if isinstance(obj, Qualification):
            quals.setdefault(obj.firm_id, []).append(obj)
        elif isinstance(obj, FirmFormerName):
            former.setdefault(obj.firm_id, []).append(obj)
    enrollments, extra, events = [], [], []
    for firm, spec in batch:
        rng = random.Random(f"{seed}-enrollment-{spec['name']}")
        held = quals.get(firm.id, [])
        certificates = sorted(spec.get("hte_certificates", []), key=lambda q: q.year)
        stories = []
        hte = _Story(pipeline, "hte", firm, today)
        if certificates:
            _certified_story(rng, hte, certificates, spec, batches)
            extra += _change_reports(rng, firm, hte, former.get(firm.id, []), today)
        elif spec["profile"] in ("strong", "near") and not spec["is_incubator"]:
            has_sme = any(q.tier == "tech_sme" for q in held)
            plan, measures, manager = plan_gate_facts(firm.id, today.year)
            has_plan = plan and measures > 0 and manager
            _reserve_story(rng, hte, spec, has_sme, has_plan, batches)
        elif spec["profile"] == "mid" and rng.random() < 0.1:
            hte.step("prospect", today - timedelta(days=rng.randint(10, 300)))
        stories.append(hte)
        extra += hte.applications
        events += [(firm.id, *event) for event in hte.certificate_events]
        share = LISTING_SHARE["above_scale" if spec["above_scale"] else "certified"]
        if (spec["above_scale"] or certificates) and rng.random() < share:
            listing = _Story(pipeline, "listing", firm, today)
            _listing_story(rng, listing, spec, city_name[0])
            stories.append(listing)
        enrollments += [e for e in (s.done() for s in stories) if e is not None]
    _snapshot_pending(extra, today)
    # Added last: a query above would otherwise flush an enrollment still being written.
    db.session.add_all(extra)
    return enrollments, events


def record_certificates(events: list[tuple]) -> int:
    """Record the certificates of flushed enrollments through certification; count them."""
    recorded = 0
    for firm_id, what, *details in events:
        if what == "issued":
            application, transition, number, issued = details
            record_certificate(
                firm_id,
                issued,
                number,
                "batch",
                application_id=application.id,
                transition_id=transition.id,
                document=application.batch.label,
            )
            recorded += 1
        else:
            status, on, reason, ground = details
            end_current_certificate(firm_id, status, on, reason=reason, ground=ground)
    return recorded
