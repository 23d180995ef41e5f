"""What the worker can run: job handlers by kind, and periodic functions by name.

Packages register their handlers (`handler`) and periodic work (`periodic`) in their own `jobs`
modules, which the app factory imports; the queue and the worker look them up here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HandlerSpec:
    """A registered job handler and the Chinese label of its kind."""

    kind: str
    label: str
    fn: Callable[[Any, Any], dict[str, Any] | None]  # (job, progress) -> result


_handlers: dict[str, HandlerSpec] = {}


def handler(kind: str, label: str | None = None) -> Callable:
    """Register `fn(job, progress) -> dict | None` as the handler of the jobs of `kind`.

    The handler flushes and never commits; the runner commits once when it returns. A returned
    dict is stored as the job's result, and its `message`, if any, is shown to the user.
    """

    def decorator(fn: Callable) -> Callable:
        known = _handlers.get(kind)
        if known and (known.fn.__module__, known.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise RuntimeError(f"job kind {kind!r} is already handled by {known.fn.__qualname__}")
        _handlers[kind] = HandlerSpec(kind, label or kind, fn)
        return fn

    return decorator


def kind_label(kind: str) -> str:
    """Return the Chinese label of a job kind."""
    spec = _handlers.get(kind)
    return spec.label if spec else kind


def handler_of(kind: str) -> HandlerSpec | None:
    """Return the registered handler of `kind`, if any."""
    return _handlers.get(kind)


@dataclass(frozen=True)
class PeriodicSpec:
    """A registered periodic function and how often it runs."""

    name: str
    seconds: int
    fn: Callable[[], object]


_periodic: dict[str, PeriodicSpec] = {}


def periodic(name: str, seconds: int) -> Callable:
    """Register `fn()` to run every `seconds` under the lease `name`; it flushes, never commits."""

    def decorator(fn: Callable) -> Callable:
        _periodic[name] = PeriodicSpec(name, seconds, fn)
        return fn

    return decorator


def periodic_jobs() -> list[PeriodicSpec]:
    """Return the registered periodic functions."""
    return list(_periodic.values())
