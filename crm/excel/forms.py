"""Forms of the import pages: upload, correct the mapping, apply, undo."""

from typing import Any

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from crm.certification.rules import DUTY_KINDS
from crm.core.forms import Form, options, strip
from crm.excel import columns
from crm.excel.columns import MONEY_UNITS
from crm.firms import rules as firm_rules
from crm.pipeline.rules import ENTRY_REASONS

EXTENSIONS = ("xlsx", "xlsm", "xls", "ods", "csv")
REASON_CODES = {str(code) for code in ENTRY_REASONS}


class UploadForm(Form):
    """Upload a workbook of one import kind."""

    kind = SelectField(
        "导入类型",
        [DataRequired("请选择导入类型")],
        choices=options(((k.code, k.label) for k in columns.KINDS.values()), "请选择"),
    )
    file = FileField(
        "文件",
        [
            FileRequired("请选择要上传的文件"),
            FileAllowed(EXTENSIONS, "只接受 .xlsx、.xlsm、.xls、.ods 或 .csv 文件"),
        ],
        description=(
            "Excel、WPS 或 LibreOffice 表格均可；标题行、两级表头、序号列和合计行会自动识别"
        ),
    )
    sheet = StringField(
        "工作表",
        [Length(max=100)],
        filters=[strip],
        description="留空时自动选择有数据的工作表",
    )
    # Unknown values are ignored by `options`, so a missing or stale choice is no error.
    template = SelectField("使用已保存的对应关系", choices=[], validate_choice=False)
    tier = SelectField(
        "资质",
        choices=options(
            ((k, label) for k, (label, _) in firm_rules.TIERS.items()), "（按表中「资质」列）"
        ),
        description="仅资质名单：表中没有「资质」列时，每行登记的资质",
        validate_choice=False,
    )
    entry_reason = SelectField(
        "入库理由",
        choices=options(
            ((str(code), f"{code}. {label}") for code, label in ENTRY_REASONS.items()),
            "（按表中「入库理由」列）",
        ),
        description="仅高企后备库入库名单：表中没有「入库理由」列时，每家企业的入库理由",
        validate_choice=False,
    )

    duty_kind = SelectField(
        "报表",
        choices=options(DUTY_KINDS.items(), "（按表中「报表」列）"),
        description="仅年报填报名单：表中没有「报表」列时，每行标记的报表",
        validate_choice=False,
    )
    year = IntegerField(
        "报告年度",
        [Optional(), NumberRange(2000, 2100, "请填写四位年份")],
        description="仅年报填报名单：表中没有「报告年度」列时，每行标记的年度",
    )

    def __init__(self, names: list[str], **kwargs):
        super().__init__(**kwargs)
        self.names = names
        self.template.choices = options(((n, n) for n in names), "（自动识别列名）")

    def options(self) -> dict[str, Any]:
        """Return the batch options the form chose."""
        chosen: dict[str, Any] = {}
        if self.sheet.data:
            chosen["sheet"] = self.sheet.data
        if self.template.data in self.names:
            chosen["template"] = self.template.data
        if self.kind.data == "qualifications" and self.tier.data in firm_rules.TIERS:
            chosen["tier"] = self.tier.data
        if self.kind.data == "reserve" and self.entry_reason.data in REASON_CODES:
            chosen["entry_reason"] = self.entry_reason.data
        if self.kind.data == "duties":
            if self.duty_kind.data in DUTY_KINDS:
                chosen["duty_kind"] = self.duty_kind.data
            if self.year.data:
                chosen["year"] = self.year.data
        return chosen


class MappingForm(Form):
    """Save the corrected mapping (the per-column choices come from the request as col-N-*)."""

    save_as = StringField(
        "保存为模板",
        [Length(max=100)],
        filters=[strip],
        description="填写名称后，下次上传同样格式的表格时可直接选用",
    )


UNIT_CHOICES = [(str(scale), unit) for unit, scale in MONEY_UNITS.items()]
SCALES = {value for value, _ in UNIT_CHOICES}


def column_choices(kind: columns.ImportKind, saved: list[dict[str, Any]], formdata) -> tuple:
    """Return the columns as chosen on the mapping page, and the errors, in Chinese."""
    keys = set(kind.keys)
    chosen, errors = [], []
    for column in saved:
        prefix = f"col-{column['index']}-"
        key = formdata.get(prefix + "key", column.get("key") or "")
        if key and key not in keys:
            errors.append(f"{column['letter']} 列：请选择有效的字段")
            key = ""
        scale = formdata.get(prefix + "scale") or None
        if scale not in SCALES:
            scale = None
        year_text = (formdata.get(prefix + "year") or "").strip()
        year = None
        if key and kind.get(key).yearly and year_text:
            if not (year_text.isdigit() and 1980 <= int(year_text) < 2100):
                errors.append(f"{column['letter']} 列：年度应为四位年份")
            else:
                year = int(year_text)
        definition = kind.get(key) if key else None
        chosen.append(
            {
                **column,
                "key": key,
                "scale": scale if definition and definition.parser == "money" else None,
                "year": year if definition and definition.yearly else None,
            }
        )
    return chosen, errors


class SheetForm(Form):
    """Re-run the dry run on another sheet (the choices are the sheets offered)."""

    sheet = SelectField("改用工作表", [DataRequired("请选择工作表")], validate_choice=False)


class YearForm(Form):
    """Give the year of the yearly columns whose header names none."""

    year = IntegerField(
        "年度",
        [DataRequired("请填写年度"), NumberRange(1980, 2099, "年度应为四位年份")],
    )


class ApplyForm(Form):
    """Apply a previewed batch."""

    valid_only = BooleanField("只导入无误的行", description="有错误的行不导入，其余照常导入")


class ConfirmForm(Form):
    """A form with only its CSRF token (undo)."""
