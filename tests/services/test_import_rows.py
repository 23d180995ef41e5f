"""The rows of a firm list against a real database: repeated codes, values that cannot be
right, reference data the system does not know, and the firm's contact person."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import AuditEntry, snapshot
from crm.excel.stored import Describer
from crm.excel.undo import undo_batch
from crm.extensions import db
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear
from tests import factories
from tests.services.test_imports import NOW, apply, firm_sheet, preview, rows_of, workbook


@pytest.fixture(autouse=True)
def _frozen_clock(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def issues(row, level=None) -> list[tuple[str, str]]:
    """Return (column letter, message) of a stored row's problems, of one level if given."""
    return [(letter, text) for letter, lvl, text in row.issues or [] if level in (None, lvl)]


# --- A credit code repeated inside one file -----------------------------------------------------


def test_a_repeated_code_imports_the_first_row_and_rejects_the_later_ones_on_the_code(tmp_path):
    code = factories.make_uscc()
    path = firm_sheet(
        tmp_path,
        ["梧州重码有限公司", code, "甲", 100, None],
        ["梧州别的有限公司", factories.make_uscc(), None, None, None],
        ["梧州重码有限公司（二）", code, "乙", 200, None],
        ["梧州重码有限公司（三）", code, "丙", None, None],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "create" and not rows[2].issues
    for number in (4, 5):
        assert rows[number].action == "rejected"
        assert issues(rows[number]) == [
            ("B", "统一社会信用代码与第 2 行相同：同一企业只按第 2 行导入，本行未导入")
        ]
    assert batch.counts["create"] == 2 and batch.counts["rejected"] == 2
    apply(batch, plan, valid_only=True)
    firm = db.session.scalar(select(Firm).filter_by(uscc=code))
    assert (firm.name, firm.legal_representative) == ("梧州重码有限公司", "甲")


def test_a_repeat_across_chunks_and_by_name_names_the_first_row_and_its_column(
    tmp_path, monkeypatch
):
    from crm.excel import dryrun

    monkeypatch.setattr(dryrun, "CHUNK_ROWS", 2)
    known = factories.make_firm(name="梧州已有有限公司")
    db.session.add(FirmFormerName(firm_id=known.id, name="梧州曾用名有限公司"))
    db.session.commit()
    path = firm_sheet(
        tmp_path,
        ["梧州已有有限公司", known.uscc, "甲", None, None],
        ["梧州同名有限公司", factories.make_uscc(), None, None, None],
        ["梧州同名有限公司", factories.make_uscc(), None, None, None],
        ["梧州曾用名有限公司", None, "乙", None, None],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "update" and rows[3].action == "create"
    assert issues(rows[4], "error") == [
        ("A", "企业名称与第 3 行相同：同一企业只按第 3 行导入，本行未导入")
    ]
    assert issues(rows[5], "error") == [("A", "与第 2 行是同一企业：只按第 2 行导入，本行未导入")]


def test_other_kinds_keep_the_first_of_repeated_records(tmp_path):
    firm = factories.make_firm(name="梧州年报重复有限公司")
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "年度", "销售收入（万元）"],
            ["梧州年报重复有限公司", 2024, 100],
            ["梧州年报重复有限公司", 2024, 120],
        ],
    )
    batch, plan = preview(path, kind="years")
    rows = rows_of(batch)
    assert rows[2].action == "create"
    assert issues(rows[3]) == [("A", "与第 2 行是同一记录：只按第 2 行导入，本行未导入")]
    apply(batch, plan, valid_only=True)
    year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    assert year.sales_revenue == Decimal("1000000.00")


# --- Values that cannot be right ----------------------------------------------------------------

