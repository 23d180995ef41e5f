"""A job's page follows its progress in a browser and stops polling once it is done."""

import pytest

from crm.extensions import db
from crm.jobs import files, queue, registry
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@registry.handler("test.browser.export", label="导出企业名单")
def _export(job, progress):
    files.result_file(job, "企业名单.csv").write_text("名称\n", encoding="utf-8")
    return {"message": "已导出 0 家企业。", "next_url": "/firms/", "next_label": "返回企业库"}


def test_the_progress_bar_follows_the_job_until_it_is_done(page, live_server, app):
    user = factories.make_user("manager")
    job = queue.enqueue("test.browser.export", {}, user)
    db.session.commit()
    queue.claim_next("w-browser")
    job.progress, job.progress_text = 40, "正在写入第 40/100 行"
    db.session.commit()

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")
    page.goto(f"{live_server}/jobs/{job.id}")
    page.get_by_text("正在写入第 40/100 行").wait_for()
    track = page.locator("#job-progress .progress").bounding_box()
    fill = page.locator("rect.job-progress-fill").bounding_box()
    assert fill["width"] == pytest.approx(track["width"] * 0.4, abs=2)

    queue.run_job(job.id, "w-browser")
    page.get_by_text("已导出 0 家企业。").wait_for(timeout=10000)
    assert page.locator("#job-progress").get_attribute("hx-trigger") is None
    fill = page.locator("rect.job-progress-fill").bounding_box()
    assert fill["width"] == pytest.approx(track["width"], abs=2)
    assert page.get_by_role("link", name="下载 企业名单.csv").is_visible()
    page.get_by_role("link", name="返回企业库").click()
    page.wait_for_url(f"{live_server}/firms/")
    assert page.problems == []
