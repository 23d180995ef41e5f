"""Background work: the queue of jobs, leases for periodic work, progress, and the worker.

`registry` holds what can run (job handlers, periodic functions); `queue` enqueues, claims and
runs jobs; `leases` runs periodic work once across workers; `progress` writes a running job's
progress beside its transaction; `files` keeps what jobs produce; `worker` ticks it all with
APScheduler, and only `flask crm worker` and `flask crm serve` (`cli`) start one.
"""
