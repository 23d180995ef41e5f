"""The importer against a real database: messy county workbooks, the dry run, apply, undo."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import AuditEntry, audit_source, snapshot
from crm.dashboard import funnel
from crm.excel import services
from crm.excel.apply import ImportRefused
from crm.excel.dryrun import stored_file
from crm.excel.models import ImportRow
from crm.excel.stored import Describer
from crm.excel.undo import UndoRefused, undo_batch
from crm.extensions import db
from crm.firms.models import (
    Certificate,
    Firm,
    FirmFormerName,
    FirmYear,
    IPItem,
    Qualification,
)
from crm.pipeline.services import MoveInputs, enroll_firm
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock(app, tmp_path, monkeypatch):
    # Uploaded files go to the test's own instance folder.
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def workbook(tmp_path, rows, name="county.xlsx", merges=(), title="Sheet1"):
    """Write `rows` (lists of cell values) to an xlsx and return its path."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    path = tmp_path / name
    book.save(path)
    return path


def preview(path, kind="firms", user=None, **options):
    batch = services.start_import_from_path(kind, path, user, options)
    result = services.run_preview(batch, annotated=path.with_name("annotated.xlsx"))
    db.session.commit()
    return batch, result


def apply(batch, _result=None, **options):
    batch.options = {**batch.options, **options}
    services.run_apply(batch)
    db.session.commit()
    return batch


def rows_of(batch) -> dict[int, ImportRow]:
    return {
        r.row_number: r
        for r in db.session.scalars(select(ImportRow).where(ImportRow.batch_id == batch.id))
    }


def firm_audit():
    """Count the audit entries about firms (the seeded subsidy rules have their own)."""
    return AuditEntry.firm_id


def messages(row: ImportRow) -> list[str]:
    return [f"{letter}:{message}" for letter, _level, message in row.issues or []]


def county_rows(code_a, code_b):
    return [
        ["2025年梧州市万秀区高新技术企业后备库名单"],
        ["填报单位：万秀区科技局", None, None, None, None, "填报日期：2025年12月1日"],
        [
            "序号",
            "企业名称",
            "统一社会信用代码",
            "所属县（市、区）",
            "成立日期",
            "2024年度主要经济指标",
            None,
        ],
        [None, None, None, None, None, "营业收入（万元）", "研发费用（万元）"],
        [1, "梧州甲科技有限公司", code_a, "梧州市万秀区", "2016年5月8日", "1,234.5", 61.7],
        [2, "梧州乙新材料有限公司", code_b, "岑溪", date(2018, 3, 1), 860, "43"],
        [None, None, None, None, None, None, None],
        ["合计", None, None, None, None, 2094.5, 104.7],
        ["注：数据来源于企业填报。"],
    ]


def test_a_messy_county_workbook_is_read_and_dry_run_without_writing(tmp_path):
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    merges = ["A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3"]
    path = workbook(tmp_path, county_rows(code_a, code_b), merges=merges)
    batch, _plan = preview(path)
    assert batch.header_rows == [3, 4]
    assert batch.skipped_rows["total"] == 1 and batch.skipped_rows["footnote"] == 1
    assert batch.counts["create"] == 2 and batch.counts["rejected"] == 0
    labels = {c["letter"]: (c["label"], c["key"], c["year"]) for c in batch.columns}
    assert labels["F"] == ("2024年度主要经济指标 / 营业收入（万元）", "sales_revenue", 2024)
    assert "A" not in labels  # the 序号 column is dropped
    first = rows_of(batch)[5]
    assert first.action == "create" and first.firm_name == "梧州甲科技有限公司"
    shown = {label: new for label, _old, new in Describer().changes(first.writes)}
    assert shown["所属县（市、区）"] == "万秀区" and shown["成立日期"] == "2016-05-08"
    assert shown["2024 年销售收入"] == "1,234.50 万元"
    # Nothing but the batch was written.
    assert db.session.scalar(select(func.count(Firm.id))) == 0


