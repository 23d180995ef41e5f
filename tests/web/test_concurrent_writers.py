"""Many users saving at once, through a real server process: no request fails on a busy database.

`flask crm serve` (the web server and the worker thread in one process, the single-machine mode)
runs in a subprocess on a loopback port against the suite's database. Each client thread logs in
as its own user, as a browser does (the login form and its CSRF token, the session cookie), and
then, until the time is up, opens a form and sends it back: a firm's 基本信息, a visit for the
走访记录 tab, a year's figures. On SQLite all of them write to one file at the same time.
"""

import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import pytest
from sqlalchemy import func, select

import crm
from crm.coaching.models import Activity
from crm.extensions import db
from crm.firms.models import FirmYear
from tests import factories

CLIENTS = 16
FIRMS = 6
SECONDS = 8
ROOT = Path(crm.__file__).resolve().parents[1]


class _FormParser(HTMLParser):
    """Collect each form's action and the values a browser would send for it."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._fields = self.forms.setdefault(attrs.get("action") or "", {})
        elif self._fields is None or (not attrs.get("name") and tag != "option"):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._fields[attrs["name"]] = attrs.get("value") or "y"
            elif kind not in {"submit", "button", "file"}:
                self._fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            if self._select not in self._fields or "selected" in attrs:
                self._fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class _PlainHttpCookies(DefaultCookiePolicy):
    """Send the session cookie back over plain HTTP, although production marks it Secure."""

    def return_ok_secure(self, cookie, request):
        return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One user's session against the server: cookies, forms as a browser fills them."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar(_PlainHttpCookies())), _NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        """Return the status and body of a GET, or of a POST of `data`."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def form(self, path: str, action: str) -> dict[str, str]:
        """Open `path` and return the fields of its form that posts to `action`."""
        status, html = self.request(path)
        assert status == 200, (path, status)
        parser = _FormParser()
        parser.feed(html)
        assert action in parser.forms, (path, action, list(parser.forms))
        return parser.forms[action]

    def login(self, username: str) -> None:
        """Log in through the login form."""
        fields = self.form("/login", "/login")
        fields.update(username=username, password=factories.PASSWORD)
        status, _ = self.request("/login", fields)
        assert status == 302, status


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(database_url, tmp_path):
    """Run `flask crm serve` on the test database in a subprocess; return its address."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "CRM_"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="concurrency-test-secret",
        CRM_JOB_FILES_FOLDER=str(tmp_path / "jobs"),
        PYTHONPATH=str(ROOT),
    )
    log = (tmp_path / "server.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "crm", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server stopped at once"
            try:
                urllib.request.urlopen(base + "/login", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _edit_firm(browser: Browser, firm_id: int, n: int) -> tuple[str, int]:
    action = f"/firms/{firm_id}/edit"
    fields = browser.form(action, "")
    fields["notes"] = f"第 {n} 次走访后更新"
    return "firm", browser.request(action, fields)[0]


def _log_activity(browser: Browser, firm_id: int, n: int) -> tuple[str, int]:
    action = f"/coaching/firms/{firm_id}/activities"
    fields = browser.form(f"/firms/{firm_id}?tab=activities", action)
    fields["new-notes"] = f"第 {n} 次走访"
    return "activity", browser.request(action, fields)[0]


def _add_year(browser: Browser, firm_id: int, n: int) -> tuple[str, int]:
    action = f"/firms/{firm_id}/years"
    fields = browser.form(f"/firms/{firm_id}?tab=years", action)
    # Years are unique per firm: most are free, a few are taken (a form error, not a failure).
    fields.update({"new-year": str(random.randint(1990, 2025)), "new-total_revenue": str(n)})
    return "year", browser.request(action, fields)[0]


@pytest.mark.real_commits
def test_concurrent_writers_never_meet_a_locked_database(app, server):
    base, log = server
    users = [factories.make_user("admin").username for _ in range(CLIENTS)]
    firms = [factories.make_firm().id for _ in range(FIRMS)]
    db.session.commit()
    outcomes: Counter = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(username: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            browser = Browser(base)
            browser.login(username)
            start.wait(timeout=60)
            deadline = time.monotonic() + SECONDS
            n = 0
            while time.monotonic() < deadline:
                n += 1
                write = rng.choice((_edit_firm, _log_activity, _add_year))
                outcome = write(browser, rng.choice(firms), n)
                with lock:
                    outcomes[outcome] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=client, args=(user, n)) for n, user in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    log.seek(0)
    server_log = log.read()[-5000:]
    assert not errors, (errors[:3], server_log)
    failed = {k: v for k, v in outcomes.items() if k[1] >= 500}
    assert not failed, (failed, outcomes, server_log)
    # Every client got work done, and what the server said it saved is in the database.
    saved = {kind: outcomes[(kind, 302)] for kind in ("firm", "activity", "year")}
    assert all(saved.values()), outcomes
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Activity)) == saved["activity"]
    assert db.session.scalar(select(func.count()).select_from(FirmYear)) == saved["year"]
