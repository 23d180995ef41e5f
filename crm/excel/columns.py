"""What each import kind accepts: its fields, their Chinese headers and synonyms, and how a
header found in a workbook is matched to a field, with the unit and the year it carries.

The same definitions drive the importer, the blank templates and their explanation sheet, so
a column the template offers is always one the importer reads. Pure: no Flask, no database.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from crm.certification.rules import DUTY_KINDS
from crm.excel.values import IP_KIND_SYNONYMS
from crm.firms import rules as firm_rules
from crm.pipeline.rules import ENTRY_REASONS

#: Units a header may carry, and what one unit is in yuan (money) or in itself (counts).
MONEY_UNITS = {
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万元": Decimal(10000),
    "亿元": Decimal(10**8),
}
#: Accepted spellings of a unit in a header.
UNIT_ALIASES = {"万": "万元", "亿": "亿元", "千": "千元", "人民币万元": "万元", "人民币元": "元"}


@dataclass(frozen=True)
class FieldDef:
    """One field an import kind can fill."""

    key: str
    label: str
    #: How cells are read: text, uscc, date, money, int, bool, percent, year, district, park,
    #: industry, tech_field, phone, email, or choice (with `choices`).
    parser: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None
    help: str = ""
    example: str = ""
    #: A yearly figure: the year comes from the header ("2024年营业收入") or a year column.
    yearly: bool = False
    choices: dict[str, str] = field(default_factory=dict)
    #: Other spellings of choice labels: spelling → code.
    choice_synonyms: dict[str, str] = field(default_factory=dict)
    #: The unit shown in the template header for money fields.
    unit: str | None = None

    @property
    def header(self) -> str:
        """Return the template header, with its unit: "注册资本（万元）"."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label