def test_applying_creates_the_firms_with_amounts_in_yuan_and_an_audit_trail(tmp_path):
    code_a, code_b = factories.make_uscc("450403"), factories.make_uscc("450481")
    merges = ["A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3"]
    batch, plan = preview(workbook(tmp_path, county_rows(code_a, code_b), merges=merges))
    apply(batch, plan)
    firm = db.session.scalar(select(Firm).filter_by(uscc=code_a))
    assert firm.name == "梧州甲科技有限公司" and firm.district.name == "万秀区"
    assert firm.established_on == date(2016, 5, 8)
    year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    assert year.sales_revenue == Decimal("12345000.00") and year.rd_expense == Decimal("617000.00")
    other = db.session.scalar(select(Firm).filter_by(uscc=code_b))
    assert other.district.name == "岑溪市"
    firm_entries = select(AuditEntry).where(AuditEntry.firm_id.is_not(None))
    assert {e.source for e in db.session.scalars(firm_entries)} == {f"import:{batch.id}"}
    created = db.session.scalars(
        select(AuditEntry.entity).where(
            AuditEntry.action == "create", AuditEntry.firm_id.is_not(None)
        )
    ).all()
    assert sorted(created) == ["firm_years", "firm_years", "firms", "firms"]
    assert batch.status == "applied"


@pytest.mark.parametrize("columns_named", [True, False], ids=["columns named", "all read"])
def test_created_rows_are_audited_with_the_values_they_were_stored_with(tmp_path, columns_named):
    header = ["企业名称", "统一社会信用代码", "注册资本（万元）", "是否规上企业", "成立日期"]
    header += ["2024年营业收入（万元）", "2024年职工总数"]
    path = workbook(
        tmp_path,
        [
            header,
            ["梧州审计甲有限公司", factories.make_uscc(), 300, "是", "2016-05-08", 1.23456, 80],
            ["梧州审计乙有限公司", factories.make_uscc(), "12.5", "否", None, 0, None],
        ],
    )
    batch, plan = preview(path)
    # The dry run names the columns its creates fill; the apply reads only those.
    assert batch.options["written"] == {
        "firms": [
            "established_on",
            "is_above_scale",
            "name",
            "registered_capital",
            "uscc",
            "uscc_check_accepted",
        ],
        "firm_years": ["sales_revenue", "total_staff", "year"],
    }
    if not columns_named:  # a batch dry-run before the columns were named
        batch.options = {k: v for k, v in batch.options.items() if k != "written"}
    apply(batch, plan)
    assert (
        db.session.scalar(select(Firm.is_incubator).filter_by(name="梧州审计乙有限公司")) is False
    )
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "create", AuditEntry.firm_id.is_not(None))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.entity for e in entries] == ["firms", "firms", "firm_years", "firm_years"]
    models = {"firms": Firm, "firm_years": FirmYear}
    for entry in entries:
        row = db.session.get(models[entry.entity], entry.entity_id)
        values = {c.key: getattr(row, c.key) for c in row.__table__.columns}
        # What the listener would have kept of the row as stored.
        assert json.loads(entry.new_value) == json.loads(snapshot(values))
        assert entry.firm_id == (row.id if entry.entity == "firms" else row.firm_id)
    first = json.loads(entries[0].new_value)
    assert first["registered_capital"] == "3000000" and first["is_above_scale"] == "true"
    assert first["established_on"] == "2016-05-08" and "park_id" not in first
    years = {e.entity_id: json.loads(e.new_value) for e in entries if e.entity == "firm_years"}
    assert sorted(y["sales_revenue"] for y in years.values()) == ["0", "12345.60"]


def firm_sheet(tmp_path, *rows, header=None, name="firms.xlsx"):
    header = header or ["企业名称", "统一社会信用代码", "法定代表人", "注册资本（万元）", "地址"]
    return workbook(tmp_path, [header, *rows], name=name)


