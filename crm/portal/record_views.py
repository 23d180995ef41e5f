"""The firm's own records in the portal: profile, contacts, yearly figures and IP items.

The firm reads its record here and proposes changes on forms shaped like the staff ones;
saving files a change request (`services.submit`) with an optional supporting file, and the
record changes only when the bureau approves.
"""

from io import BytesIO

from flask import flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.firms.figures import year_files
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem
from crm.firms.queries import get_child
from crm.portal import attachments, changes, services
from crm.portal.access import enterprise_only
from crm.portal.forms import (
    ContactRequestForm,
    IPRequestForm,
    ProfileRequestForm,
    YearRequestForm,
    YearUploadForm,
)


def own_firm() -> Firm:
    """Return the logged-in enterprise user's firm, or answer 404."""
    enterprise_only()
    return current_user.firm


def _file(form, firm: Firm, kind: str, row=None):
    """File the request a valid `form` proposes, with its supporting file; return the response,
    or None when the form is to be shown again with its errors."""
    try:
        request = services.submit(
            firm, kind, form.values(), user=current_user, row=row, note=form.note.data
        )
        attachments.attach(
            form.attachment.data,
            firm_id=firm.id,
            owner_kind="request",
            owner_id=request.id,
            user=current_user,
        )
    except services.PortalError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return None
    except attachments.AttachmentError as error:
        db.session.rollback()
        form.attachment.errors = [*form.attachment.errors, str(error)]
        return None
    db.session.commit()
    flash("已提交变更申请，服务专员审核通过后生效。", "success")
    return redirect(url_for("portal.request_detail", request_id=request.id))


def _request_page(form, firm: Firm, kind: str, row, title: str, back: str):
    """File the request of a valid `form`, or show the form (again, with its errors)."""
    if form.validate_on_submit():
        response = _file(form, firm, kind, row)
        if response:
            return response
    return render_template("portal/request_form.html", form=form, title=title, back=back)


def profile():
    """Show the firm's registration data, contacts, qualifications and certificates."""
    firm = own_firm()
    return render_template(
        "portal/profile.html",
        firm=firm,
        contacts=sorted(firm.contacts, key=lambda c: (not c.is_primary, c.id)),
        tiers=firm_rules.TIERS,
    )


def profile_edit():
    """Propose changes to the firm's registration data."""
    firm = own_firm()
    form = ProfileRequestForm(firm)
    return _request_page(form, firm, "profile", firm, "申请修改企业信息", url_for("portal.profile"))


def contact_new():
    """Propose a new contact person."""
    firm = own_firm()
    form = ContactRequestForm()
    return _request_page(form, firm, "contact", None, "申请新增联系人", url_for("portal.profile"))


def contact_edit(row_id: int):
    """Propose changes to a contact person."""
    firm = own_firm()
    row = get_child(FirmContact, firm, row_id)
    form = ContactRequestForm(obj=row)
    return _request_page(
        form, firm, "contact", row, f"申请修改联系人：{row.name}", url_for("portal.profile")
    )


def years():
    """Show the firm's figures year by year."""
    firm = own_firm()
    return render_template("portal/years.html", firm=firm, rows=firm.years)


def year_new():
    """Propose the figures of a year not yet on record."""
    firm = own_firm()
    form = YearRequestForm(firm)
    return _request_page(form, firm, "year", None, "申请新增年度数据", url_for("portal.years"))


def year_edit(row_id: int):
    """Propose changes to a year's figures."""
    firm = own_firm()
    row = get_child(FirmYear, firm, row_id)
    form = YearRequestForm(firm, row)
    return _request_page(
        form, firm, "year", row, f"申请修改 {row.year} 年度数据", url_for("portal.years")
    )


def ip():
    """Show the firm's IP items."""
    firm = own_firm()
    return render_template(
        "portal/ip.html",
        firm=firm,
        rows=firm.ip_items,
        kinds=firm_rules.IP_KINDS,
        statuses=firm_rules.IP_STATUSES,
    )


def ip_new():
    """Propose a new IP item."""
    firm = own_firm()
    form = IPRequestForm(firm)
    return _request_page(form, firm, "ip", None, "申请新增知识产权", url_for("portal.ip"))


def ip_edit(row_id: int):
    """Propose changes to an IP item."""
    firm = own_firm()
    row = get_child(IPItem, firm, row_id)
    form = IPRequestForm(firm, row)
    return _request_page(
        form, firm, "ip", row, f"申请修改知识产权：{row.title}", url_for("portal.ip")
    )


def year_upload():
    """Take the firm's figures from a filled-in blank template: the importer's dry run reads
    it, and each year it proposes becomes a request, as if typed on the form."""
    firm = own_firm()
    form = YearUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        found = year_files().read(form.file.data, current_user)
        problems = found.problems or _file_years(firm, found.years, form.note.data)
        if not problems:
            db.session.commit()
            flash(f"已根据上传的文件提交 {len(found.years)} 个年度的变更申请。", "success")
            return redirect(url_for("portal.requests"))
        db.session.rollback()
    return render_template("portal/year_upload.html", form=form, problems=problems)


def _file_years(firm: Firm, years: dict, note: str | None) -> list[str]:
    """File one request per year of `years` (the file's figures over the record's); return
    what stops it."""
    filed = 0
    for year, values in sorted(years.items()):
        row = next((y for y in firm.years if y.year == year), None)
        current = {f: getattr(row, f) for f in changes.KINDS["year"].fields} if row else {}
        proposed = {**current, **values, "year": year}
        problems = firm_rules.year_problems(proposed)
        if problems:
            return [f"{year} 年度：{message}" for _, message in problems]
        try:
            services.submit(firm, "year", proposed, user=current_user, row=row, note=note)
        except services.PortalError:
            continue
        filed += 1
    return [] if filed else ["文件中的数据与现有记录相同，没有需要变更的内容"]


def year_template():
    """Send the blank template of yearly figures."""
    own_firm()
    data, name = year_files().blank()
    return send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
