"""The job queue: atomic claims, one transaction per job, progress, leases and the sweep."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import OperationalError

from crm.core import clock
from crm.core.audit import AuditEntry
from crm.core.database import (
    BUSY_TIMEOUT_MS,
    JOURNAL_SIZE_LIMIT_BYTES,
    checkpoint,
    write_transactions,
)
from crm.eligibility.jobs import assess_every_firm
from crm.extensions import db
from crm.firms.models import Firm
from crm.jobs import files, leases, queue, registry
from crm.jobs.maintenance import checkpoint_hourly
from crm.jobs.models import Job, Lease
from crm.jobs.progress import Progress, heartbeat, shown_progress
from crm.jobs.queue import DEAD_MESSAGE, JobError
from tests import factories

# Tests marked real_commits look at a job from another connection, or need the progress, heartbeat
# and lease writes, which take connections of their own, to see what the test committed.

T0 = datetime(2026, 3, 2, 1, 0)
LEFTOVER = "不应留下的企业"
_seen: dict[str, object] = {}


@registry.handler("test.echo", label="测试回显")
def _echo(job, progress):
    progress.update(1, 2, "正在回显")
    return {"echo": job.payload["value"], "message": "回显完成"}


@registry.handler("test.crash")
def _crash(job, progress):
    factories.make_firm(name=LEFTOVER)
    with files.result_file(job, "结果.txt").open("w") as out:
        out.write("half")
    raise RuntimeError("磁盘已满")


@registry.handler("test.refuse")
def _refuse(job, progress):
    factories.make_firm(name=LEFTOVER)
    raise JobError("第 3 行缺少统一社会信用代码")


@registry.handler("test.make_firm")
def _make_firm(job, progress):
    return {"firm_id": factories.make_firm(name=job.payload["name"]).id}


@registry.handler("test.export")
def _export(job, progress):
    files.result_file(job, "企业名单.csv").write_text("名称\n梧州企业\n", encoding="utf-8")
    return {"rows": 1}


@registry.handler("test.progress")
def _reports_progress(job, progress):
    progress.update(1, 4, "正在校验第 1/4 行")
    _seen["before_writes"] = _row_seen_elsewhere(job.id)
    factories.make_firm()
    progress.update(2, 4, "正在写入第 2/4 行", force=True)
    _seen["during_writes"] = _row_seen_elsewhere(job.id)
    _seen["shown"] = shown_progress(job)


@registry.handler("test.outlived")
def _outlived(job, progress):
    # Another worker's sweep gives up on this job while its handler is still at work.
    table = Job.__table__
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # waiting for the job's own lock would only stall it
            connection.connection.driver_connection.execute("PRAGMA busy_timeout = 50")
        try:
            with connection.begin():
                connection.execute(
                    update(table)
                    .where(table.c.id == job.id)
                    .values(status="failed", message=DEAD_MESSAGE)
                )
        except OperationalError:
            _seen["outlived"] = "refused"
        finally:
            if sqlite:
                connection.connection.driver_connection.execute(
                    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"
                )
    factories.make_firm(name=LEFTOVER)
    return {"late": True}


def _row_seen_elsewhere(job_id: int) -> tuple:
    # A reader: it waits for no writer, even in a job's thread.
    with write_transactions(False), db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT progress, progress_text FROM jobs WHERE id = :id"), {"id": job_id}
        ).one()
    return tuple(row)


def _run(kind: str, payload=None, user=None, worker: str = "w1") -> Job:
    job = queue.enqueue(kind, payload, user)
    db.session.commit()
    claimed = queue.claim_next(worker)
    assert claimed is not None and claimed.id == job.id
    job_id = job.id
    # As the worker does, run the job in a clean session, not inside the claim's last read.
    db.session.rollback()
    return queue.run_job(job_id, worker)


def _leftovers() -> int:
    return db.session.scalar(select(func.count(Firm.id)).where(Firm.name == LEFTOVER))


def test_a_queued_job_runs_to_done_and_keeps_its_result(app):
    user = factories.make_user("manager")
    with clock.frozen(T0):
        job = queue.enqueue("test.echo", {"value": 7}, user)
        db.session.commit()
        assert (job.status, job.created_by_id, job.kind_label) == ("queued", user.id, "测试回显")
        claimed = queue.claim_next("w1")
        assert (claimed.id, claimed.status, claimed.claimed_by) == (job.id, "running", "w1")
        assert claimed.started_at == T0
        clock.advance(timedelta(seconds=5))
        queue.run_job(job.id, "w1")
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == "done", job.message
    assert job.progress == 100
    assert job.result == {"echo": 7, "message": "回显完成"}
    assert job.message == "回显完成"
    assert job.finished_at == T0 + timedelta(seconds=5)
    assert queue.claim_next("w1") is None


def test_jobs_are_claimed_oldest_first(app):
    first = queue.enqueue("test.echo", {"value": 1})
    second = queue.enqueue("test.echo", {"value": 2})
    db.session.commit()
    assert [queue.claim_next("w1").id, queue.claim_next("w1").id] == [first.id, second.id]
    assert queue.claim_next("w1") is None


def test_an_unknown_kind_cannot_be_queued(app):
    with pytest.raises(ValueError):
        queue.enqueue("test.nobody_handles_this", {})


def test_a_failing_handler_leaves_nothing_it_wrote(app, caplog):
    job = _run("test.crash")
    assert job.status == "failed"
    assert job.message == "任务执行出错：磁盘已满"
    assert _leftovers() == 0
    assert not db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.entity == "firms")
    )
    assert (job.result_path, job.result_name) == (None, None)
    assert not files.job_folder(job.id).exists()
    assert "RuntimeError: 磁盘已满" in caplog.text  # the traceback is logged


def test_a_job_error_message_is_shown_verbatim(app):
    job = _run("test.refuse")
    assert job.status == "failed"
    assert job.message == "第 3 行缺少统一社会信用代码"
    assert _leftovers() == 0


def test_a_job_whose_handler_is_gone_fails_with_a_message(app):
    job = Job(kind="test.retired", payload={})
    db.session.add(job)
    db.session.commit()
    queue.claim_next("w1")
    job = queue.run_job(job.id, "w1")
    assert job.status == "failed"
    assert "test.retired" in job.message


def test_the_creator_of_a_job_is_the_actor_of_its_changes(app):
    user = factories.make_user("manager")
    job = _run("test.make_firm", {"name": "审计企业"}, user)
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity == "firms",
            AuditEntry.entity_id == job.result["firm_id"],
            AuditEntry.action == "create",
        )
    )
    assert (entry.actor_id, entry.source) == (user.id, "system")


def test_the_payload_may_name_the_audit_source(app):
    user = factories.make_user("manager")
    job = _run("test.make_firm", {"name": "导入企业", "source": "import:12"}, user)
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity == "firms", AuditEntry.entity_id == job.result["firm_id"]
        )
    )
    assert (entry.actor_id, entry.source) == (user.id, "import:12")


def test_a_job_may_produce_a_file_to_download(app):
    job = _run("test.export")
    assert job.status == "done", job.message
    assert job.result_name == "企业名单.csv"
    path = files.result_path(job)
    assert path is not None and path.read_text(encoding="utf-8") == "名称\n梧州企业\n"
    assert path.parent == files.job_folder(job.id)


@pytest.mark.real_commits
def test_progress_is_visible_to_other_connections_while_the_handler_runs(app):
    _seen.clear()
    job = _run("test.progress")
    assert job.status == "done", job.message
    if db.engine.dialect.name == "postgresql":
        assert _seen["before_writes"] == (25, "正在校验第 1/4 行")
        assert _seen["during_writes"] == (50, "正在写入第 2/4 行")
    else:
        # On SQLite a job's transaction holds the write lock from its start (crm.core.database)
        # and nobody else writes until it ends: the updates are skipped (without raising or
        # waiting), and only this process knows them.
        assert _seen["before_writes"] == _seen["during_writes"] == (0, None)
    assert _seen["shown"] == (50, "正在写入第 2/4 行")
    assert shown_progress(job) == (100, None)


@pytest.mark.real_commits
def test_progress_writes_are_throttled_unless_forced(app):
    job = queue.enqueue("test.echo", {"value": 1})
    db.session.commit()
    queue.claim_next("w1")
    progress = Progress(job.id, "w1", interval=3600)
    try:
        progress.update(1, 10, "第一次")
        progress.update(5, 10, "第二次")
        assert _row_seen_elsewhere(job.id) == (10, "第一次")
        progress.update(10, 10, "第三次", force=True)
        assert _row_seen_elsewhere(job.id) == (99, "第三次")  # 100 only once the job is done
    finally:
        progress.close()


@pytest.mark.real_commits
def test_progress_of_another_workers_job_is_not_written(app):
    job = queue.enqueue("test.echo", {"value": 1})
    db.session.commit()
    queue.claim_next("w1")
    impostor = Progress(job.id, "w2", interval=0)
    try:
        impostor.update(5, 10, "冒名")
        assert _row_seen_elsewhere(job.id) == (0, None)
        assert shown_progress(db.session.get(Job, job.id)) == (0, None)
    finally:
        impostor.close()


@pytest.mark.real_commits
def test_two_workers_never_take_the_same_job(app):
    queued = [queue.enqueue("test.echo", {"value": n}).id for n in range(50)]
    db.session.commit()
    taken: dict[str, list[int]] = {"worker-a": [], "worker-b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(len(taken))

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                while (job := queue.claim_next(name)) is not None:
                    taken[name].append(job.id)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    claimed = taken["worker-a"] + taken["worker-b"]
    assert sorted(claimed) == sorted(queued)  # every job once, none twice
    db.session.expire_all()
    owners = dict(db.session.execute(select(Job.id, Job.claimed_by)).all())
    assert all(owners[job_id] == name for name, ids in taken.items() for job_id in ids)


@pytest.mark.real_commits
def test_the_heartbeat_refreshes_only_the_workers_own_jobs(app):
    with clock.frozen(T0):
        mine = queue.enqueue("test.echo", {"value": 1})
        theirs = queue.enqueue("test.echo", {"value": 2})
        db.session.commit()
        queue.claim_next("w1")
        queue.claim_next("w2")
        clock.advance(timedelta(minutes=3))
        assert heartbeat("w1")
    db.session.expire_all()
    assert db.session.get(Job, mine.id).heartbeat_at == T0 + timedelta(minutes=3)
    assert db.session.get(Job, theirs.id).heartbeat_at == T0


@pytest.mark.real_commits
def test_the_sweep_fails_jobs_whose_worker_stopped(app):
    with clock.frozen(T0):
        dead = queue.enqueue("test.echo", {"value": 1})
        alive = queue.enqueue("test.echo", {"value": 2})
        waiting = queue.enqueue("test.echo", {"value": 3})
        db.session.commit()
        queue.claim_next("gone")
        queue.claim_next("alive")
        clock.advance(timedelta(minutes=6))
        heartbeat("alive")
        clock.advance(timedelta(minutes=4))
        assert queue.sweep_dead_jobs() == 0  # ten minutes exactly is not yet dead
        clock.advance(timedelta(seconds=1))
        assert queue.sweep_dead_jobs() == 1
        db.session.commit()
        # The stopped worker, were it to come back, does not run the job again.
        assert queue.run_job(dead.id, "gone").status == "failed"
    db.session.expire_all()
    assert (db.session.get(Job, dead.id).status, db.session.get(Job, dead.id).message) == (
        "failed",
        DEAD_MESSAGE,
    )
    assert db.session.get(Job, alive.id).status == "running"
    assert db.session.get(Job, waiting.id).status == "queued"


def test_the_dead_worker_timeout_is_configurable(app):
    app.config["JOB_DEAD_AFTER_MINUTES"] = 2
    with clock.frozen(T0):
        queue.enqueue("test.echo", {"value": 1})
        db.session.commit()
        queue.claim_next("gone")
        clock.advance(timedelta(minutes=3))
        assert queue.sweep_dead_jobs() == 1


@pytest.mark.real_commits
def test_work_of_a_job_given_up_on_while_running_is_discarded(app):
    job = _run("test.outlived")
    if db.engine.dialect.name == "postgresql":
        assert (job.status, job.message) == ("failed", DEAD_MESSAGE)
        assert _leftovers() == 0
    else:
        # On SQLite the job's transaction holds the write lock from its start: nobody can give
        # up on the job while it runs, and its work is kept.
        assert _seen["outlived"] == "refused"
        assert job.status == "done"
        assert _leftovers() == 1


@pytest.mark.real_commits
def test_the_lease_goes_to_one_holder_until_it_expires(app):
    ttl = timedelta(minutes=1)
    with clock.frozen(T0):
        assert leases.acquire_lease("scheduler", "a", ttl)
        assert not leases.acquire_lease("scheduler", "b", ttl)
        clock.advance(timedelta(seconds=30))
        assert leases.acquire_lease("scheduler", "a", ttl)  # renewed until T0 + 90 s
        clock.advance(timedelta(seconds=45))
        assert not leases.acquire_lease("scheduler", "b", ttl)
        clock.advance(timedelta(seconds=15))
        assert leases.acquire_lease("scheduler", "b", ttl)
        assert not leases.acquire_lease("scheduler", "a", ttl)
    lease = db.session.get(Lease, "scheduler")
    assert (lease.holder, lease.expires_at) == ("b", T0 + timedelta(seconds=150))


@pytest.mark.real_commits
def test_a_periodic_function_runs_once_per_period_whoever_asks(app):
    calls = []

    def tick():
        calls.append(clock.utcnow())
        factories.make_firm(name="定时任务企业")

    hour = timedelta(hours=1)
    with clock.frozen(T0):
        assert leases.run_periodic("test.tick", tick, hour, "a")
        assert not leases.run_periodic("test.tick", tick, hour, "b")
        assert not leases.run_periodic("test.tick", tick, hour, "a")
        clock.advance(hour)
        assert leases.run_periodic("test.tick", tick, hour, "b")
    assert calls == [T0, T0 + hour]
    db.session.rollback()  # what the function flushed was committed by the runner
    count = select(func.count(Firm.id)).where(Firm.name == "定时任务企业")
    assert db.session.scalar(count) == 2


@pytest.mark.real_commits
def test_a_failed_periodic_run_is_rolled_back_and_retried_soon(app):
    attempts = []

    def flaky():
        attempts.append(clock.utcnow())
        factories.make_firm(name=LEFTOVER)
        if len(attempts) == 1:
            raise RuntimeError("数据库暂时不可用")

    day = timedelta(days=1)
    with clock.frozen(T0):
        assert not leases.run_periodic("test.flaky", flaky, day, "a")
        assert _leftovers() == 0
        clock.advance(timedelta(minutes=4))
        assert not leases.run_periodic("test.flaky", flaky, day, "b")
        clock.advance(timedelta(minutes=1))
        assert leases.run_periodic("test.flaky", flaky, day, "b")
    assert len(attempts) == 2


@pytest.mark.real_commits
def test_two_schedulers_at_once_run_a_periodic_function_once(app):
    calls = []
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def race(holder: str) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                leases.run_periodic(
                    "test.race", lambda: calls.append(holder), timedelta(hours=1), holder
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=race, args=(holder,)) for holder in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(calls) == 1


@pytest.mark.real_commits
def test_the_sweep_and_the_daily_assessment_are_periodic(app):
    periodic = {spec.name: spec for spec in registry.periodic_jobs()}
    assert periodic["jobs.sweep"].fn is queue.sweep_dead_jobs
    assert periodic["eligibility.assess"].seconds == 24 * 3600
    assert periodic["eligibility.assess"].fn is assess_every_firm
    factories.make_firm()
    db.session.commit()
    assert leases.run_periodic("eligibility.assess", assess_every_firm, timedelta(days=1), "w1")


def test_sqlite_connections_use_wal_and_wait_for_other_writers(app, tmp_path):
    # Its own SQLite file, so the check runs whichever database the suite uses.
    engine = create_engine(f"sqlite:///{tmp_path / 'wal.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        limit = connection.exec_driver_sql("PRAGMA journal_size_limit").scalar()
        assert limit == JOURNAL_SIZE_LIMIT_BYTES
    engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_when_they_begin(app, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'begin.sqlite'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    with engine.connect() as first, engine.connect() as second:
        # The other writer fails at once instead of waiting, to show who holds the lock.
        second.connection.driver_connection.execute("PRAGMA busy_timeout = 0")
        with write_transactions():
            first.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert second.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0  # reads go on
        with pytest.raises(OperationalError, match="locked"):
            second.exec_driver_sql("INSERT INTO t VALUES (1)")
        second.rollback()
        first.exec_driver_sql("INSERT INTO t VALUES (1)")
        first.commit()
        # Outside `write_transactions` (and outside form posts) a read takes no lock.
        assert first.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
        second.exec_driver_sql("INSERT INTO t VALUES (2)")
        second.commit()
        first.rollback()
    engine.dispose()


def test_the_worker_empties_the_sqlite_log_every_hour(app, tmp_path):
    periodic = {spec.name: spec for spec in registry.periodic_jobs()}
    assert periodic["database.checkpoint"].seconds == 3600
    assert periodic["database.checkpoint"].fn is checkpoint_hourly
    engine = create_engine(f"sqlite:///{tmp_path / 'log.sqlite'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (s TEXT)")
        connection.exec_driver_sql(
            "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 2000) SELECT hex(randomblob(500)) FROM n"
        )
    log = tmp_path / "log.sqlite-wal"
    assert log.stat().st_size > 0
    busy, pages, copied = checkpoint(engine)
    assert (busy, log.stat().st_size) == (0, 0)
    assert pages == copied
    engine.dispose()