def test_matching_by_code_then_name_then_former_name_and_empty_cells_keep_values(tmp_path):
    by_code = factories.make_firm(name="梧州码匹配有限公司", legal_representative="甲")
    by_name = factories.make_firm(name="梧州名匹配有限公司", uscc=None, address="旧地址")
    by_former = factories.make_firm(name="梧州新名有限公司", uscc=None)
    db.session.add(FirmFormerName(firm_id=by_former.id, name="梧州旧名有限公司"))
    db.session.commit()
    new_code = factories.make_uscc()
    path = firm_sheet(
        tmp_path,
        ["梧州码匹配有限公司", by_code.uscc, "乙", None, None],
        ["梧州名匹配有限公司", new_code, None, 300, None],
        ["梧州旧名有限公司", None, None, None, "新地址"],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert [rows[n].firm_id for n in (2, 3, 4)] == [by_code.id, by_name.id, by_former.id]
    assert [rows[n].action for n in (2, 3, 4)] == ["update", "update", "update"]
    assert rows[4].issues[0][2].startswith("「梧州旧名有限公司」是该企业的曾用名")
    apply(batch, plan)
    db.session.expire_all()
    assert db.session.get(Firm, by_code.id).legal_representative == "乙"
    named = db.session.get(Firm, by_name.id)
    assert named.uscc == new_code and named.registered_capital == Decimal("3000000.00")
    assert named.address == "旧地址"  # the empty cell did not wipe it
    assert db.session.get(Firm, by_former.id).name == "梧州新名有限公司"


def test_a_code_matching_a_firm_of_another_name_is_a_rename_to_confirm(tmp_path):
    firm = factories.make_firm(name="梧州老字号有限公司")
    db.session.commit()
    path = firm_sheet(tmp_path, ["广西新字号科技有限公司", firm.uscc, None, None, None])
    batch, plan = preview(path)
    assert rows_of(batch)[2].action == "rename"
    assert batch.counts["rename"] == 1
    apply(batch, plan, confirmed_renames=[])
    assert db.session.get(Firm, firm.id).name == "梧州老字号有限公司"
    assert rows_of(batch)[2].action == "skipped"

    again, plan = preview(path)
    apply(again, plan, confirmed_renames=[2])
    db.session.expire_all()
    assert db.session.get(Firm, firm.id).name == "广西新字号科技有限公司"
    former = db.session.scalar(select(FirmFormerName).filter_by(firm_id=firm.id))
    assert (former.name, former.changed_on) == ("梧州老字号有限公司", NOW.date())


def test_rows_for_the_same_firm_are_flagged_and_bad_cells_say_where(tmp_path):
    code = factories.make_uscc()
    path = firm_sheet(
        tmp_path,
        ["梧州重复有限公司", code, None, None, None],
        ["梧州重复有限公司", None, None, None, None],
        ["梧州坏码有限公司", "91450403ABC", None, "三百", None],
        [None, None, "无名氏", None, None],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "create" and not rows[2].issues
    assert "A:企业名称与第 2 行相同：同一企业只按第 2 行导入，本行未导入" in messages(rows[3])
    bad = messages(rows[4])
    assert any(m.startswith("B:") and "统一社会信用代码应为 18 位" in m for m in bad)
    assert any(m.startswith("D:") and "三百" in m for m in bad)
    assert rows[5].action == "rejected"
    assert batch.counts == {"create": 1, "update": 0, "rename": 0, "unchanged": 0, "rejected": 3}


def test_a_wrong_check_character_is_a_warning_and_is_accepted_on_import(tmp_path):
    good = factories.make_uscc()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    batch, plan = preview(firm_sheet(tmp_path, ["梧州校验有限公司", wrong, None, None, None]))
    row = rows_of(batch)[2]
    assert row.action == "create"
    assert row.issues[0][:2] == ["B", "warning"] and "校验位" in row.issues[0][2]
    apply(batch, plan)
    firm = db.session.scalar(select(Firm).filter_by(uscc=wrong))
    assert firm.uscc_check_accepted is True


def test_errors_import_nothing_unless_only_valid_rows_are_asked_for(tmp_path):
    path = firm_sheet(
        tmp_path,
        ["梧州好行有限公司", factories.make_uscc(), None, None, None],
        ["梧州坏行有限公司", "not-a-code", None, None, None],
    )
    batch, plan = preview(path)
    with pytest.raises(ImportRefused, match="有 1 行存在错误，未导入任何数据"):
        services.run_apply(batch)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Firm.id))) == 0
    assert db.session.scalar(select(func.count(firm_audit()))) == 0

    again, plan = preview(path)
    apply(again, plan, valid_only=True)
    assert db.session.scalars(select(Firm.name)).all() == ["梧州好行有限公司"]


