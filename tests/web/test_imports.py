"""The import pages: upload, the queued dry run, the preview, apply, undo, who may see what."""

import re
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import current_app
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from crm.core import clock
from crm.excel import queries
from crm.excel.models import ImportBatch, ImportMapping
from crm.excel.retention import remove_expired_uploads
from crm.extensions import db
from crm.firms.models import Firm
from crm.jobs import files, queue, registry
from crm.jobs.models import Job
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def xlsx(rows) -> BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = BytesIO()
    book.save(data)
    data.seek(0)
    return data


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def run_jobs() -> None:
    """Do what the worker would: run every queued job."""
    while (job := queue.claim_next("test-worker")) is not None:
        queue.run_job(job.id, "test-worker")
    db.session.expire_all()


def upload(client, rows, kind="firms", filename="名单.xlsx", **fields):
    data = {"kind": kind, "file": (xlsx(rows), filename), **fields}
    return client.post("/imports/", data=data, content_type="multipart/form-data")


def latest_batch() -> ImportBatch:
    return db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()


ROWS = [
    ["梧州市2025年科技企业名单"],
    ["企业名称", "统一社会信用代码", "所属县（市、区）", "注册资本（万元）"],
]


def test_an_upload_is_dry_run_in_the_background_and_previewed(client, login_as):
    login_as("admin")
    code = factories.make_uscc()
    response = upload(client, [*ROWS, ["梧州页面有限公司", code, "万秀区", 500]])
    batch = latest_batch()
    assert response.headers["Location"].endswith(f"/imports/{batch.id}")
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "导入预检" in page and "正在读取进度" in page
    run_jobs()
    db.session.refresh(batch)
    assert batch.counts["create"] == 1 and batch.status == "previewed"
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "梧州页面有限公司" in page and "确认导入" in page
    assert "注册资本：500.00 万元" in page
    assert db.session.scalars(select(Firm)).all() == []


def test_applying_then_undoing_through_the_pages(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州往返有限公司", factories.make_uscc(), "长洲区", 100]])
    run_jobs()
    batch = latest_batch()
    assert client.post(f"/imports/{batch.id}/apply", data={}).status_code == 302
    run_jobs()
    assert db.session.scalar(select(Firm.name)) == "梧州往返有限公司"
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "已导入" in page and "撤销本次导入" in page
    client.post(f"/imports/{batch.id}/undo", data={})
    run_jobs()
    assert db.session.scalars(select(Firm)).all() == []
    assert "已撤销" in text_of(client.get(f"/imports/{batch.id}"))


def test_rows_with_errors_block_the_import_until_valid_rows_only_is_chosen(client, login_as):
    login_as("admin")
    upload(
        client,
        [
            *ROWS,
            ["梧州好有限公司", factories.make_uscc(), "万秀区", 100],
            ["梧州坏有限公司", "123", "南宁市青秀区", 100],
        ],
    )
    run_jobs()
    batch = latest_batch()
    rows = text_of(client.get(f"/imports/{batch.id}?show=rejected")).split("变更内容 问题")[1]
    assert "「南宁市青秀区」不是本市的县（市、区）" in rows and "梧州好有限公司" not in rows
    refused = client.post(f"/imports/{batch.id}/apply", data={}, follow_redirects=True)
    assert "有 1 行存在错误" in text_of(refused)
    client.post(f"/imports/{batch.id}/apply", data={"valid_only": "y"})
    run_jobs()
    assert db.session.scalars(select(Firm.name)).all() == ["梧州好有限公司"]


def test_the_annotated_file_comes_back_with_the_result_column(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州标注有限公司", "bad", "万秀区", 100]])
    run_jobs()
    batch = latest_batch()
    response = client.get(f"/imports/{batch.id}/annotated")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.data)).active
    response.close()
    assert sheet["E2"].value == "导入结果" and sheet["E3"].value.startswith("错误：B 列")


def run_next_job() -> Job:
    """Run the oldest queued job alone and return it."""
    job = queue.claim_next("test-worker")
    queue.run_job(job.id, "test-worker")
    db.session.expire_all()
    return db.session.get(Job, job.id)


def annotate_jobs() -> list[Job]:
    return db.session.scalars(select(Job).filter_by(kind="import.annotate")).all()


