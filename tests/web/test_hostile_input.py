"""No 500 on bad input: hostile values in every field of every form and every query parameter.

The sweep walks the app's URL map, so a new route is covered (or fails loudly) without a list to
keep up to date. Path parameters are filled with the ids of real rows of a small world; a rule
whose parameter the world cannot fill fails the test. As each role, it GETs every page with each
hostile value in each query parameter the page reads, and POSTs every POST route with each hostile
value in each field of the forms the pages render (and each field the view reads), the other
fields keeping the values the form was rendered with. Each request runs inside a savepoint that is
rolled back afterwards, so a deletion or a failed statement does not change what the next request
meets. The parameters a page reads are recorded as the view looks them up in `request.args` and
`request.form`, which also finds those no form names (`tab`, `before`, `show`, `duty`, ...).
A route that refuses the role (403, 404) gets each value in all its fields at once instead of
field by field, and the login page is swept as an anonymous visitor.
"""

import re
import traceback
import zlib
from contextlib import contextmanager
from datetime import date, datetime
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from flask import current_app
from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from crm.accounts import invitations
from crm.certification.models import ChangeReport, Duty
from crm.coaching import services as coaching
from crm.core import clock
from crm.excel.models import ImportBatch
from crm.extensions import db
from crm.firms.models import FirmContact
from crm.jobs import queue
from crm.mail.outbox import queue_message
from crm.pipeline.services import MoveInputs, enroll_firm
from crm.portal import attachments
from crm.portal import services as portal
from crm.support import services as support
from crm.support.models import SubsidyRule
from tests import factories

ROLES = ("admin", "bureau_head", "manager", "enterprise")
#: Routes and their fields split into this many groups per role, so xdist spreads the sweep.
SHARDS = 6
#: The values tried in each field, one at a time.
HOSTILE = (
    "",
    "a" * 100_000,
    "梧州\x00科技",
    "\x01\x08\x0b\x0c\x1b\x7f\r",
    "😀🚀企业",
    "1e309",
    "NaN",
    "１２３４",
    "<script>alert(1)</script>",
    "' OR '1'='1'; DROP TABLE firms; --",
    "-5",
    "99999999999",
    "999999999999999999999",
    "2026-02-30",
)
#: Values whose handling cannot depend on the database (no type, length or byte a database
#: checks): swept on SQLite only, to keep the PostgreSQL run of the suite within CI's time.
TEXT_ONLY = frozenset(
    {
        "\x01\x08\x0b\x0c\x1b\x7f\r",
        "😀🚀企业",
        "<script>alert(1)</script>",
        "' OR '1'='1'; DROP TABLE firms; --",
    }
)


def hostile_values() -> tuple[str, ...]:
    """Return the values to try on this test run's database."""
    if db.engine.dialect.name == "sqlite":
        return HOSTILE
    return tuple(value for value in HOSTILE if value not in TEXT_ONLY)


#: Query parameters tried on every page, whether or not it reads them.
GENERIC_ARGS = ("page", "sort", "q", "year")
#: Served by Flask from the package's static folder: no view of ours reads the request.
NOT_SWEPT = {"static"}
NOW = datetime(2026, 6, 15, 2, 0)
#: Answers that refuse the user (or the method) before the input matters.
REFUSED = (401, 403, 404, 405)


# --- Recording what a view reads -----------------------------------------------------------------

_read: set[str] = set()


class RecordingDict(ImmutableMultiDict):
    """The request's args and form, noting each key a view looks up."""

    def __getitem__(self, key):
        _read.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        _read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _read.add(key)
        return super().__contains__(key)


# --- Forms on a page -----------------------------------------------------------------------------