def test_a_failure_while_writing_leaves_the_database_as_it_was(app, tmp_path, monkeypatch):
    from crm.jobs import queue

    path = firm_sheet(
        tmp_path,
        ["梧州甲有限公司", factories.make_uscc(), None, None, None],
        ["梧州乙有限公司", factories.make_uscc(), None, None, None],
    )
    batch = services.start_import_from_path("firms", path, None)
    services.run_preview(batch)
    db.session.commit()
    services.request_apply(batch, None, valid_only=False, confirmed=[])
    db.session.commit()
    original = services.apply_stored

    def write_then_fail(batch, context, **kwargs):
        original(batch, context, **kwargs)
        assert db.session.scalar(select(func.count(Firm.id))) == 2  # written, not committed
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(services, "apply_stored", write_then_fail)
    assert queue.claim_next("test-worker").id == batch.job_id
    job = queue.run_job(batch.job_id, "test-worker")
    assert job.status == "failed" and "磁盘已满" in job.message
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Firm.id))) == 0
    assert db.session.scalar(select(func.count(firm_audit()))) == 0
    assert db.session.get(type(batch), batch.id).status == "previewed"


def test_undo_removes_what_was_created_and_restores_what_was_changed(tmp_path):
    firm = factories.make_firm(name="梧州原有有限公司", legal_representative="原法人")
    factories.make_year(firm, 2024, sales_revenue=Decimal("1000000"))
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "法定代表人", "2024年营业收入（元）"],
            ["梧州原有有限公司", firm.uscc, "新法人", 2_000_000],
            ["梧州新来有限公司", factories.make_uscc(), "某人", 500_000],
        ],
    )
    batch, plan = preview(path)
    apply(batch, plan)
    assert db.session.scalar(select(func.count(Firm.id))) == 2
    undone = undo_batch(batch, None)
    db.session.commit()
    db.session.expire_all()
    assert undone.deleted == 2 and undone.restored == 2
    assert db.session.scalars(select(Firm.name)).all() == ["梧州原有有限公司"]
    kept = db.session.get(Firm, firm.id)
    assert kept.legal_representative == "原法人"
    year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    assert year.sales_revenue == Decimal("1000000.00")
    assert batch.status == "undone"
    undo_entries = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.source == f"undo:{batch.id}")
    ).all()
    assert sorted(undo_entries) == ["delete", "delete", "update", "update"]


def test_an_existing_firm_gains_a_new_year_audited_and_undone(tmp_path):
    firm = factories.make_firm(name="梧州续报有限公司")
    factories.make_year(firm, 2023, sales_revenue=Decimal("1000000"))
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "2023年营业收入（元）", "2024年营业收入（元）", "2024年职工总数"],
            ["梧州续报有限公司", 1_500_000, 2_000_000.5, 40],
        ],
    )
    batch, plan = preview(path)
    assert rows_of(batch)[2].action == "update"
    apply(batch, plan)
    years = dict(
        db.session.execute(
            select(FirmYear.year, FirmYear.sales_revenue).where(FirmYear.firm_id == firm.id)
        ).all()
    )
    assert years == {2023: Decimal("1500000.00"), 2024: Decimal("2000000.50")}
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.source == f"import:{batch.id}").order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.field) for e in entries] == [("update", "sales_revenue"), ("create", None)]
    added = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    values = {c.key: getattr(added, c.key) for c in added.__table__.columns}
    assert entries[1].entity_id == added.id
    assert json.loads(entries[1].new_value) == json.loads(snapshot(values))
    undone = undo_batch(batch, None)
    db.session.commit()
    db.session.expire_all()
    assert (undone.deleted, undone.restored) == (1, 1)
    kept = db.session.scalars(select(FirmYear).where(FirmYear.firm_id == firm.id)).all()
    assert [(y.year, y.sales_revenue) for y in kept] == [(2023, Decimal("1000000.00"))]


def test_a_firm_imported_again_after_an_undo_does_not_inherit_the_undone_history(tmp_path):
    path = firm_sheet(tmp_path, ["梧州重来有限公司", factories.make_uscc(), "甲", 100, None])
    batch, plan = preview(path)
    apply(batch, plan)
    first = db.session.scalar(select(Firm.id).filter_by(name="梧州重来有限公司"))
    undo_batch(batch, None)
    db.session.commit()
    again, plan = preview(path)
    apply(again, plan)
    second = db.session.scalar(select(Firm.id).filter_by(name="梧州重来有限公司"))
    assert second != first
    history = db.session.scalars(select(AuditEntry.source).where(AuditEntry.firm_id == second))
    assert set(history) == {f"import:{again.id}"}


