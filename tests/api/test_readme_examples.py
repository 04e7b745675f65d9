"""The README's API section: each curl line is replayed against the app (Django's test client), so
the examples cannot drift from the API. Method, headers, query, body and form fields are taken as
written; only the example ids (bankroll, game, backtest) become this database's."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from betting.api.tokens import token_create
from betting.bets.models import Backtest
from tests.api.test_api import CSV_HEADER, ORL_ROW, game_orl_cle

README = Path(__file__).resolve().parents[2] / "README.md"


def api_examples() -> list[str]:
    """The curl commands of the first ``sh`` block under "## API", continuation lines joined."""
    text = README.read_text()
    section = text[text.index("\n## API\n") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README's API section has no sh block"
    joined = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


def parse(command: str, token: str) -> dict[str, Any]:
    args = shlex.split(command.replace("$TOKEN", token).replace("$SHARPLINE", ""))[1:]
    request: dict[str, Any] = {"method": "GET", "headers": {}, "data": None, "form": {}, "url": None}
    items = iter(args)
    for arg in items:
        if arg == "-X":
            request["method"] = next(items)
        elif arg == "-H":
            name, _, value = next(items).partition(":")
            request["headers"][name.strip().lower()] = value.strip()
        elif arg in ("-d", "--data"):
            request["data"] = next(items)
        elif arg == "-F":
            name, _, value = next(items).partition("=")
            request["form"][name] = value
        elif arg.startswith("-"):
            raise AssertionError(f"the README uses a curl option this test does not replay: {arg}")
        else:
            request["url"] = arg
    return request


def test_the_readme_shows_the_api_examples():
    commands = api_examples()
    assert len(commands) >= 9
    assert any("-X POST" in c and '/api/v1/bets"' in c for c in commands)
    assert any("/api/v1/bets/import" in c for c in commands)


@pytest.mark.django_db
def test_every_curl_example_of_the_readme_works(people, odds, django_capture_on_commit_callbacks):
    token = token_create(user=people["alice"], scope="bet")[1]
    ids = {"bankroll": people["bankrolls"]["alice"].pk, "game": game_orl_cle().pk}
    client = Client()
    for command in api_examples():
        request = parse(command, token)
        assert request["headers"].get("authorization") == f"Bearer {token}", command
        parts = urlsplit(request["url"])
        path = parts.path
        last = Backtest.objects.order_by("-pk").first()
        if last is not None:
            path = re.sub(r"/backtests/\d+", f"/backtests/{last.pk}", path)
        query = {name: (str(ids[name]) if name in ids else value) for name, value in parse_qsl(parts.query)}
        extra = {"HTTP_AUTHORIZATION": request["headers"]["authorization"]}
        if request["method"] == "GET":
            response = client.get(path, query, **extra)
        elif request["form"]:
            form = {name: (str(ids[name]) if name in ids else value) for name, value in request["form"].items()}
            form["file"] = SimpleUploadedFile("my-bets.csv", (CSV_HEADER + ORL_ROW).encode(), "text/csv")
            response = client.post(path, form, **extra)
        else:
            body = json.loads(request["data"])
            body.update({name: ids[name] for name in ids if name in body})
            assert request["headers"]["content-type"] == "application/json", command
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(path, json.dumps(body), content_type="application/json", **extra)
        assert response.status_code in (200, 201, 202), (command, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), command
