"""The worker runs queued jobs and periodic work; `flask crm worker` and `serve` start it."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.jobs import queue, registry
from crm.jobs.models import Job
from crm.jobs.worker import Worker
from tests import factories

# Tests marked real_commits run the worker in threads or a process of its own, with sessions and
# connections of their own that must see what the test committed.


@registry.handler("test.worker.note", label="测试任务")
def _note(job, progress):
    firm = factories.make_firm(name=f"后台企业{job.payload['n']}")
    return {"firm_id": firm.id}


def _status(job_id: int) -> str:
    status = db.session.scalar(select(Job.status).where(Job.id == job_id))
    db.session.rollback()  # a fresh snapshot for the next look
    return status


def test_a_poll_runs_every_queued_job_in_turn(app):
    queued = [queue.enqueue("test.worker.note", {"n": n}).id for n in range(3)]
    db.session.commit()
    worker = Worker(app, "w-poll")
    assert worker.poll() == 3
    assert [_status(job_id) for job_id in queued] == ["done", "done", "done"]
    assert worker.poll() == 0


def test_a_poll_while_every_slot_is_busy_returns_at_once(app):
    queue.enqueue("test.worker.note", {"n": 1})
    db.session.commit()
    worker = Worker(app, "w-busy")
    worker._slots.acquire()  # the one slot is taken by a long job of an earlier tick
    try:
        assert worker.poll() == 0
    finally:
        worker._slots.release()
    assert worker.poll() == 1


@pytest.mark.real_commits
def test_a_started_worker_runs_queued_jobs_in_its_thread(app):
    app.config["JOB_POLL_SECONDS"] = 0.05
    worker = Worker(app, "w-thread")
    worker.start()
    try:
        scheduled = {job.id for job in worker.scheduler.get_jobs()}
        assert {"jobs.poll", "jobs.heartbeat", "periodic:jobs.sweep"} <= scheduled
        assert "periodic:eligibility.assess" in scheduled
        job = queue.enqueue("test.worker.note", {"n": 1})
        db.session.commit()
        deadline = time.monotonic() + 30
        while _status(job.id) != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert not worker.scheduler.running
    finished = db.session.get(Job, job.id)
    assert (finished.status, finished.claimed_by) == ("done", "w-thread"), finished.message


def test_the_worker_command_runs_a_worker_until_it_is_stopped(runner, monkeypatch):
    ran = []
    monkeypatch.setattr(Worker, "run_forever", lambda self: ran.append(self.worker_id))
    result = runner.invoke(args=["crm", "worker"])
    assert result.exit_code == 0, result.output
    assert "后台任务进程已启动" in result.output
    assert "后台任务进程已停止" in result.output
    assert len(ran) == 1


@pytest.fixture
def served(monkeypatch):
    """Record what `flask crm serve` would start, without serving or scheduling anything."""
    calls: dict = {}

    def run_simple(host, port, application, **options):
        calls.update(host=host, port=port, app=application, **options)

    monkeypatch.setattr("werkzeug.serving.run_simple", run_simple)
    monkeypatch.setattr(Worker, "start", lambda self: calls.setdefault("started", self.worker_id))
    monkeypatch.setattr(Worker, "stop", lambda self, wait=True: calls.setdefault("stopped", True))
    return calls


def test_serve_runs_the_worker_beside_the_server(app, runner, served):
    result = runner.invoke(args=["crm", "serve", "--port", "5055"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"], served["app"]) == ("127.0.0.1", 5055, app)
    assert served["use_reloader"] is False
    assert "started" in served and "stopped" in served
    assert "后台任务线程已启动" in result.output


def test_serve_with_the_reloader_runs_the_worker_only_in_the_serving_child(
    app, runner, served, monkeypatch
):
    app.debug = True
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert runner.invoke(args=["crm", "serve"]).exit_code == 0
    assert served["use_reloader"] is True
    assert "started" not in served  # the watching parent never runs jobs
    served.clear()
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    assert runner.invoke(args=["crm", "serve"]).exit_code == 0
    assert "started" in served


@pytest.mark.real_commits
def test_run_forever_returns_once_stopped_from_another_thread(app):
    worker = Worker(app, "w-forever")
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    deadline = time.monotonic() + 30
    while (
        worker.scheduler is None or not worker.scheduler.running
    ) and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.real_commits
def test_the_worker_process_runs_jobs_and_stops_cleanly_on_sigterm(app, database_url):
    job = queue.enqueue("eligibility.refresh", {"firm_ids": []})
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only-secret",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLASK_DEBUG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "crm", "worker"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _status(job.id) != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert _status(job.id) == "done", output
    assert process.returncode == 0, output
    assert "后台任务进程已启动" in output
    assert "后台任务进程已停止" in output
