"""In a real browser a manager uploads a county workbook, watches the dry run finish, and
downloads the sheet back with the faulty cell marked."""

from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from crm.core import clock
from crm.extensions import db
from crm.jobs import queue
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]
NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def county_workbook(path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["2025年万秀区高新技术企业后备库名单"])
    sheet.append(["序号", "企业名称", "统一社会信用代码", "所属县（市、区）", "营业收入（万元）"])
    sheet.append([1, "梧州浏览器甲有限公司", factories.make_uscc(), "万秀区", "1,200"])
    sheet.append([2, "梧州浏览器乙有限公司", "123", "万秀", 800])
    sheet.append(["合计", None, None, None, 2000])
    book.save(path)


def test_upload_watch_the_dry_run_and_download_the_marked_sheet(page, live_server, tmp_path):
    home = factories.district("450403")
    manager = factories.make_user("manager", name="黄专员", districts=[home])
    db.session.commit()
    county_workbook(tmp_path / "万秀区名单.xlsx")

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")
    page.get_by_role("link", name="数据导入").click()
    page.select_option("select[name=kind]", "firms")
    page.set_input_files("input[name=file]", str(tmp_path / "万秀区名单.xlsx"))
    page.get_by_role("button", name="上传并预检").click()
    page.locator("#job-progress[data-status=queued]").wait_for()

    # The worker takes the job while the page polls.
    job = queue.claim_next("w-browser")
    queue.run_job(job.id, "w-browser")
    # The page reloads itself once the dry run is done.
    page.get_by_text("确认导入").wait_for(timeout=15000)
    assert page.locator(".count-create .fs-4").inner_text() == "1"
    assert page.locator(".count-rejected .fs-4").inner_text() == "1"
    assert page.get_by_text("统一社会信用代码应为 18 位").first.is_visible()
    # A yearly figure whose header names no year takes the title's, and the page says so.
    taken = (
        "E「营业收入（万元）」：列名未注明年度，"
        "按 2025 年（标题行「2025年万秀区高新技术企业后备库名单」）"
    )
    assert page.get_by_text(taken).is_visible()

    # The annotated copy is written next, by a job of its own, while the page polls it.
    assert page.get_by_text("正在生成标注了问题的原表").is_visible()
    job = queue.claim_next("w-browser")
    assert job.kind == "import.annotate"
    queue.run_job(job.id, "w-browser")
    page.locator(".import-annotating .job-download").wait_for(timeout=15000)
    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载标注了问题的原表").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "万秀区名单_导入结果.xlsx"
    sheet = load_workbook(saved).active
    assert sheet["F2"].value == "导入结果"
    assert sheet["F3"].value == "新建"
    assert sheet["F4"].value.startswith("错误：C 列")
    assert "18 位" in sheet["C4"].comment.text
    assert page.problems == []
