"""Argument parsing shared by the predictions commands: validated league, market and dates."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError

from django.core.management.base import CommandError

from betting.games.models import League
from betting.predictions.training import MARKETS


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"expected a date written YYYY-MM-DD, got {text!r}") from None


def add_league(parser: ArgumentParser) -> None:
    parser.add_argument("--league", required=True, help="League code, e.g. NBA.")


def add_market(parser: ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--market", required=required, choices=sorted(MARKETS), help="h2h, spreads or totals.")


def league_of(code: str) -> League:
    league = League.objects.filter(code=code.upper()).first()
    if league is None:
        known = ", ".join(League.objects.values_list("code", flat=True)) or "none (run import_history first)"
        raise CommandError(f"unknown league {code!r}; known leagues: {known}")
    return league


def end_of_day(day: dt.date) -> dt.datetime:
    """Midnight UTC after ``day``: everything that started on that date counts as before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
