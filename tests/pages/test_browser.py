"""Every page in a real headless Chromium (Debian's chromium + chromium-driver, through Selenium) on
compact real data: no console error, no Content-Security-Policy violation (and the policy on every
page), no failed request, charts drawn, the date filter, a backtest started from the form and followed
by its progress bar. Screenshots go to var/screenshots/."""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.pages.conftest import BACKTEST_WINDOW, SLATE_DAY, build_demo, make_backtest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PASSWORD = "browser-test-password-1"  # a throwaway user of the test database
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = [e.sourceFile, e.lineNumber, e.columnNumber].join(":");
  window.__cspViolations.push([e.violatedDirective, e.blockedURI, where, e.sample].join(" "));
});
"""


@pytest.fixture
def driver():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver must be installed in CI (.ci/run installs them)")
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--lang=en-US", "--disable-extensions"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    browser.set_page_load_timeout(30)
    # Every document records the CSP violations it sees, from before its first script runs (the
    # console reports some of them only as warnings, or not at all for report-only policies).
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER})
    try:
        yield browser
    finally:
        browser.quit()


class Page:
    """The browser with the checks every page load gets."""

    def __init__(self, driver, base: str) -> None:
        self.driver, self.base = driver, base
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.drain()

    def drain(self) -> None:
        self.driver.get_log("browser")
        self.driver.get_log("performance")

    def open(self, path: str, shot: str | None = None) -> None:
        self.driver.get(self.base + path)
        self.settle(shot)

    def settle(self, shot: str | None = None) -> None:
        self.wait(lambda: self.driver.execute_script("return document.readyState") == "complete", "page load")
        # Every chart on the page drawn by plotly.js (charts.js marks them).
        self.wait(
            lambda: self.driver.execute_script(
                "return [...document.querySelectorAll('[data-figure]')].every(e => e.dataset.drawn === 'true')"
            ),
            "charts drawn",
        )
        self.check()
        if shot:
            self.screenshot(shot)

    def wait(self, condition, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what} on {self.driver.current_url}")

    def check(self) -> None:
        """No console error, no CSP violation, no request answered >= 400 or failed, no stack trace
        in the page, and the page itself served with the Content-Security-Policy."""
        console = self.driver.get_log("browser")
        violations = self.driver.execute_script("return window.__cspViolations || null")
        assert violations == [], f"CSP violations on {self.driver.current_url}: {violations}"
        errors = [e for e in console if e["level"] == "SEVERE"]
        assert errors == [], errors
        csp_messages = [e for e in console if "Content Security Policy" in e["message"]]
        assert csp_messages == [], csp_messages
        failed, unprotected = [], []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.responseReceived":
                status = params["response"]["status"]
                if status >= 400:
                    failed.append((status, params["response"]["url"]))
                headers = {name.lower() for name in params["response"].get("headers", {})}
                if params.get("type") == "Document" and "content-security-policy" not in headers:
                    unprotected.append(params["response"]["url"])
            elif message["method"] == "Network.loadingFailed":
                failed.append((params.get("errorText"), params.get("type")))
        assert failed == [], failed
        assert unprotected == [], f"pages without a Content-Security-Policy: {unprotected}"
        source = self.driver.page_source
        assert "Traceback" not in source and "Server error" not in source

    def screenshot(self, name: str) -> None:
        """The whole page, not just the window."""
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        (SHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))

    def text(self) -> str:
        # Read in one script call: a page that reloads meanwhile leaves no stale element behind.
        return str(self.driver.execute_script("return document.body ? document.body.innerText : ''"))


def _worker_queue(stack):
    """On the real stack a real Celery worker runs the backtest the form queues (on a queue of its
    own, so no other test's messages reach it); embedded, Celery is eager and runs it in the request."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from tests.core.test_celery_worker import running_worker

    return stack.enter_context(running_worker(MODEL_DIR=str(settings.MODEL_DIR)))


@pytest.mark.slow
def test_every_page_in_chromium(live_server, driver, model_dir, monkeypatch):
    from contextlib import ExitStack

    from django.contrib.auth.models import User

    from betting.bets.models import Backtest
    from betting.bets.services import backtest_run
    from betting.bets.tasks import run_backtest

    started = time.monotonic()
    handles = build_demo(backtest=False)
    finished = make_backtest(run_now=True, name="march")
    waiting = make_backtest(run_now=False, name="queued")
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    page = Page(driver, live_server.url)

    with ExitStack() as stack:
        queue = _worker_queue(stack)
        if queue:
            monkeypatch.setattr(run_backtest, "delay", lambda pk: run_backtest.apply_async(args=[pk], queue=queue))

        # Today: the date filter, used as a person would.
        page.open("/", "today-empty")
        field = driver.find_element("id", "id_date")
        driver.execute_script("arguments[0].value = arguments[1]", field, SLATE_DAY.isoformat())
        driver.find_element("css selector", "form.filters button[type=submit]").click()
        page.wait(lambda: "date=2023-12-11" in driver.current_url, "the filtered day")
        page.settle("today")
        body = page.text()
        assert "Games of Monday 11 December 2023" in body and "Charlotte Hornets" in body
        assert driver.find_elements("css selector", "table.today tbody tr")
        # Times rewritten in the browser's zone by local-time.js (the title keeps the UTC instant).
        first_time = driver.find_element("css selector", "table.today time[data-local]")
        assert first_time.get_attribute("title").endswith("(UTC)")

        # A bad value: a clear message with a 400, not an error page (the 400 is expected: not checked).
        driver.get(f"{live_server.url}/?date=2023-12-11&market=nonsense")
        assert "could not be shown" in page.text()
        page.drain()

        page.open(f"/games/{handles['game'].pk}", "game")
        assert len(driver.find_elements("css selector", "[data-figure]")) >= 2  # odds movement + explanation
        assert "Why the model thinks so" in page.text()
        # The modebar's "download plot as a png" draws the chart through a blob: image (CSP img-src).
        png = driver.execute_async_script(
            "var done = arguments[0];"
            "Plotly.toImage(document.querySelector('[data-figure]'), {format: 'png'}).then(done, e => done(String(e)));"
        )
        violations = driver.execute_script("return window.__cspViolations")
        assert str(png).startswith("data:image/png;base64,"), (str(png)[:200], violations)
        page.check()
        page.open("/bets", "bets")
        assert "Open bets" in page.text() and driver.find_elements("css selector", "[data-figure='bankroll-curve']")
        page.open("/models", "models")
        assert "Calibration of" in page.text()
        page.open("/backtests", "backtests")
        page.open(f"/backtests/{finished.pk}", "backtest")
        assert "95% CI" in page.text()
        page.open("/data", "data")
        page.open("/edges?league=NBA&at=2023-12-11T18:00", "edges")  # the recorded pull, before its games
        assert "+EV against the sharp consensus" in page.text()

        # A queued backtest: the bar polls its progress, and the page reloads itself when it is done.
        page.open(f"/backtests/{waiting.pk}", "backtest-progress")
        assert driver.find_elements("css selector", "progress")
        page.wait(lambda: "Replaying" in page.text() or "Waiting" in page.text(), "the progress box")
        if connection.vendor == "sqlite":
            # The live server shares the test's one in-memory SQLite connection: no database work
            # from this thread while the page polls. Run it with the page parked, then look again.
            driver.get("about:blank")
            backtest_run(waiting.pk)
            page.open(f"/backtests/{waiting.pk}")
        else:
            backtest_run(waiting.pk)  # its own connection: the page polls meanwhile and reloads itself
        page.wait(lambda: "Final bankroll" in page.text(), "the finished backtest", timeout=30)
        page.settle()

        # Staff: sign in, start a backtest from the form, watch it finish.
        page.open("/accounts/login/?next=/backtests/new")
        driver.find_element("id", "id_username").send_keys("staff")
        driver.find_element("id", "id_password").send_keys(PASSWORD)
        driver.find_element("css selector", "main form button[type=submit]").click()
        page.wait(lambda: driver.current_url.endswith("/backtests/new"), "the backtest form")
        page.settle("backtest-new")
        for name, value in (("id_date_from", BACKTEST_WINDOW[0]), ("id_date_to", BACKTEST_WINDOW[1])):
            driver.execute_script("arguments[0].value = arguments[1]", driver.find_element("id", name), str(value))
        from selenium.webdriver.support.select import Select

        Select(driver.find_element("id", "id_league")).select_by_value("NBA")
        driver.find_element("id", "id_name").send_keys("from the form")
        driver.find_element("id", "id_min_edge").clear()
        driver.find_element("id", "id_min_edge").send_keys("0")
        driver.find_element("css selector", "main form button[type=submit]").click()
        page.wait(lambda: "/backtests/" in driver.current_url and "new" not in driver.current_url, "the detail page")
        page.settle()
        # Embedded (eager) it is finished already; with a worker the bar shows until the page reloads.
        page.wait(lambda: "Final bankroll" in page.text(), "the backtest to finish", timeout=60)
        page.settle("backtest-from-form")
        assert Backtest.objects.get(name="from the form").status == Backtest.Status.SUCCESS

        if _status_page_exists():
            page.open("/status", "status")
        page.open("/admin/", "admin")
        page.open("/admin/providers/")

        # The phone layout: no sideways scrolling of the page itself (wide tables scroll in their box).
        driver.set_window_size(390, 844)
        page.open("/?date=2023-12-11", "today-phone")
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, overflow

    assert time.monotonic() - started < 60


def _status_page_exists() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/status")
    except Resolver404:
        return False
    return True