class FormParser(HTMLParser):
    """Collect the forms of a page (method, action, fields with their rendered values) and links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or a.get("hx-post") or a.get("hx-get") or "",
                "fields": {},
            }
            if a.get("hx-post"):
                self._form["method"] = "post"
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            if tag in ("button", "input") and a.get("hx-post"):
                self.forms.append({"method": "post", "action": a["hx-post"], "fields": {}})
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                form["fields"].setdefault(name, None)
                if "checked" in a:
                    form["fields"][name] = a.get("value", "y")
            elif kind not in ("submit", "button", "file", "reset", "image"):
                form["fields"][name] = a.get("value", "")
            elif kind == "file":
                form["fields"].setdefault(name, None)
        elif tag == "select" and name:
            self._select = name
            form["fields"].setdefault(name, None)
        elif tag == "option" and self._select:
            current = form["fields"].get(self._select)
            if current is None or "selected" in a:
                form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            form["fields"][name] = ""
        elif tag == "button" and name and a.get("value") is not None:
            form["fields"].setdefault(name, a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data


def parse_page(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


# --- The world -----------------------------------------------------------------------------------


def xlsx(rows) -> BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = BytesIO()
    book.save(data)
    data.seek(0)
    return data


def run_jobs() -> None:
    while (job := queue.claim_next("test-worker")) is not None:
        queue.run_job(job.id, "test-worker")
    db.session.expire_all()


def make_world(client) -> dict:
    """One firm in the manager's district with a row of every kind a route names."""
    home = factories.district("450403")
    firm = factories.make_firm(district=home, is_above_scale=True)
    for year in (2023, 2024, 2025):
        year_row = factories.make_year(firm, year)
    ip = factories.make_ip(firm)
    contact = FirmContact(firm=firm, name="张三", role="总经理")
    db.session.add(contact)
    qualification = factories.make_qualification(firm)
    factories.make_certificate(firm, date(2024, 12, 8), "GR202445000001")
    admin = factories.make_user("admin")
    manager = factories.make_user("manager", districts=[home])
    enterprise = factories.make_user("enterprise", firm_id=firm.id)
    bureau_head = factories.make_user("bureau_head")
    db.session.commit()

    listing = enroll_firm(firm, "listing", "pool", MoveInputs(moved_on=date(2026, 3, 1)), None)
    plan = coaching.create_plan(firm, 2026, manager)
    measure = coaching.add_measure(plan, {"title": "规范研发费用辅助账", "owner": "财务部"})
    milestone = coaching.add_milestone(plan, {"title": "提交申报材料", "due_on": date(2026, 6, 1)})
    activity = coaching.log_activity(
        firm, {"kind": "visit", "occurred_on": date(2026, 3, 2), "notes": "走访"}, manager
    )
    batch = factories.make_batch(2026)
    duty = Duty(firm_id=firm.id, kind="annual_report", year=2025, due_on=date(2026, 6, 30))
    report = ChangeReport(
        firm_id=firm.id,
        kind="business",
        changed_on=date(2026, 5, 1),
        description="新增经营范围",
        due_on=date(2026, 8, 1),
    )
    db.session.add_all([duty, report])
    entry = support.add_entry(
        firm, {"kind": "rd_subsidy", "title": "研发后补助", "granted_on": date(2026, 3, 1)}
    )
    rule = db.session.scalars(select(SubsidyRule).order_by(SubsidyRule.id)).first()
    reminder = factories.make_reminder(manager, "measure_due", firm, date(2026, 6, 1))
    plan.status = "active"  # the portal shows a firm the measures of plans under way
    invitation, token = invitations.create_invitation(firm, actor=manager, invitee="张经理")
    change = portal.submit(firm, "contact", {"name": "李四", "role": "总经理"}, user=enterprise)
    pdf = FileStorage(BytesIO(b"%PDF-1.4 supporting"), filename="证明.pdf")
    attachment = attachments.store(
        pdf, firm_id=firm.id, owner_kind="request", owner_id=change.id, user=enterprise
    )
    # E-mail on (a server nobody listens on: nothing is sent), with a message that failed.
    current_app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9, MAIL_FROM="crm@bureau.test")
    message = queue_message("wang@example.com", "今日待办", "正文", "<p>正文</p>", kind="test")
    message.status, message.last_error = "failed", "邮件服务器拒收（550 5.1.1 no such user）"
    db.session.commit()

    # An import through the pages, dry run done, leaves a batch, its job and its stored file.
    client.post("/login", data={"username": admin.username, "password": factories.PASSWORD})
    rows = [
        ["企业名称", "统一社会信用代码", "所属县（市、区）"],
        ["梧州导入有限公司", factories.make_uscc(), "万秀区"],
    ]
    data = {"kind": "firms", "file": (xlsx(rows), "名单.xlsx")}
    client.post("/imports/", data=data, content_type="multipart/form-data")
    client.post("/logout")
    run_jobs()
    imported = db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    db.session.commit()

    return {
        "users": {
            "admin": admin,
            "manager": manager,
            "enterprise": enterprise,
            "bureau_head": bureau_head,
        },
        "ids": {
            "firm_id": firm.id,
            "user_id": manager.id,
            "plan_id": plan.id,
            "enrollment_id": listing.enrollment.id,
            "duty_id": duty.id,
            "report_id": report.id,
            "entry_id": entry.id,
            "rule_id": rule.id,
            "job_id": imported.job_id,
            "message_id": message.id,
            "reminder_id": reminder.id,
            "measure_id": measure.id,
            "request_id": change.id,
            "attachment_id": attachment.id,
            "invitation_id": invitation.id,
            "token": token,
            "action": "read",
            "code": "hte",
            "stage_code": "reserve",
            "kind": "firms",
            "name": "firms",
            "layout_key": "reserve",
        },
        #: Parameters whose row depends on the blueprint or the endpoint.
        "by_endpoint": {
            ("certification.", "batch_id"): batch.id,
            ("excel.", "batch_id"): imported.id,
            ("firms.year_", "row_id"): year_row.id,
            ("firms.ip_", "row_id"): ip.id,
            ("firms.contact_", "row_id"): contact.id,
            ("firms.qualification_", "row_id"): qualification.id,
            ("coaching.activity_", "row_id"): activity.id,
            ("coaching.measure_", "row_id"): measure.id,
            ("coaching.milestone_", "row_id"): milestone.id,
            ("portal.year_", "row_id"): year_row.id,
            ("portal.user_", "user_id"): enterprise.id,
            ("portal.ip_", "row_id"): ip.id,
            ("portal.contact_", "row_id"): contact.id,
        },
    }


