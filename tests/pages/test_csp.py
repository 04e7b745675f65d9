"""The Content-Security-Policy (django-csp, CONTENT_SECURITY_POLICY): on every response, strict for
scripts, and allowing no more style than plotly.js needs. The browser test (test_browser.py) checks
that no page breaks it."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Sample values for the converters of parametrised routes: a missing row answers 404, which must carry
# the policy too.
SAMPLES = {"int": "1", "str": "NBA", "slug": "x", "path": "x"}


def routes(patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "") -> list[str]:
    """A URL for every route of the site (the admin's own: its index and login, below)."""
    found = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route != settings.ADMIN_URL:
                found += routes(pattern.url_patterns, route)
            continue
        found.append("/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[str(m.group(1) or "str")], route))
    return found


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.wsgi_request.path}: no Content-Security-Policy ({response.status_code})"
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_every_route_answers_with_the_policy_whoever_asks(client, admin_client):
    urls = [*routes(), "/admin/", "/admin/login/", "/no-such-page", "/?date=not-a-date"]
    assert {"/", "/bets", "/models", "/data", "/status", "/ready", "/health", "/games/1"} <= set(urls)
    statuses = set()
    for visitor in (client, admin_client):
        for url in urls:
            response = visitor.get(url)
            statuses.add(response.status_code)
            policy(response)
    assert {200, 302, 400, 404} <= statuses  # errors and redirects carry it as well


def test_the_policy_is_strict_for_scripts_frames_and_forms(client):
    directives = policy(client.get("/"))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_style_hashes_are_those_of_what_the_vendored_plotly_injects():
    # plotly.js adds two kinds of <style>: an empty one it fills through insertRule (addStyleRule),
    # and stylesheets it injects with their text (maplibre's). A plotly upgrade that changes either
    # fails here, with the hashes the policy should hold.
    source = Path(finders.find("vendor/plotly.min.js")).read_text()
    assert 'document.createElement("style"),n.setAttribute("id",i),n.appendChild(document.createTextNode(""))' in source
    injected = re.findall(r'createElement\("style"\);\w+\.id="\w+",\w+\.textContent=\'([^\'\\]*)\'', source)
    assert injected, "plotly.js no longer injects a stylesheet this way: look again at what it needs"
    expected = [_hash(""), *(_hash(css) for css in injected)]
    assert expected == settings.PLOTLY_STYLE_HASHES
    assert policy_styles() == ["'self'", *settings.PLOTLY_STYLE_HASHES]


def policy_styles() -> list[str]:
    return list(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"])
