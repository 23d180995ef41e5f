"""A firm uploads the importer's blank template of yearly figures: the bureau's dry run reads it,
and what it proposes becomes change requests; a faulty file leaves nothing behind."""

from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import func, select

from crm.excel.models import ImportBatch
from crm.extensions import db
from crm.firms.models import FirmYear
from crm.portal.models import ChangeRequest
from tests import factories
from tests.spreadsheet_builders import write_xlsx

HEADERS = ["企业名称", "统一社会信用代码", "年度", "总收入（万元）", "研发费用（万元）", "职工总数"]


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    firm = factories.make_firm()
    factories.make_year(firm, 2024)
    other = factories.make_firm()
    owner = factories.make_user("enterprise", firm_id=firm.id)
    db.session.commit()
    return {"firm": firm, "other": other, "owner": owner, "tmp": tmp_path}


def _upload(client, world, rows, name="年度数据.xlsx"):
    path = write_xlsx(world["tmp"] / name, [HEADERS, *rows])
    data = {"file": (BytesIO(path.read_bytes()), name), "note": "据2025年审计报告"}
    return client.post("/portal/years/upload", data=data, content_type="multipart/form-data")


def _requests():
    return db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id)).all()


def test_the_blank_template_is_the_importers(client, login_as, world):
    login_as(user=world["owner"])
    response = client.get("/portal/years/template")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.data)).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:3] == ["企业名称", "统一社会信用代码", "年度"] and "研发费用（万元）" in headers


def test_each_year_of_the_file_becomes_a_request(client, login_as, world):
    firm = world["firm"]
    login_as(user=world["owner"])
    response = _upload(
        client,
        world,
        [
            [firm.name, firm.uscc, 2025, 3500, 280, 120],
            [firm.name, firm.uscc, 2024, 3000, 200, 100],
        ],
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    by_title = {r.title: r for r in _requests()}
    assert set(by_title) == {"2025 年度数据", "2024 年度数据"}
    new = {i.field: i.new_value for i in by_title["2025 年度数据"].items}
    assert new == {
        "year": "2025",
        "total_revenue": "35000000",
        "rd_expense": "2800000",
        "total_staff": "120",
    }
    changed = {i.field: (i.old_value, i.new_value) for i in by_title["2024 年度数据"].items}
    assert changed == {"rd_expense": ("1600000", "2000000")}
    assert by_title["2024 年度数据"].note == "据2025年审计报告"
    # Nothing of the record, and nothing of the importer's batch, is kept.
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    assert db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2025)) is None
    assert not list((world["tmp"] / "instance" / "imports").glob("*/*"))


def test_a_faulty_file_names_row_and_column_and_files_nothing(client, login_as, world):
    firm, other = world["firm"], world["other"]
    login_as(user=world["owner"])
    response = _upload(
        client,
        world,
        [
            [firm.name, firm.uscc, 2025, "三千五百", 280, 120],
            [other.name, other.uscc, 2025, 100, 10, 5],
        ],
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "第 2 行 D 列" in page
    # Another firm is out of an enterprise user's reach, as the importer tells any user.
    assert "第 3 行 B 列：系统中没有您负责的企业" in page
    assert _requests() == []
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_figures_that_break_a_year_rule_are_refused(client, login_as, world):
    firm = world["firm"]
    login_as(user=world["owner"])
    response = _upload(client, world, [[firm.name, firm.uscc, 2024, 3000, 200, 10]])
    assert response.status_code == 200
    assert "2024 年度：科技人员数不能超过职工总数" in response.get_data(as_text=True)
    assert _requests() == []


def test_a_file_that_changes_nothing_says_so(client, login_as, world):
    firm = world["firm"]
    row = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2024))
    wan = [row.total_revenue / 10000, row.rd_expense / 10000, row.total_staff]
    login_as(user=world["owner"])
    response = _upload(client, world, [[firm.name, firm.uscc, 2024, *wan]])
    assert "没有需要变更的内容" in response.get_data(as_text=True)
    assert _requests() == []
    assert Decimal(str(wan[0])) * 10000 == row.total_revenue
