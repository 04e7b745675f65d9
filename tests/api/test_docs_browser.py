"""The API's docs page (Swagger UI from Ninja's own static files) works in a real headless Chromium
under the site's Content-Security-Policy: no CDN, no inline script, no violation."""

from __future__ import annotations

import pytest

from tests.pages.test_browser import Page, driver  # noqa: F401  # the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_the_docs_page_renders_the_schema_offline(live_server, driver):  # noqa: F811
    page = Page(driver, live_server.url)
    page.open("/api/v1/docs")
    page.wait(lambda: "Sharpline API" in page.text() and "/api/v1/bets/import" in page.text(), "the schema drawn")
    page.check()
    hosts = driver.execute_script("return performance.getEntriesByType('resource').map(e => new URL(e.name).host)")
    assert set(hosts) <= {live_server.url.split("//")[1]}, hosts  # nothing from another host
