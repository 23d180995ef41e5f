"""The worker: APScheduler ticks, the database holds the queue and the schedule.

Each tick polls the `jobs` table for queued work, refreshes the heartbeat of the jobs this worker
runs, and offers every registered periodic function its lease. `flask crm worker` runs a worker
in the foreground; `flask crm serve` runs one as a thread beside the development server. The app
factory never starts one, so gunicorn workers and the reloader never run extra copies.
"""

import os
import secrets
import signal
import socket
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from crm.jobs.leases import run_periodic
from crm.jobs.progress import heartbeat
from crm.jobs.queue import claim_next, run_job
from crm.jobs.registry import PeriodicSpec, periodic_jobs

#: Longest wait between two offers of a periodic function's lease.
PERIODIC_TICK_SECONDS = 30


def default_worker_id() -> str:
    """Return an identity unique to this process: host, process id and a random suffix."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Run queued jobs and periodic work for `app`, in a background thread or in the foreground."""

    def __init__(self, app: Flask, worker_id: str | None = None):
        self.app = app
        self.worker_id = worker_id or default_worker_id()
        #: How many jobs this worker runs at the same time.
        self.threads = max(1, int(app.config.get("JOB_THREADS", 1)))
        self.scheduler: BaseScheduler | None = None
        self._slots = threading.BoundedSemaphore(self.threads)
        self._periodic_locks: dict[str, threading.Lock] = {}
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start the scheduler in a daemon thread of this process and return."""
        self._run(BackgroundScheduler(daemon=True, **self._scheduler_options()))

    def run_forever(self) -> None:
        """Run the scheduler in this thread until Ctrl-C or SIGTERM, then stop cleanly."""
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _exit) if in_main_thread else None
        try:
            self._run(BlockingScheduler(**self._scheduler_options()))
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.stop()
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)

    def stop(self, wait: bool = True) -> None:
        """Stop taking jobs and shut the scheduler down, waiting for the running job if `wait`."""
        self._stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def poll(self) -> int:
        """Run queued jobs one after another until none is left; return how many ran."""
        # A tick that finds every slot busy returns at once; see `_schedule` for why ticks overlap.
        if not self._slots.acquire(blocking=False):
            return 0
        ran = 0
        try:
            while not self._stopping.is_set():
                with self.app.app_context():
                    job = claim_next(self.worker_id)
                    if job is None:
                        break
                    job_id = job.id
                # A fresh app context, hence a fresh session, for every job.
                with self.app.app_context():
                    run_job(job_id, self.worker_id)
                ran += 1
        finally:
            self._slots.release()
        return ran

    def heartbeat(self) -> None:
        """Refresh the heartbeat of the jobs this worker is running."""
        with self.app.app_context():
            heartbeat(self.worker_id)

    def run_periodic(self, spec: PeriodicSpec) -> bool:
        """Run one periodic function if it is due and this worker wins its lease."""
        lock = self._periodic_locks.setdefault(spec.name, threading.Lock())
        if not lock.acquire(blocking=False):
            return False
        try:
            with self.app.app_context():
                return run_periodic(
                    spec.name, spec.fn, timedelta(seconds=spec.seconds), self.worker_id
                )
        finally:
            lock.release()

    def _scheduler_options(self) -> dict:
        return {
            "timezone": ZoneInfo("UTC"),
            "executors": {"default": ThreadPoolExecutor(self.threads + 4)},
            "job_defaults": {"coalesce": True, "misfire_grace_time": None},
        }

    def _run(self, scheduler: BaseScheduler) -> None:
        self._stopping.clear()
        self.scheduler = scheduler
        self._schedule(scheduler)
        scheduler.start()

    def _schedule(self, scheduler: BaseScheduler) -> None:
        config = self.app.config
        # Ticks may overlap the long run of an earlier one (an import, the daily assessment):
        # one instance more than can do work, and the extra tick returns at once, instead of
        # APScheduler refusing it with a warning every second.
        scheduler.add_job(
            self.poll,
            "interval",
            seconds=float(config.get("JOB_POLL_SECONDS", 1)),
            id="jobs.poll",
            max_instances=self.threads + 1,
        )
        scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=float(config.get("JOB_HEARTBEAT_SECONDS", 30)),
            id="jobs.heartbeat",
        )
        for spec in periodic_jobs():
            scheduler.add_job(
                self.run_periodic,
                "interval",
                args=[spec],
                seconds=min(spec.seconds, PERIODIC_TICK_SECONDS),
                id=f"periodic:{spec.name}",
                max_instances=2,
            )


def _exit(signum, frame) -> None:
    raise SystemExit(0)
