"""The pipeline's pure rules: every allowed and refused move, each gate, expiry and stage days."""

from dataclasses import replace
from datetime import date

import pytest

from crm.firms.rules import certificate_expiry
from crm.pipeline.rules import (
    HTE,
    LISTING,
    PROGRAMMES,
    BatchFacts,
    MoveFacts,
    check_move,
    days_in_stages,
    entry_stages,
    move_inputs,
    route_refusal,
    suggested_entry_reason,
)

TODAY = date(2026, 6, 15)
OPEN_BATCH = BatchFacts("2026 年第一批", date(2026, 5, 21), date(2026, 9, 5))
#: Facts under which every gate is satisfied.
GOOD = MoveFacts(
    today=TODAY,
    reason="企业申请",
    entry_reason=4,
    document_number="梧金融〔2026〕3号",
    document_on=date(2026, 6, 1),
    batch=OPEN_BATCH,
    certificate_number="GR202645000123",
    certificate_issued_on=date(2026, 6, 10),
    cancel_ground="unreported_change",
    has_district=True,
    has_tech_field=True,
    plan_exists=True,
    plan_measures=2,
    plan_has_manager=True,
    certificate_expires_on=date(2026, 12, 7),
    sponsor_broker="桂海证券股份有限公司",
)

ALLOWED = [
    (programme, source, target)
    for programme, spec in PROGRAMMES.items()
    for source, targets in spec.moves.items()
    for target in sorted(targets)
]
REFUSED = [
    (programme, source.code, target.code)
    for programme, spec in PROGRAMMES.items()
    for source in spec.stages
    for target in spec.stages
    if target.code not in spec.targets(source.code)
]


def facts(**changes) -> MoveFacts:
    return replace(GOOD, **changes)


@pytest.mark.parametrize(("programme", "source", "target"), ALLOWED)
def test_every_allowed_move_passes_when_its_gate_is_met(programme, source, target):
    good = GOOD
    if target == "lapsed":
        good = facts(certificate_expires_on=date(2026, 6, 1))
    assert check_move(programme, source, target, good) == []


@pytest.mark.parametrize(("programme", "source", "target"), REFUSED)
def test_every_move_outside_the_graph_is_refused(programme, source, target):
    messages = check_move(programme, source, target, GOOD)
    assert len(messages) == 1
    if PROGRAMMES[programme].stage(source).is_terminal:
        assert messages[0].endswith("已结束，不能再变更阶段")
    else:
        assert messages[0].startswith("不能从")
    assert route_refusal(programme, source, target) == messages[0]


def test_the_graph_refusal_names_both_stages():
    assert check_move(HTE, "prospect", "certified", GOOD) == [
        "不能从「意向企业」直接转入「已认定高企」"
    ]
    assert check_move(LISTING, "pool", "listed", GOOD) == ["不能从「入库培育」直接转入「上市」"]


def test_a_new_enrollment_starts_at_the_entry_stage_or_the_reserve_pool():
    assert entry_stages(HTE) == ("prospect", "reserve")
    assert entry_stages(LISTING) == ("pool",)
    assert check_move(HTE, None, "prospect", GOOD) == []
    assert check_move(HTE, None, "reserve", GOOD) == []
    assert check_move(LISTING, None, "pool", GOOD) == []
    assert check_move(HTE, None, "applied", GOOD) == [
        "新入库企业只能进入「意向企业」或「高企后备库」"
    ]
    assert check_move(LISTING, None, "sign", GOOD) == ["新入库企业只能进入「入库培育」"]


def test_unknown_stages_are_refused():
    assert check_move(HTE, "prospect", "nowhere", GOOD) == ["未知的阶段：nowhere"]
    assert check_move(HTE, "nowhere", "reserve", GOOD) == ["未知的阶段：nowhere"]