FIGURES = ["企业名称", "统一社会信用代码", "注册资本（万元）", "2024年营业收入（万元）"]
FIGURES += [
    "2024年研发费用（万元）",
    "2024年资产总额（万元）",
    "2024年职工总数",
    "2024年科技人员数",
]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("C", -5, "「-5」是负数，注册资本不能为负"),
        ("D", -1.5, "「-1.5」是负数，销售收入不能为负"),
        ("D", "-1,200", "「-1,200」是负数，销售收入不能为负"),
        ("E", "（30）", "「（30）」是负数，研发费用不能为负"),
        ("F", -0.01, "「-0.01」是负数，资产总额不能为负"),
        ("G", -3, "「-3」是负数，职工总数不能为负"),
        ("H", "-2人", "「-2人」是负数，科技人员数不能为负"),
        ("D", "12.5%", "「12.5%」是百分比，这里应填写数值"),
    ],
)
def test_a_value_that_cannot_be_right_is_an_error_on_its_cell(tmp_path, column, value, message):
    cells = ["梧州负数有限公司", factories.make_uscc(), 10, 100, 5, 300, 20, 3]
    cells["ABCDEFGH".index(column)] = value
    batch, _plan = preview(workbook(tmp_path, [FIGURES, cells]))
    row = rows_of(batch)[2]
    assert row.action == "rejected"
    assert issues(row) == [(column, message)]


def test_zero_is_a_value_like_any_other(tmp_path):
    cells = ["梧州零值有限公司", factories.make_uscc(), 0, 0, 0, 0, 0, 0]
    batch, _plan = preview(workbook(tmp_path, [FIGURES, cells]))
    assert rows_of(batch)[2].action == "create"


def test_a_missing_name_and_a_new_firm_without_a_code_name_their_columns(tmp_path):
    path = firm_sheet(
        tmp_path,
        [None, factories.make_uscc(), "甲", 100, None],
        ["梧州无码有限公司", None, "乙", 100, None],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert issues(rows[2]) == [("A", "新建企业需填写企业名称")]
    assert issues(rows[3]) == [
        ("B", "新建企业需填写统一社会信用代码；系统中也没有名为「梧州无码有限公司」的企业")
    ]
    assert batch.counts["rejected"] == 2
    assert db.session.scalar(select(func.count(Firm.id))) == 0


def test_a_sheet_without_a_code_column_matches_existing_firms_by_name_with_a_warning(tmp_path):
    firm = factories.make_firm(name="梧州按名有限公司", legal_representative="甲")
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "法定代表人"],
            ["梧州按名有限公司", "乙"],
            ["梧州新来无码有限公司", "丙"],
        ],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "update"
    assert issues(rows[2]) == [
        ("A", "本行未填统一社会信用代码，已按企业名称匹配到系统中的企业，请核对")
    ]
    assert rows[3].action == "rejected"
    assert issues(rows[3]) == [
        ("", "新建企业需填写统一社会信用代码；系统中也没有名为「梧州新来无码有限公司」的企业")
    ]
    apply(batch, plan, valid_only=True)
    assert db.session.get(Firm, firm.id).legal_representative == "乙"


def test_a_row_with_a_code_matches_by_code_and_fills_in_a_code_missing_from_a_named_firm(
    tmp_path,
):
    named = factories.make_firm(name="梧州补码有限公司", uscc=None)
    db.session.commit()
    code = factories.make_uscc()
    batch, plan = preview(firm_sheet(tmp_path, ["梧州补码有限公司", code, None, None, None]))
    row = rows_of(batch)[2]
    assert row.action == "update" and row.firm_id == named.id
    assert issues(row) == [
        ("B", "系统中的「梧州补码有限公司」尚无统一社会信用代码，已按企业名称匹配并补填，请核对")
    ]
    apply(batch, plan)
    assert db.session.get(Firm, named.id).uscc == code


# --- Reference data the system does not know ----------------------------------------------------


def test_an_unknown_tech_field_or_industry_is_a_warning_and_the_firm_is_imported(tmp_path):
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "所属行业", "技术领域", "所属县（市、区）"],
            ["梧州领域有限公司", factories.make_uscc(), "量子玄学", "时空穿梭", "万秀区"],
            ["梧州县区有限公司", factories.make_uscc(), "电子信息", "电子信息", "火星区"],
        ],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert rows[2].action == "create"
    warned = issues(rows[2], "warning")
    assert [letter for letter, _ in warned] == ["C", "D"]
    assert warned[0][1].startswith("无法识别的行业「量子玄学」，已留空，请导入后补填；可填：")
    assert warned[1][1].startswith("无法识别的技术领域「时空穿梭」，已留空，请导入后补填；可填：")
    assert rows[3].action == "rejected"
    assert issues(rows[3]) == [("E", "「火星区」不是本市的县（市、区）")]
    apply(batch, plan, valid_only=True)
    firm = db.session.scalar(select(Firm).filter_by(name="梧州领域有限公司"))
    assert firm.industry_id is None and firm.tech_field_id is None
    assert firm.district.name == "万秀区"


