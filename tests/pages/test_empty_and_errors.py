"""The pages on an empty database (helpful empty states), the error pages with DEBUG off, and the
static files as production serves them (collectstatic + WhiteNoise's manifest storage)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/", "No games are loaded yet"),
        ("/?date=2023-12-11&market=totals", "No games are loaded yet"),
        ("/bets", "No bankroll yet"),
        ("/models", "No models trained yet"),
        ("/backtests", "No backtests yet"),
        ("/data", "No games yet"),
    ],
)
def test_empty_pages_say_what_to_do(client, url, says):
    response = client.get(url)
    assert response.status_code == 200 and says in response.content.decode()


def test_empty_pages_for_staff(admin_client, reference):
    assert "Start a backtest" in admin_client.get("/backtests/new").content.decode()
    assert "No games are loaded yet" in admin_client.get("/?league=NBA").content.decode()
    assert admin_client.get("/models/NBA/h2h/rollback").status_code == 404  # nothing to roll back to


@override_settings(DEBUG=False)
def test_the_404_page_is_friendly(client):
    response = client.get("/games/12345")
    html = response.content.decode()
    assert response.status_code == 404 and "There is no page at this address" in html
    assert "Traceback" not in html and 'href="/bets"' in html


@override_settings(DEBUG=False, CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_the_500_page_shows_no_stack_trace(client):
    # No cache: the empty page another test rendered would be served without computing anything.
    client.raise_request_exception = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("betting.bets.page_data.slate", _boom)
        response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in html
    assert "Traceback" not in html and "secret detail" not in html and "RuntimeError" not in html


def test_the_500_handler_falls_back_to_plain_text(rf):
    from core.web.pages import server_error

    response = server_error(rf.get("/"), template_name="no-such-template.html")
    assert response.status_code == 500 and b"Something went wrong" in response.content


def _boom(**kwargs):
    raise RuntimeError("secret detail")


def test_collectstatic_with_the_production_storage_serves_plotly_locally(tmp_path, settings, client):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    hashed = list(tmp_path.glob("vendor/plotly.min.*.js"))
    assert hashed and (tmp_path / "vendor" / f"{hashed[0].name}.gz").is_file()
    assert list(tmp_path.glob("js/charts.*.js")) and list(tmp_path.glob("css/site.*.css"))
    from django.templatetags.static import static

    assert static("vendor/plotly.min.js") == f"/static/vendor/{hashed[0].name}"