@dataclass(frozen=True)
class ImportKind:
    """One kind of import: what a row describes and which fields it may carry."""

    code: str
    label: str
    fields: tuple[FieldDef, ...]
    #: A sentence for the import page and the template's explanation sheet.
    description: str
    #: Whether rows may create firms (only the firm list does; the others need the firm).
    creates_firms: bool = False
    #: The table of the records a row adds to its firm (the firm list adds yearly figures).
    records: str = "firm_years"
    #: Whether new records are written in SQL from the stored dry run (`crm.excel.creates`);
    #: otherwise they go through the package that owns them, one row at a time.
    written_in_sql: bool = True

    def get(self, key: str) -> FieldDef:
        """Return the field with `key`."""
        return next(f for f in self.fields if f.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the field keys in template order."""
        return tuple(f.key for f in self.fields)


def _money(key, label, synonyms, help_text, example="1234.56", unit="万元"):
    help_text += "；不能为负数"
    return FieldDef(
        key, label, "money", synonyms, help=help_text, example=example, yearly=True, unit=unit
    )


def _count(key, label, synonyms, help_text, example="56"):
    help_text += "；不能为负数"
    return FieldDef(key, label, "int", synonyms, help=help_text, example=example, yearly=True)


FIRM_NAME = FieldDef(
    "name",
    "企业名称",
    "text",
    ("单位名称", "公司名称", "企业全称", "企业（单位）名称", "企业名称全称", "纳税人名称"),
    max_length=200,
    help="营业执照上的全称；与统一社会信用代码至少填写一项，用于匹配系统中的企业"
    "（企业名单中未填代码的行只按名称更新已有企业，并提示核对）",
    example="梧州某某科技有限公司",
)
USCC = FieldDef(
    "uscc",
    "统一社会信用代码",
    "uscc",
    ("信用代码", "社会信用代码", "统一代码", "纳税人识别号", "统一社会信用代码（纳税人识别号）"),
    help="18 位代码，字母大写；全角字符和空格会自动处理；校验位不符时只提示；"
    "企业名单中新建企业必填，同一文件中重复的代码只导入第一行",
    example="91450403MA5K8C2Q7L",
)

#: The yearly figures of a firm (FirmYear), shared by the firm list and the figures import.
YEAR_FIGURES = (
    _money(
        "total_revenue",
        "总收入",
        ("营业总收入", "收入总额", "总收入额"),
        "企业当年总收入（销售收入加其他收入）",
    ),
    _money(
        "sales_revenue",
        "销售收入",
        ("营业收入", "主营业务收入", "销售收入额", "营业收入额"),
        "主营业务收入与其他业务收入之和",
    ),
    _money(
        "hightech_revenue",
        "高新技术产品（服务）收入",
        ("高新技术产品收入", "高新收入", "高品收入", "高新技术产品（服务）收入额"),
        "与主要知识产权相关的产品（服务）收入",
    ),
    _money(
        "rd_expense",
        "研发费用",
        ("研发投入", "研究开发费用", "研发经费", "研发经费支出", "R&D经费支出", "研发费用总额"),
        "当年研究开发费用总额",
    ),
    _money(
        "domestic_rd_expense",
        "境内研发费用",
        ("在中国境内发生的研发费用", "境内研究开发费用"),
        "在中国境内发生的研究开发费用",
    ),
    _money("total_costs", "成本费用总额", ("成本费用", "成本费用合计"), "科技型中小企业评价用"),
    _money("total_assets", "资产总额", ("总资产", "资产合计"), "年末资产总额"),
    _money("total_liabilities", "负债总额", ("总负债", "负债合计"), "年末负债总额"),
    _count(
        "total_staff",
        "职工总数",
        ("从业人员", "从业人员数", "职工人数", "员工总数", "员工人数", "职工总人数"),
        "全年月平均职工人数",
        "120",
    ),
    _count(
        "tech_staff",
        "科技人员数",
        ("科技人员", "研发人员", "研发人员数", "科技人员人数"),
        "全年月平均科技人员数（累计工作 183 天以上）",
        "18",
    ),
    _count(
        "transformed_results",
        "科技成果转化数",
        ("成果转化数", "科技成果转化", "成果转化数量"),
        "当年转化的科技成果项数",
        "3",
    ),
)
#: The firm's contact person (`crm.excel.contacts`): the one of that name, or the primary one.
CONTACT_FIELDS = (
    FieldDef(
        "contact_name",
        "联系人",
        "text",
        ("联系人姓名", "企业联系人", "联系人员", "项目联系人", "联络人"),
        max_length=64,
        help="企业的主要联系人；与系统中的联系人同名时更新其电话、邮箱、职务，"
        "是新的姓名时新增为主要联系人，原联系人保留在联系人列表中",
        example="李四",
    ),
    FieldDef(
        "contact_role",
        "职务",
        "text",
        ("联系人职务", "职位", "联系人职位"),
        max_length=32,
        example="科技项目联系人",
    ),
    FieldDef(
        "contact_phone",
        "联系电话",
        "phone",
        (
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "电话号码",
            "联系方式",
            "联系人电话",
            "联系人手机",
            "移动电话",
            "办公电话",
            "固定电话",
            "联系电话（手机）",
        ),
        help="请把该列设为文本格式；按数字存储的号码无法保留开头的 0："
        "10 或 11 位、以 77 开头的号码（广西区号 0770–0779 丢了 0）自动补回 0，"
        "其他可能丢了 0 的号码照原样导入并提示核对",
        example="0774-3821234",
    ),
    FieldDef(
        "contact_email",
        "邮箱",
        "email",
        ("电子邮箱", "电子邮件", "联系人邮箱", "email", "e-mail", "邮件地址"),
        help="如 lisi@example.com",
        example="lisi@example.com",
    ),
)
YEAR = FieldDef(
    "year",
    "年度",
    "year",
    ("年份", "统计年度", "所属年度", "数据年度"),
    help="四位年份；也可把年份写在数据列名里（如「2024年营业收入」），每年一列",
    example="2025",
)

FIRMS = ImportKind(
    "firms",
    "企业名单",
    (
        FIRM_NAME,
        USCC,
        FieldDef(
            "legal_representative",
            "法定代表人",
            "text",
            ("法人代表", "法人", "法定代表"),
            max_length=64,
            example="张三",
        ),
        FieldDef(
            "established_on",
            "成立日期",
            "date",
            ("成立时间", "注册日期", "注册时间", "成立年月日"),
            help="如 2016-05-08、2016/5/8、2016年5月8日 或 Excel 日期",
            example="2016-05-08",
        ),
        FieldDef(
            "registered_capital",
            "注册资本",
            "money",
            ("注册资金",),
            help="列名注明单位（万元或元）；未注明时按元；不能为负数",
            example="500",
            unit="万元",
        ),
        FieldDef(
            "address",
            "地址",
            "text",
            ("注册地址", "企业地址", "通讯地址", "详细地址", "经营地址", "住所", "单位地址"),
            max_length=255,
            example="梧州市万秀区某某路 1 号",
        ),
        FieldDef(
            "district",
            "所属县（市、区）",
            "district",
            (
                "县区",
                "所在地",
                "所属县区",
                "县（市、区）",
                "所在县区",
                "区县",
                "所属区县",
                "所在县（市、区）",
            ),
            help="如 万秀区、岑溪市、岑溪；也可写 6 位行政区划代码",
            example="万秀区",
        ),
        FieldDef("park", "所在园区", "park", ("园区", "所属园区"), example="梧州高新区"),
        FieldDef(
            "industry",
            "所属行业",
            "industry",
            ("行业", "行业类别", "所属产业", "产业", "产业类别"),
            help="系统中没有的行业留空并提示，企业照常导入",
            example="电子信息",
        ),
        FieldDef(
            "tech_field",
            "技术领域",
            "tech_field",
            ("所属技术领域", "高新技术领域", "领域", "所属领域", "重点支持领域"),
            help="国家重点支持的高新技术领域八大类之一；无法识别时留空并提示，企业照常导入",
            example="电子信息",
        ),
        FieldDef(
            "is_above_scale",
            "规上企业",
            "bool",
            ("是否规上企业", "是否规上", "是否规模以上企业", "规模以上企业", "是否规模以上"),
            help="是 / 否",
            example="是",
        ),
        FieldDef("is_incubator", "孵化器", "bool", ("是否孵化器", "是否为孵化器"), example="否"),
        *CONTACT_FIELDS,
        FieldDef("notes", "备注", "text", ("说明",), max_length=2000),
        *YEAR_FIGURES,
    ),
    "新建或更新企业的基本信息，可同时带各年度经济指标（列名写年份，如「2024年营业收入（万元）」）。"
    "按统一社会信用代码匹配，其次按企业名称或曾用名匹配；新建企业须有统一社会信用代码。",
    creates_firms=True,
)

YEARS = ImportKind(
    "years",
    "年度经济指标",
    (FIRM_NAME, USCC, YEAR, *YEAR_FIGURES),
    "更新已有企业的年度经济指标：每行一家企业一个年度（有「年度」列），"
    "或每行一家企业、每年一组列（列名写年份）。",
)

IP = ImportKind(
    "ip",
    "知识产权",
    (
        FIRM_NAME,
        USCC,
        FieldDef(
            "kind",
            "类型",
            "choice",
            ("知识产权类型", "类别", "专利类型", "知识产权类别"),
            required=True,
            choices={code: label for code, (label, _) in firm_rules.IP_KINDS.items()},
            choice_synonyms={**IP_KIND_SYNONYMS, "发明专利权": "invention", "软件": "software"},
            example="发明专利",
        ),
        FieldDef(
            "number",
            "授权号/登记号",
            "text",
            ("专利号", "授权号", "登记号", "证书号", "申请号", "专利（登记）号"),
            max_length=64,
            help="同一企业的同一授权号只记一次；再次导入时更新该项",
            example="ZL202310123456.7",
        ),
        FieldDef(
            "title",
            "名称",
            "text",
            ("知识产权名称", "专利名称", "软件名称", "作品名称", "发明名称"),
            required=True,
            max_length=255,
            example="一种智能电表的控制方法",
        ),
        FieldDef(
            "granted_on",
            "授权日期",
            "date",
            ("授权公告日", "登记日期", "获得日期", "授权时间", "发证日期"),
            example="2024-03-15",
        ),
        FieldDef(
            "status",
            "状态",
            "choice",
            ("法律状态", "当前状态"),
            choices=firm_rules.IP_STATUSES,
            choice_synonyms={
                "授权": "valid",
                "已授权": "valid",
                "审中": "pending",
                "无效": "expired",
            },
            example="有效",
        ),
        FieldDef(
            "acquisition",
            "获得方式",
            "choice",
            ("取得方式", "获取方式"),
            choices=firm_rules.ACQUISITION_MODES,
            choice_synonyms={"自主": "own", "原始取得": "own", "自主知识产权": "own"},
            example="自主研发",
        ),
    ),
    "为已有企业新增或更新知识产权；同一企业的同一授权号（无授权号时为类型加名称）只记一项。",
    records="ip_items",
)

QUALIFICATIONS = ImportKind(
    "qualifications",
    "资质名单",
    (
        FIRM_NAME,
        USCC,
        FieldDef(
            "tier",
            "资质",
            "choice",
            ("资质类型", "认定类型", "资质名称", "企业类型"),
            choices={code: label for code, (label, _) in firm_rules.TIERS.items()},
            choice_synonyms={
                "高企": "hte",
                "高新企业": "hte",
                "国家高新技术企业": "hte",
                "科小": "tech_sme",
                "科技型中小": "tech_sme",
                "专精特新": "srdi",
                "瞪羚": "gazelle",
            },
            help="没有此列时，使用导入时选择的资质",
            example="高新技术企业",
        ),
        FieldDef(
            "year",
            "年度",
            "year",
            ("认定年度", "入库年度", "年份", "批次年度"),
            help="没有此列时取发证日期的年份",
            example="2025",
        ),
        FieldDef(
            "number",
            "证书编号",
            "text",
            ("证书号", "编号", "入库编号", "登记编号", "证书编码"),
            max_length=64,
            example="GR202545000123",
        ),
        FieldDef(
            "issued_on",
            "发证日期",
            "date",
            ("认定日期", "发证时间", "入库日期", "认定时间"),
            example="2025-12-08",
        ),
        FieldDef(
            "source_document",
            "依据文件",
            "text",
            ("文号", "认定文件", "批文", "发文文号"),
            max_length=255,
            example="国科火字〔2025〕12号",
        ),
    ),
    "为已有企业登记资质（如自治区公布的高新技术企业名单：企业名称、统一社会信用代码、证书编号、"
    "发证日期）；同一企业同一资质同一年度只记一次。",
    records="qualifications",
)

RESERVE = ImportKind(
    "reserve",
    "高企后备库入库名单",
    (
        FIRM_NAME,
        USCC,
        FieldDef(
            "entry_reason",
            "入库理由",
            "choice",
            ("入库原因", "入库类别", "入库条件", "推荐理由"),
            choices={str(code): label for code, label in ENTRY_REASONS.items()},
            help="可填理由的序号（1–6）或全文；没有此列时，使用导入时选择的入库理由",
            example=ENTRY_REASONS[4],
        ),
        FieldDef(
            "moved_on",
            "入库日期",
            "date",
            ("入库时间", "纳入日期", "入库年月"),
            help="没有此列时取文件日期，再没有则为导入当天",
            example="2026-03-15",
        ),
        FieldDef(
            "document_number",
            "文号",
            "text",
            ("入库文号", "发文文号", "依据文件", "批文"),
            max_length=100,
            example="梧科发〔2026〕8号",
        ),
        FieldDef(
            "document_on",
            "文件日期",
            "date",
            ("发文日期", "印发日期"),
            example="2026-03-10",
        ),
    ),
    "把县（市、区）报送的高企后备库名单中的企业纳入高企后备库；已在后备库或已进入辅导、申报、"
    "认定阶段的企业保持原阶段。",
    records="placements",
    written_in_sql=False,
)

DUTIES = ImportKind(
    "duties",
    "年报填报名单",
    (
        FIRM_NAME,
        USCC,
        FieldDef(
            "duty_kind",
            "报表",
            "choice",
            ("报表类型", "报表名称", "年报类型"),
            choices=DUTY_KINDS,
            choice_synonyms={
                "年度发展情况": "annual_report",
                "年报": "annual_report",
                "发展情况报表": "annual_report",
                "火炬统计": "torch",
                "火炬年报": "torch",
                "火炬统计调查": "torch",
            },
            help="没有此列时，使用导入时选择的报表",
            example="年度发展情况报表",
        ),
        FieldDef(
            "year",
            "报告年度",
            "year",
            ("年度", "填报年度", "统计年度", "所属年度"),
            help="报表所反映的年度（上一年度）；没有此列时，使用导入时选择的年度",
            example="2025",
        ),
        FieldDef(
            "filed_on",
            "填报日期",
            "date",
            ("提交日期", "提交时间", "填报时间", "报送日期", "上报日期"),
            help="没有此列时按截止日期（或导入当天，取较早者）计",
            example="2026-05-20",
        ),
        FieldDef(
            "status",
            "填报状态",
            "choice",
            ("状态", "提交状态", "报送状态", "是否填报"),
            choices={"filed": "已填报", "not_filed": "未填报"},
            choice_synonyms={
                "已提交": "filed",
                "已报送": "filed",
                "已完成": "filed",
                "已报": "filed",
                "审核通过": "filed",
                "是": "filed",
                "未提交": "not_filed",
                "未报送": "not_filed",
                "未报": "not_filed",
                "否": "not_filed",
            },
            help="没有此列时，名单中的企业均视为已填报",
            example="已填报",
        ),
    ),
    "把国家系统导出的已填报企业名单（企业名称或统一社会信用代码）记为该年度年报已填报；"
    "系统中已标记的保留原填报日期。",
    records="certification_duties",
)

KINDS: dict[str, ImportKind] = {
    k.code: k for k in (FIRMS, YEARS, IP, QUALIFICATIONS, RESERVE, DUTIES)
}


@dataclass(frozen=True)
class HeaderMatch:
    """What a workbook header means: the field, the unit it is in, and the year it is for."""

    key: str
    #: Yuan per unit for money fields (1 for 元, 10000 for 万元); None when the header says none.
    scale: Decimal | None = None
    year: int | None = None


_SPACES = re.compile(r"\s+")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*(?:年度|年)?")
_PARENS = re.compile(r"[（(]([^）)]*)[）)]")
_UNIT_TAIL = re.compile(r"[/／:：\s]*(人民币万元|人民币元|万元|千元|亿元|元|万|亿)$")
_MARKS = str.maketrans({"　": "", "*": "", "＊": "", "\u200b": "", "：": "", ":": ""})
_WIDTH = str.maketrans("（）／", "()/")


def _normalise(text: str) -> str:
    return _SPACES.sub("", text).translate(_MARKS).translate(_WIDTH).lower()


def _split_unit(text: str) -> tuple[str, str | None]:
    """Return the text without its unit, and the unit ("万元") if it names one."""
    unit = None
    for inner in _PARENS.findall(text):
        name = UNIT_ALIASES.get(inner.strip(), inner.strip())
        if name in MONEY_UNITS or name in ("人", "个", "项", "件", "%"):
            unit = name
    text = _PARENS.sub("", text)
    tail = _UNIT_TAIL.search(text)
    if tail and tail.start() > 0:
        unit = UNIT_ALIASES.get(tail.group(1), tail.group(1))
        text = text[: tail.start()]
    return text, unit


def _synonym_index(kind: ImportKind) -> dict[str, str]:
    index: dict[str, str] = {}
    for definition in kind.fields:
        for name in (definition.label, definition.header, *definition.synonyms):
            index.setdefault(_normalise(_split_unit(name)[0]), definition.key)
    return index


_INDEXES = {code: _synonym_index(kind) for code, kind in KINDS.items()}


def match_header(kind: str, label: str) -> HeaderMatch | None:
    """Return what the header `label` of a workbook means for `kind`, or None if nothing.

    A two-level header comes as "上 / 下"; the year and the unit may be in either part
    ("2024年度主要经济指标 / 营业收入（万元）", "营业收入（万元） / 2024年").
    """
    index = _INDEXES[kind]
    year = scale = None
    candidates = []
    for part in reversed([p for p in label.split(" / ") if p.strip()]):
        text, unit = _split_unit(part.strip())
        if unit in MONEY_UNITS and scale is None:
            scale = MONEY_UNITS[unit]
        found = _YEAR.search(text)
        if found and year is None:
            year = int(found.group(1))
        candidates.append(_normalise(_YEAR.sub("", text, count=1) if found else text))
    for text in candidates:
        key = index.get(text)
        if key is not None:
            definition = KINDS[kind].get(key)
            if not definition.yearly:
                year = None
            if definition.parser != "money":
                scale = None
            return HeaderMatch(key, scale, year)
    return None


def is_known_header(text: str) -> bool:
    """Tell whether `text` is a header any import kind reads (finds the header row)."""
    return any(match_header(code, text) is not None for code in KINDS)