def test_the_annotated_copy_is_written_after_the_dry_run_is_shown(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州后台标注有限公司", "bad", "万秀区", 100]])
    preview = run_next_job()
    batch = latest_batch()
    # The dry run is done and shown without the copy: that is a job of its own, queued next.
    assert preview.kind == "import.preview" and preview.result_path is None
    assert batch.status == "previewed" and batch.counts["rejected"] == 1
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "确认导入" in page and "正在生成标注了问题的原表" in page
    assert client.get(f"/imports/{batch.id}/annotated").status_code == 404
    [pending] = annotate_jobs()
    assert pending.status == "queued"

    assert run_next_job().id == pending.id
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "下载标注了问题的原表" in page and "正在生成标注了问题的原表" not in page
    response = client.get(f"/imports/{batch.id}/annotated")
    sheet = load_workbook(BytesIO(response.data)).active
    response.close()
    assert sheet["E3"].value.startswith("错误：B 列") and "18 位" in sheet["B3"].comment.text


def test_the_apply_of_the_same_dry_run_keeps_its_annotated_copy(client, login_as):
    login_as("admin")
    upload(
        client,
        [
            *ROWS,
            ["梧州保留甲有限公司", factories.make_uscc(), "万秀区", 100],
            ["梧州保留乙有限公司", "bad", "万秀区", 100],
        ],
    )
    run_jobs()
    batch = latest_batch()
    [written] = annotate_jobs()
    before = files.result_path(written).read_bytes()
    client.post(f"/imports/{batch.id}/apply", data={"valid_only": "y"})
    run_jobs()
    assert latest_batch().status == "applied"
    # Written once: the apply of the dry run it shows offers the same file.
    assert [job.id for job in annotate_jobs()] == [written.id]
    response = client.get(f"/imports/{batch.id}/annotated")
    assert response.data == before
    response.close()


def test_a_clean_dry_run_queues_no_annotated_copy(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州无误有限公司", factories.make_uscc(), "万秀区", 100]])
    run_jobs()
    batch = latest_batch()
    assert annotate_jobs() == []
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "标注了问题的原表" not in page
    refused = client.post(f"/imports/{batch.id}/annotated", data={}, follow_redirects=True)
    assert "该批次没有需要标注的问题" in text_of(refused) and annotate_jobs() == []


def test_an_annotated_copy_whose_file_is_gone_is_written_again_on_request(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州重新标注有限公司", "bad", "万秀区", 100]])
    run_jobs()
    batch = latest_batch()
    [first] = annotate_jobs()
    files.remove_files(first.id)
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "生成标注了问题的原表" in page and "下载标注了问题的原表" not in page
    client.post(f"/imports/{batch.id}/annotated", data={})
    # Asked twice before the worker runs: one job.
    client.post(f"/imports/{batch.id}/annotated", data={})
    run_jobs()
    assert len(annotate_jobs()) == 2
    response = client.get(f"/imports/{batch.id}/annotated")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    response.close()
    assert sheet["E3"].value.startswith("错误：B 列")


def test_an_annotated_copy_of_a_replaced_dry_run_is_not_written(client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州过期标注有限公司", "bad", "万秀区", 100]])
    run_next_job()
    batch = latest_batch()
    [stale] = annotate_jobs()
    # The user picks another year; with two workers, the new dry run ends before the old copy.
    client.post(f"/imports/{batch.id}/year", data={"year": "2024"})
    assert queue.claim_next("worker-a").id == stale.id
    db.session.rollback()
    rerun = queue.claim_next("worker-b")
    queue.run_job(rerun.id, "worker-b")
    queue.run_job(stale.id, "worker-a")
    db.session.expire_all()
    stale = db.session.get(Job, stale.id)
    assert stale.status == "done" and stale.result_path is None
    run_jobs()
    assert queries.annotated_job(latest_batch()).id not in (stale.id, rerun.id)


def test_the_mapping_can_be_corrected_and_saved_as_a_template(client, login_as):
    login_as("admin")
    upload(client, [["单位", "代码", "资本"], ["梧州映射有限公司", factories.make_uscc(), 300]])
    run_jobs()
    batch = latest_batch()
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "已将第 1 行作为表头" in page
    assert "未找到「企业名称」或「统一社会信用代码」列" in page
    form = {
        "col-0-key": "name",
        "col-1-key": "uscc",
        "col-2-key": "registered_capital",
        "col-2-scale": "10000",
        "save_as": "某县名单",
    }
    client.post(f"/imports/{batch.id}/mapping", data=form)
    run_jobs()
    db.session.refresh(batch)
    assert batch.counts["create"] == 1
    saved = db.session.scalar(select(ImportMapping).filter_by(name="某县名单"))
    assert saved.columns["资本"] == {"key": "registered_capital", "scale": "10000", "year": None}
    # The next upload of the same layout uses the saved mapping when it is chosen.
    upload(
        client,
        [["单位", "代码", "资本"], ["梧州再来有限公司", factories.make_uscc(), 200]],
        template="某县名单",
    )
    run_jobs()
    assert latest_batch().counts["create"] == 1


def test_the_page_asks_the_year_of_yearless_columns_and_reruns_with_it(client, login_as):
    login_as("admin")
    code = factories.make_uscc()
    upload(client, [["企业名称", "统一社会信用代码", "职工总数"], ["梧州年度有限公司", code, 56]])
    run_jobs()
    batch = latest_batch()
    page = text_of(client.get(f"/imports/{batch.id}"))
    # In the summary under the counts, with the question, not in a notice.
    summary = page.split("确认导入")[0]
    assert "未导入的列： C「职工总数」：未注明年度，已校验但未导入" in summary
    assert "请填写这些列的年度" in summary and "按此年度重新预检" in summary
    assert "读取时略过" not in page  # no row was skipped: no empty line saying so
    wrong = client.post(f"/imports/{batch.id}/year", data={"year": "24"}, follow_redirects=True)
    assert "年度应为四位年份" in text_of(wrong)
    client.post(f"/imports/{batch.id}/year", data={"year": "2024"})
    run_jobs()
    db.session.refresh(batch)
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "未导入的列" not in page
    assert "年度： C「职工总数」：列名未注明年度，按 2024 年（导入时指定的年度）" in page
    assert "2024 年职工总数：56" in page


def test_the_page_says_which_sheet_was_read_and_reruns_on_another(client, login_as):
    login_as("admin")
    header = ["企业名称", "统一社会信用代码"]
    book = Workbook()
    for name, firms in (
        ("2023年", ["梧州旧表有限公司"]),
        ("2024年", ["梧州甲有限公司", "梧州乙有限公司"]),
    ):
        sheet = book.create_sheet(name)
        sheet.append(header)
        for firm in firms:
            sheet.append([firm, factories.make_uscc()])
    book.remove(book.active)
    data = BytesIO()
    book.save(data)
    data.seek(0)
    client.post(
        "/imports/",
        data={"kind": "firms", "file": (data, "名单.xlsx")},
        content_type="multipart/form-data",
    )
    run_jobs()
    batch = latest_batch()
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "已读取工作表「2024年」（2 行数据）；其他工作表：2023年（1 行数据）" in page
    assert "改用此工作表重新预检" in page
    client.post(f"/imports/{batch.id}/sheet", data={"sheet": "2023年"})
    run_jobs()
    db.session.refresh(batch)
    assert batch.sheet == "2023年" and batch.counts["create"] == 1
    rerun = text_of(client.get(f"/imports/{batch.id}"))
    assert "梧州旧表有限公司" in rerun
    # The other sheets, as the first dry run found them, with the sheet now read counted.
    assert "已读取工作表「2023年」（1 行数据）；其他工作表：2024年（2 行数据）" in rerun
    refused = client.post(
        f"/imports/{batch.id}/sheet", data={"sheet": "无此表"}, follow_redirects=True
    )
    assert "工作表「无此表」没有可导入的数据" in text_of(refused)


def test_a_batch_is_seen_only_by_its_uploader_and_admins(client, login_as):
    home = factories.district("450403")
    uploader = factories.make_user("manager", districts=[home])
    other = factories.make_user("manager", districts=[home])
    db.session.commit()
    login_as(user=uploader)
    upload(client, [*ROWS, ["梧州私有有限公司", factories.make_uscc(), "万秀区", 1]])
    batch = latest_batch()
    client.post("/logout")
    login_as(user=other)
    for path in ("", "/annotated"):
        assert client.get(f"/imports/{batch.id}{path}").status_code == 404
    for path in ("/apply", "/undo", "/mapping", "/year", "/sheet"):
        assert client.post(f"/imports/{batch.id}{path}", data={}).status_code == 404
    assert f"#{batch.id}" not in text_of(client.get("/imports/"))
    client.post("/logout")
    login_as("admin")
    assert client.get(f"/imports/{batch.id}").status_code == 200


@pytest.mark.parametrize("role", ["bureau_head", "enterprise"])
def test_only_managers_and_admins_import(client, login_as, role):
    extra = {"firm": factories.make_firm()} if role == "enterprise" else {}
    login_as(role, **extra)
    # A bureau head is refused; to an enterprise user the bureau's pages are not there.
    refused = 404 if role == "enterprise" else 403
    assert client.get("/imports/").status_code == refused
    assert upload(client, ROWS).status_code == refused
    assert client.get("/imports/templates/firms").status_code == refused
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_uploads_are_checked_for_type_and_size(app, client, login_as):
    login_as("admin")
    response = client.post(
        "/imports/",
        data={"kind": "firms", "file": (BytesIO(b"hello"), "名单.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "只接受 .xlsx、.xlsm、.xls、.ods 或 .csv 文件" in text_of(response)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = client.post(
        "/imports/",
        data={"kind": "firms", "file": (BytesIO(b"x" * 4096), "名单.xlsx")},
        content_type="multipart/form-data",
    )
    assert big.status_code == 413 and "文件过大" in text_of(big)


def test_a_file_that_is_not_a_spreadsheet_fails_its_dry_run_with_a_clear_message(client, login_as):
    login_as("admin")
    data = {"kind": "firms", "file": (BytesIO(b"%PDF-1.7 not a sheet"), "名单.xlsx")}
    client.post("/imports/", data=data, content_type="multipart/form-data")
    run_jobs()
    batch = latest_batch()
    page = text_of(client.get(f"/imports/{batch.id}"))
    assert "导入预检失败" in page and "不是可识别的电子表格" in page


def test_the_blank_templates_explain_every_column(client, login_as):
    login_as("manager")
    response = client.get("/imports/templates/firms")
    book = load_workbook(BytesIO(response.data))
    headers = [c.value for c in book["导入模板"][1]]
    assert headers[:3] == ["企业名称", "统一社会信用代码", "法定代表人"]
    assert "2025年销售收入（万元）" in headers
    notes = [row[0] for row in book["填写说明"].iter_rows(values_only=True)]
    assert "注册资本（万元）" in notes
    assert client.get("/imports/templates/nothing").status_code == 404


def test_forms_carry_csrf_tokens(app, client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州令牌有限公司", factories.make_uscc(), "万秀区", 1]])
    run_jobs()
    batch = latest_batch()
    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 2
    assert client.post(f"/imports/{batch.id}/apply", data={}).status_code == 400


def test_the_rows_of_a_batch_are_paged(client, login_as, monkeypatch):
    from crm.excel import views

    monkeypatch.setattr(views, "ROWS_PER_PAGE", 1)
    login_as("admin")
    upload(
        client,
        [
            *ROWS,
            ["梧州第一有限公司", factories.make_uscc(), "万秀区", 1],
            ["梧州第二有限公司", factories.make_uscc(), "万秀区", 1],
        ],
    )
    run_jobs()
    batch = latest_batch()
    first = text_of(client.get(f"/imports/{batch.id}")).split("变更内容 问题")[1]
    second = text_of(client.get(f"/imports/{batch.id}?page=2")).split("变更内容 问题")[1]
    assert "梧州第一有限公司" in first and "梧州第二有限公司" not in first
    assert "梧州第二有限公司" in second and "下一页" in first


def _stored(batch) -> Path:
    return Path(current_app.instance_path) / batch.stored_path


def test_uploaded_files_are_deleted_after_the_retention_unless_the_batch_can_be_undone(
    client, login_as
):
    admin = login_as("admin")
    upload(client, [*ROWS, ["梧州留存有限公司", factories.make_uscc(), "万秀区", 1]])
    run_jobs()
    previewed = latest_batch()
    upload(client, [*ROWS, ["梧州已导入有限公司", factories.make_uscc(), "长洲区", 1]])
    run_jobs()
    applied = latest_batch()
    client.post(f"/imports/{applied.id}/apply", data={})
    upload(client, [*ROWS, ["梧州已撤销有限公司", factories.make_uscc(), "龙圩区", 1]])
    run_jobs()
    undone = latest_batch()
    client.post(f"/imports/{undone.id}/apply", data={})
    run_jobs()
    client.post(f"/imports/{undone.id}/undo", data={})
    run_jobs()
    batches = (previewed, applied, undone)
    cleanup = {spec.name: spec for spec in registry.periodic_jobs()}["excel.uploads"]
    assert cleanup.seconds == 24 * 3600

    clock.advance(timedelta(days=90))  # the last day of the default 90
    assert cleanup.fn() == 0
    assert all(_stored(batch).is_file() for batch in batches)

    clock.advance(timedelta(minutes=1))
    assert cleanup.fn() == 2
    db.session.commit()
    assert not _stored(previewed).exists() and not _stored(undone).exists()
    assert _stored(applied).is_file()  # it can still be undone
    assert previewed.file_removed_at == clock.utcnow() and applied.file_removed_at is None
    login_as(user=admin)  # the session of 90 days ago has long expired
    page = text_of(client.get(f"/imports/{previewed.id}"))
    assert "上传的文件已超过保留期限" in page and "梧州留存有限公司" in page
    client.post(f"/imports/{previewed.id}/apply", data={})
    page = text_of(client.get(f"/imports/{previewed.id}"))
    assert "无法再预检或导入，请重新上传文件" in page
    assert db.session.scalar(select(Firm.id).where(Firm.name == "梧州留存有限公司")) is None
    assert cleanup.fn() == 0  # each file once


def test_the_retention_is_configurable(app, client, login_as):
    app.config["UPLOAD_RETENTION_DAYS"] = 7
    login_as("admin")
    upload(client, [*ROWS, ["梧州七天有限公司", factories.make_uscc(), "万秀区", 1]])
    batch = latest_batch()
    clock.advance(timedelta(days=7, seconds=1))
    assert remove_expired_uploads(clock.utcnow()) == 1
    assert not _stored(batch).exists()


def test_uploads_per_user_are_limited_per_hour(app, client, login_as):
    app.config["UPLOADS_PER_HOUR"] = 2
    user = login_as("manager", districts=[factories.district()])
    factories.make_user("manager")  # another user's uploads do not count
    for n in range(2):
        response = upload(
            client, [*ROWS, [f"梧州限额有限公司{n}", factories.make_uscc(), "万秀区", 1]]
        )
        assert response.status_code == 302
    uploaded = set(Path(current_app.instance_path, "imports").iterdir())
    response = upload(client, [*ROWS, ["梧州超额有限公司", factories.make_uscc(), "万秀区", 1]])
    assert response.status_code == 429
    assert "每小时最多上传 2 个文件，您在过去一小时内已上传 2 个，请稍后再试。" in text_of(response)
    assert set(Path(current_app.instance_path, "imports").iterdir()) == uploaded  # nothing stored
    count = select(func.count(ImportBatch.id)).where(ImportBatch.created_by_id == user.id)
    assert db.session.scalar(count) == 2
    clock.advance(timedelta(hours=1))
    response = upload(client, [*ROWS, ["梧州次时有限公司", factories.make_uscc(), "万秀区", 1]])
    assert response.status_code == 302


def test_job_files_are_deleted_after_the_retention(app, client, login_as):
    login_as("admin")
    upload(client, [*ROWS, ["梧州标注留存有限公司", "bad", "万秀区", 1]])
    run_jobs()
    job = queries.annotated_job(latest_batch())  # the job that wrote the annotated copy
    path = files.result_path(job)
    assert path is not None, (job.status, job.message, job.result_path)
    cleanup = {spec.name: spec for spec in registry.periodic_jobs()}["jobs.files"]
    clock.advance(timedelta(days=90))
    assert cleanup.fn() == 0 and path.is_file()
    clock.advance(timedelta(minutes=1))
    assert cleanup.fn() == 1
    assert not path.exists() and job.result_path is None
