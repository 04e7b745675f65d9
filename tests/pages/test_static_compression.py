"""Static files in production: hashed names and gzip from WhiteNoise's compressed manifest storage,
so plotly.min.js (4.8 MB) travels as about 1.5 MB; the local settings (tests, `make demo`) serve the
same files straight from the app folders."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.templatetags.static import static

from tests.core.test_settings import FERNET_KEY, SAFE_KEY, run_python

COMPRESSED = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_uses_the_compressed_manifest_storage(tmp_path):
    probe = run_python(
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS]))",
        "core.settings.production",
        tmp_path,
        SECRET_KEY=SAFE_KEY,
        ALLOWED_HOSTS="example.com",
        FIELD_ENCRYPTION_KEYS=FERNET_KEY,
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == [COMPRESSED, False]


def test_collectstatic_gzips_plotly_and_whitenoise_serves_the_gzip(tmp_path, settings, client):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": COMPRESSED}}
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--noinput", verbosity=0)
    url = static("vendor/plotly.min.js")
    original = tmp_path / url.split("/static/", 1)[1]  # vendor/plotly.min.<hash>.js
    gz = original.with_name(original.name + ".gz")
    assert original.is_file() and gz.is_file()
    assert gz.stat().st_size < original.stat().st_size * 0.4

    # The middleware is built at the first request, after the settings above: it sees STATIC_ROOT.
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped.status_code == 200 and zipped["Content-Encoding"] == "gzip"
    assert int(zipped["Content-Length"]) == gz.stat().st_size
    assert "immutable" in zipped["Cache-Control"]  # hashed name: cached for good
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    assert int(plain["Content-Length"]) == original.stat().st_size


def test_local_settings_serve_static_files_without_collectstatic(client, settings):
    assert settings.WHITENOISE_USE_FINDERS is True
    for path in ("vendor/plotly.min.js", "js/charts.js", "css/site.css"):
        response = client.get(static(path))
        assert response.status_code == 200, path
        assert b"".join(response.streaming_content if response.streaming else [response.content])
