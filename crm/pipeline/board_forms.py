"""Forms of the kanban board: its filters, and the bulk move of the selected firms."""

from wtforms import SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length

from crm.core.forms import optional_year, options, strip
from crm.firms.forms import NO_CHOICES, FirmFilterForm
from crm.pipeline import rules
from crm.pipeline.board_queries import BoardFilters
from crm.pipeline.forms import _MoveFields

#: The query arguments the board keeps when it links to a column, a dialog or the bulk move.
FILTER_ARGS = ("q", "year", "district", "park", "manager", "tech_field")
#: Stages no bulk move may enter: a certificate number belongs to one firm only.
BULK_EXCLUDED = frozenset({"certified"})


class BoardFilterForm(FirmFilterForm):
    """The firm-list filters plus the year the enrollment was opened (read from the query)."""

    year = SelectField("入库年度", coerce=optional_year, validate_choice=False)

    def __init__(self, formdata, choices, years: list[int], **kwargs):
        super().__init__(formdata, choices, **kwargs)
        self.year.choices = options(((y, f"{y} 年") for y in years), "全部年度")

    def board_filters(self) -> BoardFilters:
        """Return the filters the board's selects apply."""
        firm = self.filters(None)
        firm.industry_id = None
        firm.tier = None
        return BoardFilters(firm=firm, year=self.year.data)


def board_filters(args) -> BoardFilters:
    """Return the filters the board applies for its query `args` (a MultiDict), read as the
    board reads them; the export of a column reads them the same way."""
    return BoardFilterForm(args, NO_CHOICES, []).board_filters()


class BulkMoveForm(_MoveFields):
    """Move the firms ticked on the board to one stage, with the inputs they share."""

    target = SelectField("转入阶段", [DataRequired("请选择要转入的阶段")])
    enrollments = SelectMultipleField(
        "企业", [DataRequired("请先勾选要转入的企业")], coerce=int, validate_choice=False
    )
    override_reason = TextAreaField("越过门槛理由", [Length(max=2000)], filters=[strip])

    def __init__(self, programme: str, **kwargs):
        super().__init__(programme, prefix="bulk", **kwargs)
        spec = rules.PROGRAMMES[programme]
        self.targets = [s for s in spec.stages if s.code not in BULK_EXCLUDED]
        self.target.choices = options(((s.code, s.name) for s in self.targets), "请选择")
