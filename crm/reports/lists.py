"""The lists that can be exported, each as its page shows it (see `crm.core.exports.ListExport`).

The firm list and its yearly figures are written under the importer's headers, so an exported
file, edited, can be imported again as an update (`tests/services/test_export_round_trip.py`
checks every header against the importer's).
"""

from collections.abc import Iterator
from operator import itemgetter

from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.core import clock
from crm.core.exports import Column, ListExport, register
from crm.core.permissions import STAFF_ROLES
from crm.extensions import db
from crm.firms import queries
from crm.firms.forms import list_filters
from crm.firms.models import Firm, FirmYear
from crm.reference.models import District, Industry, Park, TechField

#: Rows fetched from the database at a time.
_CHUNK = 2000


def staff(user: User) -> bool:
    """Tell whether `user` is one of the bureau's people (enterprise users export nothing)."""
    return user.role in STAFF_ROLES


def _selects(user: User, args: MultiDict) -> list[Select]:
    return queries.firm_list_selects(user, list_filters(args), clock.today())


def _count_firms(user: User, args: MultiDict) -> int:
    stmt = queries.filtered_firms(user, list_filters(args), clock.today())
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _names(model) -> dict[int, str]:
    return dict(db.session.execute(select(model.id, model.name)).all())


# --- The firm list ---------------------------------------------------------------------------

_FIRM_FIELDS = (
    "name",
    "uscc",
    "legal_representative",
    "established_on",
    "registered_capital",
    "address",
    "district_id",
    "park_id",
    "industry_id",
    "tech_field_id",
    "is_above_scale",
    "is_incubator",
    "notes",
)
_REFERENCES = {
    "district_id": District,
    "park_id": Park,
    "industry_id": Industry,
    "tech_field_id": TechField,
}


def _firm_rows(user: User, args: MultiDict) -> Iterator[dict]:
    """Yield the listed firms as dicts of their fields, references by name."""
    names = {key: _names(model) for key, model in _REFERENCES.items()}
    columns = [getattr(Firm, field) for field in _FIRM_FIELDS]
    for stmt in _selects(user, args):
        result = db.session.execute(stmt.with_only_columns(*columns)).yield_per(_CHUNK)
        for values in result:
            row = dict(zip(_FIRM_FIELDS, values, strict=True))
            for key, known in names.items():
                if row[key] is not None:
                    row[key] = known.get(row[key])
            yield row


def _column(key: str, header: str, kind: str, width: float) -> Column:
    return Column(key, header, kind, width, itemgetter(key))


FIRMS = register(
    ListExport(
        name="firms",
        filename="企业名单",
        sheet="企业名单",
        columns=(
            _column("name", "企业名称", "text", 36),
            _column("uscc", "统一社会信用代码", "code", 22),
            _column("legal_representative", "法定代表人", "text", 12),
            _column("established_on", "成立日期", "date", 12),
            _column("registered_capital", "注册资本（万元）", "money_wan", 16),
            _column("address", "地址", "text", 36),
            _column("district_id", "所属县（市、区）", "text", 16),
            _column("park_id", "所在园区", "text", 20),
            _column("industry_id", "所属行业", "text", 16),
            _column("tech_field_id", "技术领域", "text", 16),
            _column("is_above_scale", "规上企业", "bool", 10),
            _column("is_incubator", "孵化器", "bool", 8),
            _column("notes", "备注", "text", 30),
        ),
        rows=_firm_rows,
        count=_count_firms,
        allowed=staff,
    )
)


# --- The yearly figures of the listed firms ------------------------------------------------------

_MONEY = (
    ("total_revenue", "总收入（万元）"),
    ("sales_revenue", "销售收入（万元）"),
    ("hightech_revenue", "高新技术产品（服务）收入（万元）"),
    ("rd_expense", "研发费用（万元）"),
    ("domestic_rd_expense", "境内研发费用（万元）"),
    ("total_costs", "成本费用总额（万元）"),
    ("total_assets", "资产总额（万元）"),
    ("total_liabilities", "负债总额（万元）"),
)
_COUNTS = (
    ("total_staff", "职工总数"),
    ("tech_staff", "科技人员数"),
    ("transformed_results", "科技成果转化数"),
)
_YEAR_FIELDS = ("name", "uscc", "year", *(k for k, _ in _MONEY), *(k for k, _ in _COUNTS))


def _year_rows(user: User, args: MultiDict) -> Iterator[dict]:
    """Yield one dict per listed firm and year, the firms in the list's order, then by year."""
    columns = [Firm.name, Firm.uscc, *(getattr(FirmYear, k) for k in _YEAR_FIELDS[2:])]
    for stmt in _selects(user, args):
        joined = (
            stmt.with_only_columns(*columns)
            .join_from(Firm, FirmYear, FirmYear.firm_id == Firm.id)
            .order_by(FirmYear.year)
        )
        for values in db.session.execute(joined).yield_per(_CHUNK):
            yield dict(zip(_YEAR_FIELDS, values, strict=True))


def _count_years(user: User, args: MultiDict) -> int:
    firms = queries.filtered_firms(user, list_filters(args), clock.today())
    stmt = firms.with_only_columns(FirmYear.id).join_from(
        Firm, FirmYear, FirmYear.firm_id == Firm.id
    )
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


YEARS = register(
    ListExport(
        name="firm_years",
        filename="企业年度数据",
        sheet="年度数据",
        columns=(
            _column("name", "企业名称", "text", 36),
            _column("uscc", "统一社会信用代码", "code", 22),
            _column("year", "年度", "count", 8),
            *(_column(key, header, "money_wan", 16) for key, header in _MONEY),
            *(_column(key, header, "count", 12) for key, header in _COUNTS),
        ),
        rows=_year_rows,
        count=_count_years,
        allowed=staff,
    )
)
