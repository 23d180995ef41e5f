"""Demo 一企一策 plans and visits: what the account managers have been doing with their firms.

Near misses and strong firms without a certificate get a plan for the year about half the time
(those are the firms the enrollments then put in coaching); most staff-followed firms have a few
logged visits. Drawn from a stream of its own per firm, so adding them changes no other demo value.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from crm.coaching.models import Activity, CoachingMeasure, CoachingMilestone, CoachingPlan
from crm.core import bulk, clock
from crm.core.audit import BulkAudit
from crm.extensions import db
from crm.firms.models import Firm

PLAN_SHARE = {"strong": 0.35, "near": 0.55}
VISIT_SHARE = {"strong": 0.9, "near": 0.9, "mid": 0.6, "far": 0.25, "young": 0.3}
DIAGNOSES = {
    "strong": ["各项认定条件基本满足，需规范研发费用辅助账", "知识产权与主营产品的对应关系需梳理"],
    "near": [
        "近三年研发费用占比略低于认定标准",
        "科技人员占比接近 10%，需补充科技人员名册与社保证明",
        "Ⅱ类知识产权数量不足，需加快软件著作权、实用新型申请",
        "高新技术产品（服务）收入归集不完整",
    ],
}
MEASURES = [
    ("建立研发费用辅助账并按项目归集", "企业财务负责人"),
    ("梳理核心知识产权与主要产品的对应关系", "服务专员"),
    ("申请 2 项实用新型专利", "企业技术负责人"),
    ("组织参加高企认定政策培训", "县区科技局"),
    ("聘请中介机构开展申报前专项审计", "企业财务负责人"),
    ("完善科技成果转化奖励制度", "企业人事负责人"),
    ("与高校共建研发平台", "企业技术负责人"),
]
INTERMEDIARIES = ["广西某知识产权代理有限公司", "梧州某会计师事务所", "某科技咨询服务有限公司"]
VISIT_NOTES = [
    "了解企业研发项目进展，宣讲高企认定政策",
    "核对近三年财务数据与研发投入情况",
    "座谈企业知识产权布局，建议加快专利申请",
    "走访生产车间，了解新产品开发与市场情况",
    "电话沟通申报材料准备进度",
]
#: What the older entries of a large demo's contact log say, with how they were made.
LOG_ENTRIES = [
    ("phone", "电话了解企业经营情况"),
    ("phone", "电话提醒填报年度统计数据"),
    ("online", "线上推送科技政策汇编"),
    ("online", "答复企业关于研发费用加计扣除的咨询"),
    ("visit", "走访企业，了解生产经营与用工情况"),
    ("meeting", "参加县区科技政策宣讲会"),
    ("other", "协助企业对接高校技术专家"),
]
LOG_WEIGHTS = [4, 2, 2, 2, 3, 1, 1]
#: How far back the contact log goes, in days.
LOG_DAYS = 3 * 365
#: Firms whose contact log is written per round, between checkpoints.
LOG_PAGE = 2000


def make_coaching(seed: int, firm: Firm, spec: dict, today: date, has_certificate: bool) -> list:
    """Return the demo plan (with measures and milestones) and visits of one firm."""
    rng = random.Random(f"{seed}-coaching-{spec['name']}")
    objects: list = []
    profile = spec["profile"]
    if (
        not has_certificate
        and not spec["is_incubator"]
        and rng.random() < PLAN_SHARE.get(profile, 0)
    ):
        objects.append(_plan(rng, firm, profile, today))
    if rng.random() < VISIT_SHARE.get(profile, 0):
        objects += _visits(rng, firm, spec, today)
    return objects


def _plan(rng: random.Random, firm: Firm, profile: str, today: date) -> CoachingPlan:
    start = date(today.year, 1, 10) + timedelta(days=rng.randint(0, 60))
    diagnosis = rng.sample(DIAGNOSES[profile], k=min(2, len(DIAGNOSES[profile])))
    plan = CoachingPlan(
        firm_id=firm.id,
        year=today.year,
        status="active",
        diagnosis="\n".join(diagnosis),
        goal=f"{today.year} 年申报高新技术企业认定并通过",
        liaison_leader="分管副局长",
        manager_id=firm.manager_id,
        county_contact="县区科技局业务股",
        firm_contact="企业总经理",
        intermediary=rng.choice(INTERMEDIARIES),
    )
    for title, owner in rng.sample(MEASURES, k=rng.randint(2, 4)):
        due = start + timedelta(days=rng.randint(30, 300))
        done = due <= today and rng.random() < 0.7
        plan.measures.append(
            CoachingMeasure(
                firm_id=firm.id,
                title=title,
                owner=owner,
                due_on=due,
                status="done" if done else ("in_progress" if due <= today else "planned"),
                done_on=due - timedelta(days=rng.randint(0, 10)) if done else None,
                result="已按计划完成" if done else None,
            )
        )
    for title, month in (("完成申报前自评", 4), ("提交认定申报材料", 8)):
        due = date(today.year, month, 28)
        plan.milestones.append(
            CoachingMilestone(
                firm_id=firm.id,
                title=title,
                due_on=due,
                done_on=due - timedelta(days=rng.randint(0, 14)) if due <= today else None,
            )
        )
    return plan


def _visits(rng: random.Random, firm: Firm, spec: dict, today: date) -> list[Activity]:
    earliest = max(spec["established"], today - timedelta(days=540))
    span = max(1, (today - earliest).days)
    visits = []
    for _ in range(rng.randint(1, 4)):
        on = earliest + timedelta(days=rng.randint(0, span))
        follow_up = rng.random() < 0.4
        visits.append(
            Activity(
                firm_id=firm.id,
                kind=rng.choices(["visit", "phone", "meeting", "online"], [5, 3, 1, 1])[0],
                occurred_on=on,
                participants="服务专员、企业负责人",
                notes=rng.choice(VISIT_NOTES),
                follow_up="补充提供近三年研发费用明细" if follow_up else None,
                follow_up_due_on=on + timedelta(days=30) if follow_up else None,
                follow_up_done=follow_up and on + timedelta(days=30) < today,
                created_by_id=firm.manager_id,
            )
        )
    return visits


def write_contact_log(
    seed: int, count: int, today: date, checkpoint: Callable[[], None] | None = None
) -> int:
    """Spread `count` older contacts over the firms, written in bulk and audited; return `count`.

    A large demo needs the activities the performance budgets speak of (a million for 100,000
    firms), far more than the visits above; they are inserted a page of firms at a time, each
    page's rows and audit entries in a few statements, `checkpoint` called after each page.
    Each firm's entries come from a stream of its own.
    """
    total = db.session.scalar(select(func.count(Firm.id)))
    if not total or count <= 0:
        return 0
    share, extra = divmod(count, total)
    table = Activity.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    columns = select(Firm.id, Firm.name, Firm.manager_id, Firm.established_on).order_by(Firm.id)
    done, last_id = 0, 0
    while page := db.session.execute(columns.where(Firm.id > last_id).limit(LOG_PAGE)).all():
        last_id = page[-1][0]
        now = clock.utcnow()
        rows = []
        for n, (firm_id, name, manager_id, established) in enumerate(page, start=done):
            rng = random.Random(f"{seed}-log-{name}")
            earliest = max(established or today, today - timedelta(days=LOG_DAYS))
            span = max(0, (today - earliest).days)
            for _ in range(share + (n < extra)):
                kind, notes = rng.choices(LOG_ENTRIES, LOG_WEIGHTS)[0]
                rows.append(
                    {
                        "firm_id": firm_id,
                        "kind": kind,
                        "occurred_on": earliest + timedelta(days=rng.randint(0, span)),
                        "participants": "服务专员",
                        "notes": notes,
                        "follow_up": None,
                        "follow_up_due_on": None,
                        "follow_up_done": False,
                        "created_by_id": manager_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        with bulk.collection_paused():
            ids = db.session.execute(statement, rows).scalars().all()
            audit = BulkAudit()
            audit.created_rows(
                "activities",
                [(id_, row["firm_id"], row) for id_, row in zip(ids, rows, strict=True)],
            )
            audit.write()
        done += len(page)
        if checkpoint is not None:
            checkpoint()
    return count
