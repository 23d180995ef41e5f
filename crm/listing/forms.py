"""The listing case form on the 培育进程 tab."""

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from crm.core.forms import Form, optional_str, options, strip
from crm.listing.models import MARKETS, NEEQ_TIERS


class ListingCaseForm(Form):
    """Target market, intermediaries and stock code of a listing-reserve enrollment."""

    target_market = SelectField(
        "拟上市板块", coerce=optional_str, choices=options(MARKETS.items(), "（未定）")
    )
    neeq_tier = SelectField(
        "新三板分层", coerce=optional_str, choices=options(NEEQ_TIERS.items(), "（不适用）")
    )
    sponsor_broker = StringField("保荐券商", [Length(max=200)], filters=[strip])
    law_firm = StringField("律师事务所", [Length(max=200)], filters=[strip])
    audit_firm = StringField("会计师事务所", [Length(max=200)], filters=[strip])
    stock_code = StringField(
        "证券代码",
        [Optional(), Regexp(r"^\d{6}$", message="证券代码应为 6 位数字")],
        filters=[strip],
    )
    notes = TextAreaField("备注", [Length(max=2000)], filters=[strip])

    def __init__(self, enrollment_id: int, **kwargs):
        super().__init__(prefix=f"case-{enrollment_id}", **kwargs)

    def validate_neeq_tier(self, field) -> None:
        """Refuse a NEEQ tier for a firm aiming at another market."""
        if field.data and self.target_market.data != "neeq":
            raise ValidationError("仅拟在新三板挂牌的企业需选择分层")