def test_an_unknown_tech_field_leaves_the_stored_one_of_an_existing_firm(tmp_path):
    firm = factories.make_firm(name="梧州旧领域有限公司")
    db.session.commit()
    stored = db.session.get(Firm, firm.id).tech_field_id
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码", "技术领域"], ["梧州旧领域有限公司", firm.uscc, "玄学"]],
    )
    batch, _plan = preview(path)
    row = rows_of(batch)[2]
    assert row.action == "unchanged" and Describer().changes(row.writes) == []
    assert issues(row, "warning")[0][0] == "C"
    assert db.session.get(Firm, firm.id).tech_field_id == stored


def test_a_row_of_another_kind_without_name_or_code_marks_the_name_column(tmp_path):
    path = workbook(
        tmp_path,
        [["企业名称", "统一社会信用代码", "年度", "销售收入（万元）"], [None, None, 2024, 100]],
    )
    batch, _plan = preview(path, kind="years")
    assert issues(rows_of(batch)[2]) == [
        ("A", "缺少企业名称和统一社会信用代码，无法确定是哪家企业")
    ]


# --- The firm's contact person ------------------------------------------------------------------

CONTACT_HEADER = ["企业名称", "统一社会信用代码", "联系人", "职务", "联系电话", "邮箱"]


def contacts_of(firm_id) -> list[tuple]:
    return [
        (c.name, c.role, c.phone, c.email, c.is_primary)
        for c in db.session.scalars(
            select(FirmContact).filter_by(firm_id=firm_id).order_by(FirmContact.id)
        )
    ]


def test_a_new_firm_gets_its_contact_as_the_primary_one_audited_and_undone(tmp_path):
    code, other = factories.make_uscc(), factories.make_uscc()
    path = workbook(
        tmp_path,
        [
            CONTACT_HEADER,
            ["梧州联系甲有限公司", code, "张三", "总经理", 7743821234, "zhang@example.com"],
            ["梧州联系乙有限公司", other, "李四", None, 13800000000, None],
            ["梧州联系丙有限公司", factories.make_uscc(), None, None, "0774-3821234", None],
        ],
    )
    batch, plan = preview(path)
    rows = rows_of(batch)
    assert [rows[n].action for n in (2, 3, 4)] == ["create", "create", "create"]
    shown = Describer().changes(rows[2].writes)
    assert ("联系人", None, "张三") in shown
    assert ("联系人（张三）联系电话", None, "07743821234") in shown
    assert issues(rows[4]) == [("C", "未填联系人姓名，企业也没有联系人，本行的联系电话未导入")]
    assert batch.options["written"]["firm_contacts"] == [
        "email",
        "is_primary",
        "name",
        "phone",
        "role",
    ]
    apply(batch, plan)
    firm = db.session.scalar(select(Firm).filter_by(uscc=code))
    assert contacts_of(firm.id) == [("张三", "总经理", "07743821234", "zhang@example.com", True)]
    second = db.session.scalar(select(Firm.id).filter_by(uscc=other))
    assert contacts_of(second) == [("李四", None, "13800000000", None, True)]
    created = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "firm_contacts", AuditEntry.source == f"import:{batch.id}"
        )
    ).all()
    assert len(created) == 2
    for entry in created:
        contact = db.session.get(FirmContact, entry.entity_id)
        values = {c.key: getattr(contact, c.key) for c in contact.__table__.columns}
        assert entry.action == "create" and entry.firm_id == contact.firm_id
        assert json.loads(entry.new_value) == json.loads(snapshot(values))
    undone = undo_batch(batch, None)
    db.session.commit()
    assert undone.deleted == 5  # three firms and two contacts
    assert db.session.scalar(select(func.count(FirmContact.id))) == 0


