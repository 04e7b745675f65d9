"""Every error the project raises on purpose derives from ``core.errors.SharplineError``, so a
caller that means "any known failure" catches one class instead of listing five."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from betting.bets import pipeline
from betting.games.providers.records import ParseError
from betting.games.selectors import UnknownTeam
from core.errors import SharplineError
from core.http.client import ProviderError, ProviderUnavailable
from tests.test_architecture import ROOT, first_party_modules

# Loaded by Django itself with a given environment (settings) or as entry points of a server.
NOT_IMPORTED = ("core.settings", "core.wsgi", "core.asgi")


def project_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in sorted(first_party_modules()):
        if name.startswith(NOT_IMPORTED):
            continue
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                found[f"{name}.{cls.__qualname__}"] = cls
    return found


EXCEPTIONS = project_exceptions()


def _private(qualified: str) -> bool:
    return qualified.rpartition(".")[2].startswith("_")


def test_the_walk_sees_the_project_errors():
    # A walk that imported nothing would pass the test below; these must be among what it found.
    for name in ("core.http.client.ProviderError", "betting.bets.services.BetError", "betting.games.pulls.PullError"):
        assert name in EXCEPTIONS
    assert len(EXCEPTIONS) >= 30


def test_every_public_exception_class_derives_from_sharpline_error():
    wrong = [name for name, cls in EXCEPTIONS.items() if not _private(name) and not issubclass(cls, SharplineError)]
    assert not wrong, "derive these from core.errors.SharplineError:\n" + "\n".join(wrong)


def test_private_exceptions_are_signals_caught_inside_their_own_module():
    # A leading underscore exempts a class only while no other module can see it: a control-flow
    # signal raised and caught in one file (backfill's _Stop, odds_api's _BadQuote).
    leaked = []
    for qualified in filter(_private, EXCEPTIONS):
        module, _, name = qualified.rpartition(".")
        for path in [*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("betting").rglob("*.py")]:
            if path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".") != module and re.search(
                rf"\b{re.escape(name)}\b", path.read_text()
            ):
                leaked.append(f"{qualified} used in {path.relative_to(ROOT)}")
    assert not leaked, "\n".join(leaked)


def test_the_builtin_kinds_are_kept_beside_the_base():
    # Existing `except ValueError` / `except LookupError` clauses still catch these.
    assert issubclass(ParseError, ValueError) and issubclass(ParseError, SharplineError)
    assert issubclass(UnknownTeam, LookupError) and issubclass(UnknownTeam, SharplineError)


@pytest.mark.parametrize(
    "error", [ProviderUnavailable("odds_api", "https://x.test/", "down", reason="retries_exhausted"), ParseError("bad")]
)
def test_a_caller_of_the_base_catches_a_domain_error(error):
    with pytest.raises(SharplineError):
        raise error
    assert isinstance(error, pipeline.PULL_ERRORS)
    assert issubclass(ProviderError, SharplineError)