def test_undo_is_refused_where_a_later_change_touched_the_same_field(tmp_path):
    firm = factories.make_firm(name="梧州后改有限公司", legal_representative="甲")
    db.session.commit()
    path = firm_sheet(tmp_path, ["梧州后改有限公司", firm.uscc, "乙", 100, None])
    batch, plan = preview(path)
    apply(batch, plan)
    manager = factories.make_user("admin", name="后来人")
    with audit_source("web", manager.id):
        db.session.get(Firm, firm.id).legal_representative = "丙"
        db.session.commit()
    with pytest.raises(UndoRefused) as refused:
        undo_batch(batch, None)
    db.session.rollback()
    reason = refused.value.reasons[0]
    assert "「梧州后改有限公司」企业信息的「法定代表人」在导入之后" in reason and "后来人" in reason
    db.session.expire_all()
    kept = db.session.get(Firm, firm.id)
    assert (kept.legal_representative, kept.registered_capital) == ("丙", Decimal("1000000.00"))
    assert batch.status == "applied"


def test_yearly_figures_long_and_wide(tmp_path):
    firm = factories.make_firm(name="梧州指标有限公司")
    db.session.commit()
    long_path = workbook(
        tmp_path,
        [
            ["企业名称", "年度", "销售收入（万元）", "科技人员数", "职工总数"],
            ["梧州指标有限公司", 2023, 1000, 12, 100],
            ["梧州指标有限公司", "2024年", 1200, 15, 110],
            ["梧州无此有限公司", 2024, 1, 1, 1],
        ],
        name="long.xlsx",
    )
    batch, plan = preview(long_path, kind="years")
    rows = rows_of(batch)
    assert rows[2].action == rows[3].action == "create"
    assert "系统中没有企业「梧州无此有限公司」" in messages(rows[4])[0]
    apply(batch, plan, valid_only=True)
    years = {
        y.year: (y.sales_revenue, y.tech_staff)
        for y in db.session.scalars(select(FirmYear).filter_by(firm_id=firm.id))
    }
    assert years == {2023: (Decimal("10000000.00"), 12), 2024: (Decimal("12000000.00"), 15)}

    wide_path = workbook(
        tmp_path,
        [
            ["统一社会信用代码", "2024年销售收入（万元）", "2025年销售收入（万元）"],
            [firm.uscc, 1300, 1500],
        ],
        name="wide.xlsx",
    )
    batch, plan = preview(wide_path, kind="years")
    row = rows_of(batch)[2]
    assert row.action == "update"
    changes = Describer().changes(row.writes)
    assert ("2024 年销售收入", "1,200.00 万元", "1,300.00 万元") in changes
    assert ("2025 年销售收入", None, "1,500.00 万元") in changes


def test_ip_items_are_matched_by_number(tmp_path):
    firm = factories.make_firm(name="梧州专利有限公司")
    factories.make_ip(firm, "invention", number="ZL202310000001.1", status="pending")
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "类型", "专利号", "名称", "授权日期", "法律状态"],
            ["梧州专利有限公司", "发明", "ZL202310000001.1", "一种方法", "2024/3/15", "有效"],
            ["梧州专利有限公司", "软著", "2024SR0000001", "管理软件", "2024.05.08", None],
        ],
    )
    batch, plan = preview(path, kind="ip")
    rows = rows_of(batch)
    assert (rows[2].action, rows[3].action) == ("update", "create")
    apply(batch, plan)
    items = {i.number: i for i in db.session.scalars(select(IPItem).filter_by(firm_id=firm.id))}
    assert len(items) == 2
    assert items["ZL202310000001.1"].status == "valid"
    assert items["2024SR0000001"].kind == "software"
    assert items["2024SR0000001"].granted_on == date(2024, 5, 8)


def _certified_list(tmp_path, firm, number="GR202545000123", issued="2025-12-08", year=None):
    header = ["序号", "企业名称", "统一社会信用代码", "证书编号", "发证日期"]
    row = [1, firm.name, firm.uscc, number, issued]
    if year is not None:
        header, row = [*header, "认定年度"], [*row, year]
    return workbook(
        tmp_path,
        [["广西壮族自治区2025年第一批高新技术企业名单"], header, row],
        name="高企名单.xlsx",
    )