def test_an_update_fills_the_named_contact_and_keeps_what_a_blank_cell_leaves(tmp_path):
    firm = factories.make_firm(name="梧州老联系有限公司")
    db.session.add_all(
        [
            FirmContact(firm_id=firm.id, name="王五", phone="0774-1111111", email="w@a.cn"),
            FirmContact(firm_id=firm.id, name="赵六", role="财务负责人", phone="0774-2222222"),
        ]
    )
    db.session.commit()
    path = workbook(
        tmp_path,
        [CONTACT_HEADER, ["梧州老联系有限公司", firm.uscc, "赵六", None, 13900000000, None]],
    )
    batch, plan = preview(path)
    row = rows_of(batch)[2]
    assert row.action == "update"
    shown = Describer().changes(row.writes)
    assert ("联系人（赵六）联系电话", "0774-2222222", "13900000000") in shown
    assert ("联系人（赵六）主要联系人", "否", "是") in shown
    apply(batch, plan)
    db.session.expire_all()
    # 赵六 is now the primary contact; 王五, the first and so far the primary one, stays.
    assert contacts_of(firm.id) == [
        ("王五", None, "0774-1111111", "w@a.cn", False),
        ("赵六", "财务负责人", "13900000000", None, True),
    ]
    undo_batch(batch, None)
    db.session.commit()
    db.session.expire_all()
    assert contacts_of(firm.id) == [
        ("王五", None, "0774-1111111", "w@a.cn", False),
        ("赵六", "财务负责人", "0774-2222222", None, False),
    ]


def test_a_new_name_replaces_the_primary_contact_and_the_old_one_stays_in_the_list(tmp_path):
    firm = factories.make_firm(name="梧州换人有限公司")
    db.session.add(FirmContact(firm_id=firm.id, name="孙七", phone="0774-3333333", is_primary=True))
    db.session.commit()
    path = workbook(
        tmp_path,
        [CONTACT_HEADER, ["梧州换人有限公司", firm.uscc, "周八", "技术负责人", None, None]],
    )
    batch, plan = preview(path)
    shown = Describer().changes(rows_of(batch)[2].writes)
    assert ("联系人", None, "周八") in shown
    assert ("联系人（孙七）主要联系人", "是", "否") in shown
    apply(batch, plan)
    db.session.expire_all()
    assert contacts_of(firm.id) == [
        ("孙七", None, "0774-3333333", None, False),
        ("周八", "技术负责人", None, None, True),
    ]
    assert db.session.get(Firm, firm.id).primary_contact.name == "周八"
    undone = undo_batch(batch, None)
    db.session.commit()
    db.session.expire_all()
    assert (undone.deleted, undone.restored) == (1, 1)
    assert contacts_of(firm.id) == [("孙七", None, "0774-3333333", None, True)]


def test_a_row_without_a_name_changes_the_primary_contact(tmp_path):
    firm = factories.make_firm(name="梧州只改电话有限公司")
    db.session.add_all(
        [
            FirmContact(firm_id=firm.id, name="吴九", phone="0774-4444444"),
            FirmContact(firm_id=firm.id, name="郑十", phone="0774-5555555", is_primary=True),
        ]
    )
    db.session.commit()
    path = workbook(
        tmp_path,
        [
            ["企业名称", "统一社会信用代码", "联系电话", "电子邮箱"],
            ["梧州只改电话有限公司", firm.uscc, "0774-6666666", "zheng@example.com"],
        ],
    )
    batch, plan = preview(path)
    apply(batch, plan)
    db.session.expire_all()
    assert contacts_of(firm.id) == [
        ("吴九", None, "0774-4444444", None, False),
        ("郑十", None, "0774-6666666", "zheng@example.com", True),
    ]


def test_a_bad_e_mail_or_phone_is_an_error_on_its_cell_and_an_unsure_number_a_warning(tmp_path):
    path = workbook(
        tmp_path,
        [
            CONTACT_HEADER,
            ["梧州坏邮箱有限公司", factories.make_uscc(), "甲", None, None, "jia@"],
            ["梧州坏电话有限公司", factories.make_uscc(), "乙", None, "同上", None],
            ["梧州存疑电话有限公司", factories.make_uscc(), "丙", None, 2085551234, None],
        ],
    )
    batch, _plan = preview(path)
    rows = rows_of(batch)
    assert issues(rows[2]) == [("F", "「jia@」不是有效的电子邮箱")]
    assert issues(rows[3]) == [("E", "「同上」不是电话号码")]
    assert rows[4].action == "create"
    assert issues(rows[4], "warning")[0][0] == "E"
