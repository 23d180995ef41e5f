"""The five government layouts (上报报表) and the columns each offers, as data.

A layout defines every column it can show: its key, Chinese header, kind (how it is written and
whether the 合计 row sums it) and width, and which are shown by default. An administrator's
template (`ReportTemplate`) picks which of them are shown and in what order. A yearly column
(营业收入, 研发费用, ...) stands for one sheet column per year of the layout; the sheet groups
them under their year, each year's group in the order the template gives the yearly columns.
"""

from dataclasses import dataclass

from crm.support.rules import SUPPORT_KINDS

#: The parameters a layout may ask for, in the order the download form shows them.
PARAMS = ("year", "batch", "district", "status")


@dataclass(frozen=True)
class Column:
    """A column a layout can show."""

    key: str
    header: str
    #: text, code (a credit code, written as text), date, money (万元), count, number, percent.
    kind: str = "text"
    width: float = 12
    #: One sheet column per year of the layout, grouped under the year.
    yearly: bool = False
    #: Shown by the built-in template.
    default: bool = True
    #: The 合计 row counts the filled cells with this unit ("家").
    tally: str | None = None


@dataclass(frozen=True)
class Layout:
    """A government layout: what it lists, the parameters it asks for and its columns."""

    key: str
    name: str
    description: str
    params: tuple[str, ...]
    columns: tuple[Column, ...]
    #: The label of the year parameter (入库年度, 到期年度, ...).
    year_label: str = "年度"

    def column(self, key: str) -> Column | None:
        """Return the column with `key`, or None."""
        return next((c for c in self.columns if c.key == key), None)

    @property
    def default_keys(self) -> list[str]:
        """Return the keys the built-in template shows, in order."""
        return [c.key for c in self.columns if c.default]


def _firm(*, park=True, industry=False, field=True, established=True, manager=True):
    """Return the columns that describe the firm, most of them shown by default."""
    return (
        Column("name", "企业名称", width=32, tally="家"),
        Column("uscc", "统一社会信用代码", "code", 21),
        Column("district", "所属县（市、区）", width=12),
        Column("park", "所在园区", width=14, default=park),
        Column("industry", "所属行业", width=14, default=industry),
        Column("tech_field", "技术领域", width=14, default=field),
        Column("established_on", "成立日期", "date", 12, default=established),
        Column("legal_rep", "法定代表人", width=10, default=False),
        Column("address", "地址", width=28, default=False),
        *_people(manager),
    )


def _people(manager: bool) -> tuple[Column, ...]:
    return (
        Column("contact", "联系人", width=10, default=False),
        Column("phone", "联系电话", "code", 14, default=False),
        Column("manager", "服务专员", width=10, default=manager),
    )


def _yearly(*shown: str) -> tuple[Column, ...]:
    """Return the yearly figures, those named in `shown` shown by default."""
    figures = (
        Column("total_revenue", "营业收入（万元）", "money", 13, yearly=True),
        Column("sales_revenue", "销售收入（万元）", "money", 13, yearly=True),
        Column("hightech_revenue", "高新技术产品（服务）收入（万元）", "money", 15, yearly=True),
        Column("rd_expense", "研发费用（万元）", "money", 13, yearly=True),
        Column("total_assets", "资产总额（万元）", "money", 13, yearly=True),
        Column("total_staff", "职工总数（人）", "count", 10, yearly=True),
        Column("tech_staff", "科技人员数（人）", "count", 10, yearly=True),
    )
    return tuple(
        Column(f.key, f.header, f.kind, f.width, f.yearly, f.key in shown) for f in figures
    )


def _ratios(*shown: str) -> tuple[Column, ...]:
    return tuple(
        Column(key, header, "percent", 11, default=key in shown)
        for key, header in (
            ("rd_ratio", "近三年研发费用占销售收入比例"),
            ("hightech_ratio", "高新技术产品（服务）收入占比"),
            ("tech_staff_ratio", "科技人员占比"),
        )
    )


def _ip(shown: bool) -> tuple[Column, ...]:
    return (
        Column("ip_class_i", "Ⅰ类知识产权（件）", "count", 10, default=shown),
        Column("ip_class_ii", "Ⅱ类知识产权（件）", "count", 10, default=shown),
    )