def test_a_provincial_list_of_certified_firms_records_their_certificates_with_the_dates(tmp_path):
    firm = factories.make_firm(name="梧州高企有限公司")
    db.session.commit()
    batch, plan = preview(_certified_list(tmp_path, firm), kind="qualifications", tier="hte")
    assert batch.counts["update"] == 1
    [row] = db.session.scalars(select(ImportRow).filter_by(batch_id=batch.id)).all()
    assert Describer().changes(row.writes) == [
        ("发证日期", None, "2025-12-08"),
        ("证书编号", None, "GR202545000123"),
        ("培育阶段", None, "已认定高企"),
        ("转入日期", None, "2025-12-08"),
    ]
    apply(batch, plan)
    [certificate] = db.session.scalars(select(Certificate).filter_by(firm_id=firm.id)).all()
    assert (certificate.number, certificate.issued_on, certificate.expires_on) == (
        "GR202545000123",
        date(2025, 12, 8),
        date(2028, 12, 7),
    )
    assert (certificate.source, certificate.status, certificate.issued_on_estimated) == (
        "import",
        "valid",
        False,
    )
    assert db.session.scalar(select(Qualification).filter_by(firm_id=firm.id)) is None
    created = db.session.scalar(select(AuditEntry).filter_by(entity="certificates"))
    assert created.source == f"import:{batch.id}"

    again, _ = preview(_certified_list(tmp_path, firm), kind="qualifications", tier="hte")
    assert again.counts["unchanged"] == 1


def test_undoing_a_list_of_certified_firms_removes_the_certificates_it_recorded(tmp_path):
    firm = factories.make_firm(name="梧州撤销高企有限公司")
    db.session.commit()
    batch, plan = preview(_certified_list(tmp_path, firm), kind="qualifications", tier="hte")
    apply(batch, plan)
    undo_batch(batch, None)
    db.session.commit()
    assert db.session.scalar(select(Certificate).filter_by(firm_id=firm.id)) is None


def test_a_certificate_listed_without_its_date_counts_from_1_january_until_a_list_dates_it(
    tmp_path,
):
    firm = factories.make_firm(name="梧州年度高企有限公司")
    db.session.commit()
    path = _certified_list(tmp_path, firm, issued=None, year=2024)
    batch, plan = preview(path, kind="qualifications", tier="hte")
    [row] = db.session.scalars(select(ImportRow).filter_by(batch_id=batch.id)).all()
    assert any("按 2024 年 1 月 1 日计" in message for _, _, message in row.issues)
    apply(batch, plan)
    [certificate] = db.session.scalars(select(Certificate).filter_by(firm_id=firm.id)).all()
    assert (certificate.issued_on, certificate.issued_on_estimated) == (date(2024, 1, 1), True)

    dated = _certified_list(tmp_path, firm, number="GR202445000456", issued="2024-12-08")
    batch, plan = preview(dated, kind="qualifications", tier="hte")
    [row] = db.session.scalars(select(ImportRow).filter_by(batch_id=batch.id)).all()
    assert Describer().changes(row.writes) == [
        ("发证日期", "2024-01-01", "2024-12-08"),
        ("发证日期按年度估计", "是", "否"),
        ("证书编号", "GR202545000123", "GR202445000456"),
    ]
    apply(batch, plan)
    db.session.refresh(certificate)
    assert (certificate.issued_on, certificate.issued_on_estimated, certificate.number) == (
        date(2024, 12, 8),
        False,
        "GR202445000456",
    )
    assert db.session.scalar(select(func.count(Certificate.id))) == 1


def test_a_manager_imports_only_within_their_reach(tmp_path):
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home])
    foreign = factories.make_firm(name="梧州他区有限公司", district=away)
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "所属县（市、区）", "法定代表人"],
            ["梧州他区有限公司", foreign.uscc, None, "改名人"],
            ["梧州本区新有限公司", factories.make_uscc(), "万秀区", "甲"],
            ["梧州外区新有限公司", factories.make_uscc(), "长洲区", "乙"],
        ],
    )
    batch, plan = preview(path, user=manager)
    rows = rows_of(batch)
    # The firm out of reach reads as a firm that does not exist: its row, like row 4, may not
    # create a firm without a district of the manager's.
    assert [m.split(":", 1)[1] for m in messages(rows[2]) + messages(rows[4])] == [
        "您只能新建本人所负责县（市、区）的企业，请填写所属县（市、区）"
    ] * 2
    assert rows[3].action == "create"
    assert "您只能新建本人所负责县（市、区）的企业" in messages(rows[4])[0]
    apply(batch, plan, valid_only=True)
    created = db.session.scalar(select(Firm).filter_by(name="梧州本区新有限公司"))
    assert created.manager_id == manager.id
    assert db.session.get(Firm, foreign.id).legal_representative != "改名人"