def fill(rule, world) -> str:
    """Return the rule's address with the world's ids; fail on a parameter it cannot fill."""

    def value(match):
        name = match.group(1)
        for (prefix, param), row_id in world["by_endpoint"].items():
            if param == name and rule.endpoint.startswith(prefix):
                return str(row_id)
        if name in world["ids"]:
            return str(world["ids"][name])
        pytest.fail(f"the hostile-input sweep cannot fill <{name}> of {rule.rule}: add a row")

    return re.sub(r"<(?:[\w]+:)?(\w+)>", value, rule.rule)


# --- The sweep -----------------------------------------------------------------------------------


class Sweep:
    """Send requests as one user, each undone afterwards, and collect the ones that failed."""

    def __init__(self, client):
        self.client = client
        self.failures: list[str] = []
        self.sent = 0

    @contextmanager
    def _undone(self):
        db.session.commit()
        connection = db.session.get_bind()
        savepoint = connection.begin_nested()
        cookie = self.client.get_cookie("session")
        try:
            yield
        finally:
            db.session.rollback()
            if savepoint.is_active:
                savepoint.rollback()
            db.session.expire_all()
            if cookie is not None:
                self.client.set_cookie("session", cookie.value)

    def send(self, method: str, url: str, data=None, where: str = "") -> tuple[int, str, set]:
        """Send one request; return its status, its page and the keys the view read."""
        _read.clear()
        self.sent += 1
        with self._undone():
            try:
                response = self.client.open(url, method=method, data=data)
            except Exception as exc:
                line = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.failures.append(f"{method} {shorten(url)} {where}: {line[:300]}")
                return 500, "", set(_read)
            # A download streams its file: close it, whatever the page was.
            with response:
                if response.status_code >= 500:
                    self.failures.append(f"{method} {shorten(url)} {where}: {response.status_code}")
                html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                return response.status_code, html, set(_read)