RESERVE = Layout(
    key="reserve",
    name="高企后备库入库企业名单",
    description="当年在高企后备库（含一企一策辅导）中的企业，附近三个会计年度的主要指标。",
    params=("year", "district"),
    year_label="入库年度",
    columns=(
        *_firm(),
        Column("entered_on", "入库日期", "date", 12),
        Column("entry_reason", "入库理由", width=26),
        Column("stage", "培育阶段", width=12),
        *_yearly("total_revenue", "rd_expense", "hightech_revenue"),
        *_ratios(),
        *_ip(False),
    ),
)

RECOMMENDATION = Layout(
    key="recommendation",
    name="高新技术企业认定推荐汇总表",
    description="一个认定批次的申报企业（不含已撤回），附申报前三个会计年度的指标、研发占比、"
    "知识产权和申报时的预评估得分。",
    params=("batch", "district"),
    columns=(
        *_firm(park=False, established=True, manager=False),
        Column("application_kind", "申报类型", width=10),
        Column("submitted_on", "申报日期", "date", 12, default=False),
        *_yearly("sales_revenue", "rd_expense"),
        *_ratios("rd_ratio", "hightech_ratio", "tech_staff_ratio"),
        *_ip(True),
        Column("score", "预评估得分", width=10),
        Column("verdict", "预评估结论", width=10),
        Column("result", "评审结果", width=10, default=False),
    ),
)

RECERTIFICATION = Layout(
    key="recertification",
    name="高新技术企业重新认定名单",
    description="证书在当年到期的高新技术企业（含已重新认定、已到期的，不含被取消资格的），"
    "及其重新申报情况。",
    params=("year", "district"),
    year_label="到期年度",
    columns=(
        *_firm(park=False, field=False, established=False),
        Column("certificate_number", "证书编号", "code", 17),
        Column("issued_on", "发证日期", "date", 12),
        Column("expires_on", "有效期至", "date", 12),
        Column("certificate_status", "证书状态", width=10, default=False),
        Column("days_left", "距到期天数", "number", 9, default=False),
        Column("reapplied", "是否重新申报", width=9),
        Column("reapply_batch", "申报批次", width=14),
        Column("reapply_result", "申报结果", width=10),
        *_yearly("sales_revenue", "rd_expense"),
        *_ip(False),
    ),
)

LISTING = Layout(
    key="listing",
    name="上市后备企业名单",
    description="当年在上市后备资源库中的企业、所处阶段、拟上市板块和中介机构。",
    params=("year", "district"),
    columns=(
        *_firm(field=False, industry=True, established=False),
        Column("entered_on", "入库日期", "date", 12),
        Column("stage", "所处阶段", width=12),
        Column("stage_on", "进入阶段日期", "date", 12),
        Column("document", "阶段文号", width=18, default=False),
        Column("target_market", "拟上市板块", width=11),
        Column("neeq_tier", "新三板分层", width=9, default=False),
        Column("sponsor_broker", "保荐券商", width=18),
        Column("law_firm", "律师事务所", width=18, default=False),
        Column("audit_firm", "会计师事务所", width=18, default=False),
        Column("stock_code", "证券代码", "code", 10, default=False),
        Column("is_hte", "是否高新技术企业", width=9, default=False),
        *_yearly("total_revenue", "rd_expense"),
    ),
)

SUPPORT = Layout(
    key="support",
    name="扶持资金汇总表",
    description="当年登记的扶持资金，按企业和扶持类型汇总（万元）。",
    params=("year", "district", "status"),
    columns=(
        *_firm(park=False, field=False, established=False, manager=False),
        *(
            Column(f"kind_{kind}", f"{label}（万元）", "money", 12)
            for kind, label in SUPPORT_KINDS.items()
        ),
        Column("total", "合计（万元）", "money", 13),
        Column("paid", "其中已拨付（万元）", "money", 13),
        Column("entries", "笔数", "count", 7),
        Column("documents", "文号", width=24, default=False),
    ),
)

LAYOUTS = {
    layout.key: layout for layout in (RESERVE, RECOMMENDATION, RECERTIFICATION, LISTING, SUPPORT)
}