# --- Gates, one requirement at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry_reason": None}, "进入高企后备库需选择入库理由"),
        ({"entry_reason": 9}, "进入高企后备库需选择入库理由"),
        ({"has_district": False}, "进入高企后备库需填写企业所属县（市、区）"),
        ({"has_tech_field": False}, "进入高企后备库需填写企业技术领域"),
    ],
)
def test_reserve_gate(change, message):
    assert check_move(HTE, "prospect", "reserve", facts(**change)) == [message]


def test_reserve_gate_lists_everything_missing_at_once():
    bare = MoveFacts(today=TODAY)
    assert len(check_move(HTE, None, "reserve", bare)) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"plan_exists": False}, "进入一企一策辅导需先制定本年度辅导方案"),
        ({"plan_measures": 0}, "辅导方案至少需要 1 项辅导措施"),
        ({"plan_has_manager": False}, "辅导方案需指定负责的服务专员"),
    ],
)
def test_coaching_gate(change, message):
    assert check_move(HTE, "reserve", "coaching", facts(**change)) == [message]


def test_application_needs_a_batch():
    assert check_move(HTE, "coaching", "applied", facts(batch=None)) == ["申报需选择认定批次"]


def test_application_only_inside_the_batch_window():
    closed = BatchFacts("2026 年第一批", date(2026, 5, 21), date(2026, 6, 1))
    assert check_move(HTE, "coaching", "applied", facts(batch=closed)) == [
        "认定批次「2026 年第一批」的申报时间为 2026-05-21 至 2026-06-01"
    ]
    on_last_day = facts(batch=closed, today=date(2026, 6, 1))
    assert check_move(HTE, "coaching", "applied", on_last_day) == []


def test_application_needs_the_last_three_years_of_figures():
    messages = check_move(HTE, "reserve", "applied", facts(missing_figure_years=(2023, 2025)))
    assert messages == ["申报需有近三个会计年度的财务数据，缺少 2023、2025 年度"]


def test_a_firm_cancelled_this_year_cannot_apply_until_next_year():
    cancelled = facts(cancelled_on=date(2026, 3, 2))
    assert check_move(HTE, "reserve", "applied", cancelled) == [
        "企业于 2026-03-02 被取消高企资格，当年不得再次申报"
    ]
    next_year = facts(cancelled_on=date(2025, 3, 2))
    assert check_move(HTE, "reserve", "applied", next_year) == []


def test_re_application_only_in_the_expiry_year():
    early = facts(certificate_expires_on=date(2027, 12, 7))
    assert check_move(HTE, "certified", "applied", early) == [
        "高企证书有效期至 2027-12-07，到期当年方可重新申报"
    ]
    unknown = facts(certificate_expires_on=None)
    assert check_move(HTE, "certified", "applied", unknown) == [
        "高企证书有效期至 未知，到期当年方可重新申报"
    ]
    assert check_move(HTE, "certified", "applied", GOOD) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"certificate_number": " "}, "认定为高企需填写证书编号"),
        ({"certificate_issued_on": None}, "认定为高企需填写发证日期"),
        ({"certificate_issued_on": date(2026, 6, 16)}, "发证日期不能晚于今天"),
    ],
)
def test_certified_gate(change, message):
    assert check_move(HTE, "review", "certified", facts(**change)) == [message]


def test_a_certificate_lapses_only_after_its_expiry():
    assert check_move(HTE, "certified", "lapsed", facts(certificate_expires_on=TODAY)) == [
        "证书有效期至 2026-06-15，尚未到期"
    ]
    assert (
        check_move(HTE, "certified", "lapsed", facts(certificate_expires_on=date(2026, 6, 14)))
        == []
    )