@pytest.fixture
def other_managers_firm():
    """Return a manager of 万秀区 and a firm of another manager in 长洲区."""
    home, away = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home])
    other = factories.make_user("manager", districts=[away])
    firm = factories.make_firm(name="梧州他人有限公司", district=away, manager_id=other.id)
    db.session.commit()
    return manager, firm


def result_column(path) -> list[str | None]:
    """Return the 导入结果 of every data row of an annotated workbook."""
    sheet = load_workbook(path).active
    column = [cell.value for cell in sheet[1]].index("导入结果") + 1
    return [sheet.cell(row, column).value for row in range(2, sheet.max_row + 1)]


def test_a_manager_cannot_tell_another_managers_firm_from_none_by_its_code(
    tmp_path, other_managers_firm
):
    manager, firm = other_managers_firm
    unknown = factories.make_uscc(serial=909090)
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "年度", "职工总数"],
            ["梧州甲有限公司", firm.uscc, 2024, 10],
            ["梧州甲有限公司", unknown, 2024, 10],
        ],
    )

    batch, _ = preview(path, kind="years", user=manager)

    rows = rows_of(batch)
    expected = (
        "B:系统中没有您负责的企业「梧州甲有限公司」，请核对企业名称和统一社会信用代码，或联系管理员"
    )
    assert messages(rows[2]) == messages(rows[3]) == [expected]
    assert rows[2].firm_id is None and rows[2].firm_name == "梧州甲有限公司"
    annotated = result_column(path.with_name("annotated.xlsx"))
    assert annotated[0] == annotated[1]
    assert firm.name not in annotated[0]

    # An administrator is told the firm is there: the row matches it.
    admin = factories.make_user("admin")
    batch, _ = preview(path, kind="years", user=admin)
    rows = rows_of(batch)
    assert rows[2].firm_id == firm.id and rows[2].action == "create"
    assert messages(rows[3]) == [
        "B:系统中没有企业「梧州甲有限公司」，请先导入企业名单或在企业库中新建"
    ]


def test_a_manager_never_sees_the_code_of_another_managers_firm_named_in_a_row(
    tmp_path, other_managers_firm
):
    manager, firm = other_managers_firm
    given = factories.make_uscc(serial=818181)
    years = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "年度", "职工总数"],
            ["梧州他人有限公司", given, 2024, 10],
            ["梧州无此有限公司", factories.make_uscc(serial=818182), 2024, 10],
        ],
        name="years.xlsx",
    )
    firms = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "所属县（市、区）"],
            ["梧州他人有限公司", given, "万秀区"],
        ],
        name="firms.xlsx",
    )

    batch, _ = preview(years, kind="years", user=manager)
    rows = rows_of(batch)
    shown = [message for row in rows.values() for message in messages(row)]
    assert messages(rows[2]) == [
        "B:系统中没有您负责的企业「梧州他人有限公司」，请核对企业名称和统一社会信用代码，"
        "或联系管理员"
    ]
    assert messages(rows[3])[0].startswith("B:系统中没有您负责的企业「梧州无此有限公司」")
    assert not any(firm.uscc in message for message in shown)

    # A firm list naming it creates no second firm, and does not say why.
    batch, plan = preview(firms, user=manager)
    rows = rows_of(batch)
    assert messages(rows[2]) == ["B:不能新建企业「梧州他人有限公司」，请联系管理员核对后导入"]
    assert firm.uscc not in " ".join(result_column(firms.with_name("annotated.xlsx")))
    apply(batch, plan, valid_only=True)
    assert db.session.scalar(select(func.count(Firm.id)).filter_by(name=firm.name)) == 1

    # An administrator is told which code the system holds.
    admin = factories.make_user("admin")
    batch, _ = preview(firms, user=admin)
    assert messages(rows_of(batch)[2]) == [
        f"B:系统中的「梧州他人有限公司」统一社会信用代码为 {firm.uscc}，"
        f"与本行的 {given} 不同，请核对"
    ]