def shorten(value: str) -> str:
    """Return a printable, bounded form of a value for the failure list."""
    text = repr(value)
    return text if len(text) < 120 else text[:100] + f"...({len(value)} chars)"


def discover(sweep: Sweep, urls: list[str]):
    """GET each page and its linked variants; return the GET parameters and POST forms found."""
    params: dict[str, set[str]] = {}
    variants: dict[str, list[dict]] = {}
    forms: list[dict] = []
    for url in urls:
        _status, html, read = sweep.send("GET", url)
        path = urlsplit(url).path
        params.setdefault(path, set()).update(read)
        variants.setdefault(path, []).append({})
        page = parse_page(html)
        forms.extend(page.forms)
        for form in page.forms:
            if form["method"] == "get":
                target = urlsplit(form["action"]).path or path
                params.setdefault(target, set()).update(form["fields"])
        # Linked variants of the same page (tabs, filters) may read parameters the bare page does
        # not: keep those that do.
        seen = {urlsplit(url).query}
        for link in page.links:
            parts = urlsplit(link)
            if parts.path != path or parts.query in seen or len(seen) > 15:
                continue
            seen.add(parts.query)
            _, variant_html, variant_read = sweep.send("GET", link)
            variant_page = parse_page(variant_html)
            forms.extend(variant_page.forms)
            if variant_read - params[path]:
                variants[path].append(dict(parse_qsl(parts.query)))
                params[path] |= variant_read
    return params, variants, forms


def post_fields(url: str, forms: list[dict]) -> dict[str, str]:
    """Return the fields, with their rendered values, of the forms that post to `url`."""
    path = urlsplit(url).path
    fields: dict[str, str] = {}
    for form in forms:
        if form["method"] == "post" and urlsplit(form["action"]).path == path:
            for name, value in form["fields"].items():
                fields.setdefault(name, value)
    return {name: value for name, value in fields.items() if name != "csrf_token"}


