"""A firm's yearly figures read from a workbook, offered to whoever needs them.

The importer (`crm.excel`) knows how to read a workbook of yearly figures: the same headers,
units, checks and dry run as the bureau's imports. The portal, beside it in the package order,
lets a firm upload that very template. This registry joins them: the importer registers its
reader and its blank template here, and the portal asks for them here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class YearFile:
    """What a workbook of one firm's yearly figures holds, after the importer's dry run."""

    #: The figures each year proposes, as model attributes (amounts in yuan); only the columns
    #: the workbook fills.
    years: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: What is wrong, each saying where (sheet row and column): nothing is taken when any.
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class YearFiles:
    """The importer's means for a firm's own workbook of yearly figures."""

    #: Reads an upload (a werkzeug FileStorage) for one firm as `user` would import it.
    read: Callable[[Any, Any], YearFile]
    #: Returns the blank template (xlsx bytes) and its file name.
    blank: Callable[[], tuple[bytes, str]]


_registered: list[YearFiles] = []


def register_year_files(means: YearFiles) -> None:
    """Offer the means to read and to hand out a workbook of yearly figures."""
    _registered[:] = [means]


def year_files() -> YearFiles:
    """Return the registered means (the importer registers them when the app is built)."""
    if not _registered:
        raise RuntimeError("no reader of yearly figures is registered (crm.excel registers one)")
    return _registered[0]
