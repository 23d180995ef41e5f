"""Real-browser fixtures: the app on a loopback port, and Debian's Chromium driven by Playwright.

Playwright's own browser download is never used; the tests drive the system Chromium, which
`.ci/run` installs (with `fonts-wqy-microhei` so screenshots show Chinese).
"""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Return the system Chromium, or fail saying how to install it."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("浏览器测试需要 Debian 的 chromium：apt-get install chromium fonts-wqy-microhei")


class InFlight:
    """Count the requests being served, so the server can stop only once they are done.

    A page that polls (a job's progress) may have a request in a server thread when the test
    ends; the app fixture then disposes of the engine, and a connection that thread still
    holds would be left open, to be found by the garbage collector in some later test.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.active = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.active += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.active -= 1
                self.idle.notify_all()

    def wait(self, timeout: float) -> None:
        """Wait until no request is being served."""
        with self.idle:
            self.idle.wait_for(lambda: self.active == 0, timeout=timeout)


@pytest.fixture
def live_server(app, request):
    """Serve the test app on a free loopback port for the duration of a test; return its URL."""
    if request.node.get_closest_marker("real_commits") is None:
        pytest.fail("the live server sees only committed data: mark the test real_commits")
    served = InFlight(app)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    served.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Start one headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """Open a page at 1366×768 that records console errors and failed requests."""
    # Reduced motion turns Bootstrap's fades off, so a dialog is shown or hidden at once and a
    # click never lands while it is still fading in (Bootstrap ignores it then).
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", reduced_motion="reduce"
    )
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda message: page.problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    yield page
    context.close()