def shard_of(key: str) -> int:
    """Return the group a route or a route's field belongs to (the same in every process)."""
    return zlib.crc32(key.encode()) % SHARDS


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingDict)
    with clock.frozen(NOW):
        yield


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("role", ROLES)
def test_no_hostile_value_answers_500(app, client, role, shard):
    world = make_world(client)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_SWEPT]
    urls = {id(rule): fill(rule, world) for rule in rules}
    sweep = Sweep(client)
    admin = Sweep(app.test_client())
    response = admin.client.post(
        "/login",
        data={"username": world["users"]["admin"].username, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    response = client.post(
        "/login",
        data={"username": world["users"][role].username, "password": factories.PASSWORD},
    )
    assert response.status_code == 302

    pages = sorted({urls[id(rule)] for rule in rules if "GET" in rule.methods})
    params, variants, forms = discover(sweep, pages)
    if role != "admin":
        _, _, admin_forms = discover(admin, pages)
        forms += admin_forms

    for rule in rules:
        url = urls[id(rule)]
        if shard_of(rule.endpoint) == shard:
            sweep_path_parameters(sweep, rule, world)
        if "GET" in rule.methods:
            path = urlsplit(url).path
            for base in variants.get(path, [{}]):
                read = params.get(path, set())
                names = read | set(GENERIC_ARGS) if read else set()
                sweep_fields(sweep, "GET", rule.endpoint, url, base, names, shard)
        if "POST" in rule.methods:
            fields = post_fields(url, forms)
            baseline = {k: v for k, v in fields.items() if v is not None}
            _, _, read = sweep.send("POST", url, data=baseline, where="baseline")
            sweep_fields(sweep, "POST", rule.endpoint, url, baseline, set(fields) | read, shard)
    assert not sweep.failures, f"{len(sweep.failures)} of {sweep.sent}:\n" + "\n".join(
        sorted(set(sweep.failures))[:60]
    )


def sweep_fields(
    sweep: Sweep, method: str, endpoint: str, url: str, baseline: dict, names: set[str], shard: int
) -> None:
    """Send each hostile value in each of this shard's fields, the others as in `baseline`.

    The fields of one route are spread over the shards, so a long form does not keep one test
    running while the others are done. A route that refuses the user outright gets each value in
    all its fields at once instead, in the route's own shard: it has to refuse those too.
    """
    mine = sorted(name for name in names if shard_of(f"{endpoint} {name}") == shard)
    own_route = shard_of(endpoint) == shard
    if not (mine or own_route):
        return
    data = None if method == "GET" else baseline
    query = f"{url}?{urlencode(baseline)}" if method == "GET" and baseline else url
    status, _, _ = sweep.send(method, query, data=data, where="baseline")
    if status in REFUSED:
        if own_route:
            for value in hostile_values():
                hostile = {**baseline, **dict.fromkeys(names, value)}
                send(sweep, method, url, hostile, f"every field={shorten(value)}")
        return
    for name in mine:
        for value in hostile_values():
            send(sweep, method, url, {**baseline, name: value}, f"{name}={shorten(value)}")


def send(sweep: Sweep, method: str, url: str, values: dict, where: str) -> None:
    """Send `values` in the query string of a GET or the body of a POST."""
    if method == "GET":
        sweep.send("GET", f"{url}?{urlencode(values)}", where=where)
    else:
        sweep.send("POST", url, data=values, where=where)


def sweep_path_parameters(sweep: Sweep, rule, world) -> None:
    """Put each hostile value in the rule's text parameters (a programme, a stage, a kind)."""
    method = "GET" if "GET" in rule.methods else "POST"
    for name in re.findall(r"<(?:\w+:)?(\w+)>", rule.rule):
        if isinstance(world["ids"].get(name), str):
            for value in hostile_values():
                hostile = re.sub(rf"<(?:\w+:)?{name}>", quote(value, safe=""), rule.rule)
                sweep.send(method, fill_rest(rule, hostile, world), where=name)


def fill_rest(rule, address: str, world) -> str:
    """Fill the parameters left in `address` (a rule with one parameter replaced)."""

    class Partial:
        endpoint = rule.endpoint

    Partial.rule = address
    return fill(Partial, world)


def test_no_hostile_value_answers_500_on_the_pages_open_to_anonymous_visitors(app, client):
    """The pages that do not send a visitor to log in (the login page) take hostile input too."""
    world = make_world(client)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_SWEPT]
    sweep = Sweep(client)
    public = []
    for rule in rules:
        url = fill(rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        status, html, read = sweep.send(method, url)
        if status not in (302, 401) and rule.endpoint != "index":
            public.append((rule, url, parse_page(html).forms, read))
    assert [rule.endpoint for rule, *_ in public] == ["accounts.login", "portal.accept"]
    for rule, url, forms, read in public:
        for shard in range(SHARDS):
            sweep_fields(sweep, "GET", rule.endpoint, url, {}, read | {"next"}, shard)
            fields = post_fields(url, forms)
            baseline = {k: v or "" for k, v in fields.items()}
            sweep_fields(sweep, "POST", rule.endpoint, url, baseline, set(fields), shard)
    assert not sweep.failures, "\n".join(sorted(set(sweep.failures))[:60])
