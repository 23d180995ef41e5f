"""Commands that run the background worker: alone (`worker`) or beside the web server (`serve`)."""

import logging
import os

import click
from flask import current_app


def register(group) -> None:
    """Attach this package's commands to `flask crm`."""
    group.add_command(worker_command)
    group.add_command(serve_command)


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # APScheduler reports every tick (each second) at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


@click.command("worker")
def worker_command() -> None:
    """Run queued background jobs and periodic work until Ctrl-C or SIGTERM."""
    # Loaded here, so web processes (which register these commands) never import APScheduler.
    from crm.jobs.worker import Worker

    _configure_logging()
    worker = Worker(current_app._get_current_object())
    click.echo(f"后台任务进程已启动（{worker.worker_id}），按 Ctrl-C 停止。")
    worker.run_forever()
    click.echo("后台任务进程已停止。")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址。")
@click.option("--port", default=5000, show_default=True, type=int, help="监听端口。")
def serve_command(host: str, port: int) -> None:
    """Serve the app with the development server and run the background worker in this process."""
    from werkzeug.serving import run_simple

    from crm.jobs.worker import Worker

    app = current_app._get_current_object()
    reload = bool(app.debug)
    worker = None
    # With the reloader, this command runs twice: in a parent that only watches the files and
    # restarts the child, and in the child (WERKZEUG_RUN_MAIN) that serves. Only the child works.
    if not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        _configure_logging()
        worker = Worker(app)
        worker.start()
        click.echo(f"后台任务线程已启动（{worker.worker_id}）。")
    try:
        run_simple(host, port, app, use_reloader=reload, use_debugger=reload, threaded=True)
    finally:
        if worker is not None:
            worker.stop()
