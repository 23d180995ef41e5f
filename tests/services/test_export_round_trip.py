"""An exported list, imported back: nothing changes; edit two cells and exactly those change.
And a name that looks like a formula comes back as the same text, never as a formula."""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.core import clock
from crm.core.audit import AuditEntry
from crm.excel import services
from crm.extensions import db
from crm.firms.models import Firm, FirmYear
from crm.jobs import files, queue
from crm.jobs.models import Job
from crm.reference.models import Park
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def firms():
    park = db.session.scalars(select(Park).order_by(Park.id)).first()
    a = factories.make_firm(
        name="梧州往返甲公司",
        registered_capital=Decimal("1234567.89"),
        legal_representative="张三",
        address="梧州市万秀区某路 1 号",
        park=park,
        is_above_scale=True,
        notes="第一行\n第二行",
    )
    b = factories.make_firm(name="梧州往返乙公司", registered_capital=Decimal("0.01"))
    factories.make_year(a, 2023, total_revenue=Decimal("1234567.89"), rd_expense=Decimal("3.33"))
    factories.make_year(a, 2024)
    factories.make_year(b, 2024, total_assets=Decimal("98765432.10"))
    db.session.commit()
    return a, b


def snapshot(model) -> dict:
    rows = db.session.scalars(select(model).order_by(model.id)).all()
    return {
        row.id: {
            c.key: getattr(row, c.key) for c in model.__table__.columns if c.key != "updated_at"
        }
        for row in rows
    }


def exported(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data()


def import_back(tmp_path, data: bytes, kind: str, user):
    path = tmp_path / f"back-{kind}.xlsx"
    path.write_bytes(data)
    batch = services.start_import_from_path(kind, path, user)
    services.run_preview(batch)
    db.session.commit()
    return batch


def apply(batch):
    services.run_apply(batch)
    db.session.commit()
    db.session.expire_all()


def edit(data: bytes, changes: dict[str, object]) -> bytes:
    book = load_workbook(BytesIO(data))
    for ref, value in changes.items():
        book.active[ref] = value
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("url", "kind", "model", "changes", "changed"),
    [
        (
            "/reports/export/firms?q=往返",
            "firms",
            Firm,
            {"C3": "李四", "E2": 20},
            {
                ("梧州往返甲公司", "legal_representative"): "李四",
                ("梧州往返乙公司", "registered_capital"): Decimal("200000"),
            },
        ),
        (
            "/reports/export/firm_years?q=往返",
            "years",
            FirmYear,
            {"E2": 7, "M4": 12},
            {(2024, "sales_revenue"): Decimal("70000"), (2024, "tech_staff"): 12},
        ),
    ],
    ids=["firms", "years"],
)
def test_an_export_imports_back_unchanged_and_two_edited_cells_change_two_fields(
    client, login_as, tmp_path, url, kind, model, changes, changed
):
    firms()
    user = login_as("admin")
    # By name: 乙 (U+4E59) before 甲 (U+7532); the years of a firm in order.
    data = exported(client, url)
    before = snapshot(model)
    batch = import_back(tmp_path, data, kind, user)
    assert batch.counts["create"] == 0 and batch.counts["update"] == 0, batch.counts
    assert batch.counts["rejected"] == 0 and batch.counts["unchanged"] == len(before)
    apply(batch)
    assert snapshot(model) == before

    batch = import_back(tmp_path, edit(data, changes), kind, user)
    assert batch.counts["update"] == 2 and batch.counts["create"] == 0, batch.counts
    apply(batch)
    after = snapshot(model)
    differences = {
        (row_id, key): value
        for row_id, values in after.items()
        for key, value in values.items()
        if before[row_id][key] != value
    }
    assert len(differences) == 2
    names = {firm.id: firm.name for firm in db.session.scalars(select(Firm))}
    for (row_id, key), value in differences.items():
        label = names[row_id] if model is Firm else after[row_id]["year"]
        assert changed[(label, key)] == value
    # The amounts nobody touched are still to the fen.
    amounts = db.session.scalars(select(FirmYear.total_revenue).order_by(FirmYear.id)).all()
    assert amounts[0] == Decimal("1234567.89")
    capital = db.session.scalar(
        select(Firm.registered_capital).where(Firm.name == "梧州往返甲公司")
    )
    assert capital == Decimal("1234567.89")
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.source == f"import:{batch.id}")
    ).all()
    assert sorted(e.field for e in entries) == sorted(key for _, key in differences)


def run_jobs() -> None:
    while (job := queue.claim_next("test-worker")) is not None:
        queue.run_job(job.id, "test-worker")
    db.session.expire_all()


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "job"])
def test_a_name_that_looks_like_a_formula_comes_back_as_the_same_text(
    app, client, login_as, inline
):
    factories.make_firm(name=FORMULA, established_on=date(2019, 1, 1))
    db.session.commit()
    login_as("admin")
    app.config["EXPORT_INLINE_ROWS"] = 3000 if inline else 0
    response = client.get("/reports/export/firms?q=HYPERLINK")
    if inline:
        book = load_workbook(BytesIO(response.get_data()))
    else:
        assert response.status_code == 302
        run_jobs()
        job = db.session.scalars(select(Job)).one()
        assert job.status == "done"
        book = load_workbook(files.result_path(job))
    cell = book.active["A2"]
    assert cell.value == FORMULA and cell.data_type == "s"