@pytest.mark.parametrize(
    ("programme", "source", "target", "name"),
    [
        (HTE, "review", "not_certified", "未通过"),
        (HTE, "certified", "cancelled", "取消资格"),
        (HTE, "reserve", "moved", "迁出"),
        (HTE, "coaching", "closed", "注销"),
        (LISTING, "sign", "withdrawn", "撤回/终止"),
    ],
)
def test_exits_need_a_reason(programme, source, target, name):
    assert check_move(programme, source, target, facts(reason="  ")) == [
        f"转入「{name}」需填写原因"
    ]


def test_a_cancellation_needs_its_ground_and_the_move_form_asks_for_it():
    assert check_move(HTE, "certified", "cancelled", facts(cancel_ground="")) == [
        "取消资格需选择取消依据（《高新技术企业认定管理办法》第十九条）"
    ]
    assert check_move(HTE, "certified", "cancelled", facts(cancel_ground="fraud")) == []
    assert move_inputs(HTE, "cancelled").split() == ["document", "cancel_ground"]
    assert move_inputs(HTE, "applied").split() == ["batch"]
    assert move_inputs(LISTING, "sign").split() == ["document"]


@pytest.mark.parametrize(
    "target",
    [s.code for s in PROGRAMMES[LISTING].stages if s.needs_document and s.code != "listed"],
)
def test_listing_stages_need_a_document_number_and_date(target):
    source = next(s for s, targets in PROGRAMMES[LISTING].moves.items() if target in targets)
    name = PROGRAMMES[LISTING].stage(target).name
    missing = check_move(LISTING, source, target, facts(document_number="", document_on=None))
    assert missing == [f"转入「{name}」需填写证明文件文号", f"转入「{name}」需填写证明文件日期"]
    future = check_move(LISTING, source, target, facts(document_on=date(2026, 7, 1)))
    assert future == ["证明文件日期不能晚于今天"]


def test_listing_on_an_exchange_needs_a_document():
    assert check_move(LISTING, "review", "listed", facts(document_number="")) == [
        "转入「上市」需填写证明文件文号"
    ]


@pytest.mark.parametrize("source", ["pool", "reform", "neeq"])
def test_signing_with_a_broker_needs_the_sponsor_broker(source):
    assert check_move("listing", source, "sign", facts(sponsor_broker=" ")) == [
        "转入「券商签约」需先在上市案卷中填写保荐券商"
    ]
    assert check_move("listing", source, "sign", GOOD) == []


def test_the_pool_and_the_hte_stages_need_no_document():
    bare = facts(document_number="", document_on=None)
    assert check_move(LISTING, None, "pool", bare) == []
    assert check_move(HTE, "applied", "review", bare) == []


# --- Suggested entry reasons, expiry and days -----------------------------------------------------


def test_a_lapsed_firm_is_a_reserve_candidate_with_reason_1():
    assert suggested_entry_reason("lapsed") == 1
    assert suggested_entry_reason("not_certified") == 2
    assert suggested_entry_reason("prospect") is None
    assert suggested_entry_reason(None) is None


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        (date(2023, 12, 8), date(2026, 12, 7)),
        (date(2024, 2, 29), date(2027, 2, 28)),
        (date(2024, 1, 1), date(2026, 12, 31)),
        (date(2025, 3, 1), date(2028, 2, 29)),
    ],
)
def test_certificate_expiry_is_three_years_less_a_day(issued, expires):
    assert certificate_expiry(issued) == expires


def test_days_in_stages_sums_the_time_in_each_stage_until_today():
    moves = [
        ("prospect", date(2026, 1, 1)),
        ("reserve", date(2026, 1, 11)),
        ("coaching", date(2026, 2, 10)),
        ("reserve", date(2026, 3, 1)),
    ]
    assert days_in_stages(moves, date(2026, 3, 6)) == {
        "prospect": 10,
        "reserve": 30 + 5,
        "coaching": 19,
    }


def test_days_in_stages_of_no_moves_is_empty_and_never_negative():
    assert days_in_stages([], TODAY) == {}
    assert days_in_stages([("prospect", date(2026, 7, 1))], TODAY) == {"prospect": 0}
