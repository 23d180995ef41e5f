"""The job page: a progress bar that polls until the job ends, its message, file and next step."""

from urllib.parse import quote

import pytest

from crm.extensions import db
from crm.jobs import files, queue, registry
from crm.jobs.models import Job
from tests import factories


@registry.handler("test.web.export", label="导出企业名单")
def _export(job, progress):
    files.result_file(job, "企业名单.csv").write_text("名称\n梧州企业\n", encoding="utf-8")
    return {"message": "已导出 1 家企业。"}


@registry.handler("test.web.refuse", label="导入企业数据")
def _refuse(job, progress):
    progress.update(3, 10, "正在校验第 3/10 行")
    raise queue.JobError("第 3 行缺少企业名称")


def _job(user, kind="test.web.export", payload=None) -> Job:
    job = queue.enqueue(kind, payload, user)
    db.session.commit()
    return job


def _finish(job: Job) -> Job:
    queue.claim_next("w-web")
    queue.run_job(job.id, "w-web")
    db.session.expire_all()
    return db.session.get(Job, job.id)


def _start(job: Job, percent: int, text: str) -> None:
    queue.claim_next("w-web")
    job.progress, job.progress_text = percent, text
    db.session.commit()


def test_the_page_of_a_running_job_shows_its_progress_and_polls(client, login_as):
    user = login_as("manager")
    job = _job(user)
    _start(job, 40, "正在校验第 1200/3000 行")
    response = client.get(f"/jobs/{job.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "导出企业名单" in html
    assert "进行中" in html
    assert 'aria-valuenow="40"' in html and 'width="40%"' in html
    assert "正在校验第 1200/3000 行" in html
    assert f'hx-get="/jobs/{job.id}/progress"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "style=" not in html.split('id="job-progress"')[1]  # the CSP forbids inline styles


def test_the_progress_partial_polls_while_queued_or_running(client, login_as):
    user = login_as("manager")
    job = _job(user)
    queued = client.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in queued and "排队中" in queued
    assert "<html" not in queued
    _start(job, 75, "正在写入第 75/100 行")
    running = client.get(f"/jobs/{job.id}/progress")
    assert running.headers["Cache-Control"] == "no-store"
    html = running.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="75"' in html and "正在写入第 75/100 行" in html


def test_the_progress_partial_stops_polling_once_the_job_is_done(client, login_as):
    user = login_as("manager")
    job = _finish(_job(user, payload={"next_url": "/firms/", "next_label": "查看企业库"}))
    html = client.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
    assert "hx-trigger" not in html and "hx-get" not in html
    assert "已完成" in html and 'aria-valuenow="100"' in html
    assert "已导出 1 家企业。" in html
    assert f'href="/jobs/{job.id}/result"' in html
    assert 'href="/firms/"' in html and "查看企业库" in html


# The progress text reaches the job's row through a connection of its own.
@pytest.mark.real_commits
def test_a_failed_job_shows_its_message_and_stops_polling(client, login_as):
    user = login_as("manager")
    job = _finish(_job(user, "test.web.refuse", {"next_url": "/firms/"}))
    assert job.status == "failed"
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "hx-trigger" not in html
    assert "失败" in html and "alert-danger" in html
    assert "第 3 行缺少企业名称" in html
    assert "中断时：正在校验第 3/10 行" in html
    assert f"/jobs/{job.id}/result" not in html
    assert 'href="/firms/"' in html


def test_only_a_path_on_this_site_is_offered_as_the_next_step(client, login_as):
    user = login_as("manager")
    job = _finish(_job(user, payload={"next_url": "//evil.example/phish"}))
    html = client.get(f"/jobs/{job.id}/progress").get_data(as_text=True)
    assert "evil.example" not in html


def test_the_result_downloads_under_its_chinese_name(client, login_as):
    user = login_as("manager")
    job = _finish(_job(user))
    with client.get(f"/jobs/{job.id}/result") as response:
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "名称\n梧州企业\n"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote("企业名单.csv") in disposition
    assert response.headers["Cache-Control"] == "no-store"


def test_there_is_no_result_to_download_before_the_job_is_done(client, login_as):
    user = login_as("manager")
    job = _job(user)
    assert client.get(f"/jobs/{job.id}/result").status_code == 404
    failed = _finish(_job(user, "test.web.refuse"))
    assert client.get(f"/jobs/{failed.id}/result").status_code == 404


def test_another_users_job_is_not_found(client, login_as):
    owner = factories.make_user("manager")
    job = _finish(_job(owner))
    login_as("manager")
    for path in ("", "/progress", "/result"):
        with client.get(f"/jobs/{job.id}{path}") as response:
            assert response.status_code == 404
    assert client.get("/jobs/999999").status_code == 404


def test_an_admin_may_follow_anyones_job(client, login_as):
    owner = factories.make_user("manager")
    job = _finish(_job(owner))
    login_as("admin")
    assert client.get(f"/jobs/{job.id}").status_code == 200
    with client.get(f"/jobs/{job.id}/result") as response:
        assert response.status_code == 200


def test_the_job_pages_require_a_login(client):
    owner = factories.make_user("manager")
    job = _job(owner)
    for path in ("", "/progress", "/result"):
        response = client.get(f"/jobs/{job.id}{path}")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
