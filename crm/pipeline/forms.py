"""Forms of the 培育进程 tab: enroll a firm in a programme, move it to another stage."""

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.core import clock
from crm.core.forms import Form, optional_int, optional_str, options, strip
from crm.pipeline import rules
from crm.pipeline.services import MoveInputs
from crm.pipeline.signals import merged, offering_move_choices

ENTRY_REASON_CHOICES = options(
    ((k, f"{k}. {v}") for k, v in rules.ENTRY_REASONS.items()), "（不适用）"
)


class _MoveFields(Form):
    """The inputs a gate may read; the page shows the ones the chosen stage needs."""

    moved_on = DateField("变更日期", [Optional()], description="默认今天；可补录以前的日期")
    reason = TextAreaField("原因/说明", [Length(max=2000)], filters=[strip])
    entry_reason = SelectField(
        "入库理由", coerce=optional_int, choices=ENTRY_REASON_CHOICES, validate_choice=False
    )
    document_number = StringField("证明文件文号", [Length(max=100)], filters=[strip])
    document_on = DateField("证明文件日期", [Optional()])
    certificate_number = StringField("高企证书编号", [Length(max=100)], filters=[strip])
    certificate_issued_on = DateField("发证日期", [Optional()])
    batch = SelectField("认定批次", coerce=optional_int, validate_choice=False)
    cancel_ground = SelectField("取消依据", coerce=optional_str, validate_choice=False)

    def __init__(self, programme: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offered = merged(offering_move_choices.send(programme, today=clock.today()))
        self.batch.choices = options(offered.get("batch", ()), "请选择认定批次")
        self.grounds = dict(offered.get("cancel_ground", ()))
        self.cancel_ground.choices = options(self.grounds.items(), "请选择")

    def inputs(self) -> MoveInputs:
        """Return what the services read from the form."""
        entry_reason = self.entry_reason.data
        return MoveInputs(
            moved_on=self.moved_on.data,
            reason=self.reason.data or "",
            entry_reason=entry_reason if entry_reason in rules.ENTRY_REASONS else None,
            document_number=self.document_number.data or "",
            document_on=self.document_on.data,
            certificate_number=self.certificate_number.data or "",
            certificate_issued_on=self.certificate_issued_on.data,
            batch_id=self.batch.data,
            cancel_ground=self.cancel_ground.data
            if self.cancel_ground.data in self.grounds
            else "",
        )


class EnrollForm(_MoveFields):
    """Open an enrollment of the firm in one programme."""

    stage = SelectField("进入阶段", [DataRequired("请选择阶段")])

    def __init__(self, programme: str, **kwargs):
        super().__init__(programme, prefix=f"enroll-{programme}", **kwargs)
        self.programme = programme
        spec = rules.PROGRAMMES[programme]
        self.stage.choices = options(
            (code, spec.stage(code).name) for code in rules.entry_stages(programme)
        )


class MoveForm(_MoveFields):
    """Move an enrolled firm to one of the stages its programme allows next."""

    target = SelectField("转入阶段", [DataRequired("请选择要转入的阶段")])
    override_reason = TextAreaField("越过门槛理由", [Length(max=2000)], filters=[strip])

    def __init__(self, enrollment, suggested_reason: int | None = None, **kwargs):
        programme, source = enrollment.programme.code, enrollment.stage.code
        super().__init__(programme, prefix=f"move-{enrollment.id}", **kwargs)
        spec = rules.PROGRAMMES[programme]
        self.targets = [s for s in spec.stages if s.code in spec.targets(source)]
        self.target.choices = options(((s.code, s.name) for s in self.targets), "请选择")
        if suggested_reason is not None and self.entry_reason.data is None:
            self.entry_reason.data = suggested_reason
