"""The background jobs of the reports package: a list export too large to build in a request."""

from typing import Any

from crm.jobs import registry
from crm.reports import delivery, lists, lists_tasks, lists_work  # noqa: F401  (they register)


@registry.handler(delivery.EXPORT_JOB, label="导出 Excel")
def export_job(job, progress) -> dict[str, Any]:
    """Build a list export queued by `delivery.deliver`."""
    return delivery.run_export(job, progress)