def test_the_annotated_workbook_marks_faulty_cells_and_adds_the_result_column(tmp_path):
    path = firm_sheet(
        tmp_path,
        ["梧州标注有限公司", "bad", "=HYPERLINK(1)", 100, None],
        ["梧州正常有限公司", factories.make_uscc(), None, 100, None],
    )
    book = load_workbook(path)
    book.active["C2"].data_type = "s"  # text that looks like a formula, as a user typed it
    book.save(path)
    preview(path)
    sheet = load_workbook(path.with_name("annotated.xlsx")).active
    assert sheet["F1"].value == "导入结果"
    assert sheet["F2"].value.startswith("错误：B 列：「bad」：统一社会信用代码应为 18 位")
    assert sheet["F3"].value == "新建"
    assert sheet["B2"].comment is not None and "18 位" in sheet["B2"].comment.text
    assert sheet["B2"].fill.fgColor.rgb.endswith("F8D7DA")
    # Formula-looking text comes back as text, not as a formula.
    assert sheet["C2"].data_type == "s" and sheet["C2"].value == "=HYPERLINK(1)"


def test_the_apply_writes_what_the_dry_run_showed_when_nothing_changed_since(tmp_path):
    path = firm_sheet(tmp_path, ["梧州预览有限公司", factories.make_uscc(), "甲", 100, None])
    batch, _result = preview(path)
    # The stored dry run is what gets written, not whatever the file holds now.
    replaced = firm_sheet(tmp_path, ["梧州偷换有限公司", factories.make_uscc(), "乙", 1, None])
    stored_file(batch).write_bytes(replaced.read_bytes())
    apply(batch)
    assert db.session.scalars(select(Firm.name)).all() == ["梧州预览有限公司"]


def test_a_change_made_after_the_dry_run_is_taken_into_account_by_the_apply(tmp_path):
    firm = factories.make_firm(name="梧州复核有限公司", legal_representative="甲")
    db.session.commit()
    path = firm_sheet(tmp_path, ["梧州复核有限公司", firm.uscc, "乙", None, None])
    batch, _result = preview(path)
    assert batch.counts["update"] == 1
    with audit_source("web"):
        db.session.get(Firm, firm.id).legal_representative = "乙"
        db.session.commit()
    apply(batch)
    assert batch.counts["update"] == 0 and batch.counts["unchanged"] == 1
    assert rows_of(batch)[2].action == "unchanged"
    entries = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.source == f"import:{batch.id}")
    )
    assert entries == 0


def test_the_import_command_dry_runs_then_imports_and_names_faulty_cells(app, tmp_path):
    good, short = factories.make_uscc(serial=424242), "91450400MA5L0123"
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码"], ["命令行科技有限公司", good], ["错误代码公司", short]],
    )
    runner = app.test_cli_runner()

    dry = runner.invoke(args=["crm", "import", str(path), "--kind", "firms", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "第 3 行 B 列" in dry.output and "未写入企业数据" in dry.output
    assert db.session.scalar(select(func.count(Firm.id)).where(Firm.uscc == good)) == 0

    done = runner.invoke(args=["crm", "import", str(path), "--kind", "firms", "--valid-only"])
    assert done.exit_code == 0, done.output
    assert db.session.scalar(select(Firm.name).where(Firm.uscc == good)) == "命令行科技有限公司"


def test_the_import_command_refuses_a_file_that_is_not_a_spreadsheet(app, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"%PDF-1.7 not a sheet")

    result = app.test_cli_runner().invoke(args=["crm", "import", str(path), "--kind", "firms"])

    assert result.exit_code == 1
    assert "不是可识别的电子表格" in result.output


def test_the_funnel_summary_follows_an_import_and_its_undo(tmp_path):
    home, away = factories.district("450403"), factories.district("450405")
    firm = factories.make_firm(name="梧州入库有限公司", district=home)
    enroll_firm(firm, "hte", "prospect", MoveInputs(), None)
    db.session.commit()

    def counted_in() -> list[int | None]:
        return [row.group_id for row in funnel.firms_per_stage("hte", by="district")]

    assert counted_in() == [home.id]
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码", "所属县（市、区）"], [firm.name, firm.uscc, away.name]],
    )
    batch, plan = preview(path)
    apply(batch, plan)
    assert counted_in() == [away.id]
    undo_batch(batch, None)
    db.session.commit()
    assert counted_in() == [home.id]
