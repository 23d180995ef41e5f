"""A manager exports a firm list too large to build in the request: the export runs as a job,
its page follows the progress bar to the end, and the link it then offers downloads the file."""

import re

import pytest
from openpyxl import load_workbook

from crm.extensions import db
from crm.jobs import queue
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


def test_a_large_export_runs_as_a_job_and_downloads_when_the_bar_completes(
    page, live_server, app, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 3)
    home, other = factories.district("450403"), factories.district("450405")
    manager = factories.make_user("manager", districts=[home])
    mine = sorted(factories.make_firm(district=home).name for _ in range(5))
    factories.make_firm(district=other)
    db.session.commit()

    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")
    page.goto(f"{live_server}/firms/")
    page.locator("a.export-button[data-list=firms]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_id = int(page.url.rsplit("/", 1)[1])

    # The worker's part, done here: claim the job and build the file while the page polls.
    job = queue.claim_next("w-browser")
    assert job is not None and job.id == job_id
    queue.run_job(job.id, "w-browser")
    link = page.get_by_role("link", name=re.compile(r"下载 企业名单_\d{8}\.xlsx$"))
    link.wait_for(timeout=10000)
    track = page.locator("#job-progress .progress").bounding_box()
    fill = page.locator("rect.job-progress-fill").bounding_box()
    assert fill["width"] == pytest.approx(track["width"], abs=2)
    assert page.locator("#job-progress").get_attribute("hx-trigger") is None

    with page.expect_download() as download:
        link.click()
    path = tmp_path / "export.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "企业名称"
    assert sorted(row[0] for row in rows[1:]) == mine
    assert page.problems == []
