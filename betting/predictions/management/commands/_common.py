"""What the predictions commands share: the --market flag, the league check and the end of a day."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from betting.games.models import League
from betting.games.selectors import league_of as league_for_code
from betting.predictions.training import MARKETS
from core.management.args import Arg

MARKET = Arg.of("--market", required=True, choices=sorted(MARKETS), help="h2h, spreads or totals.")


def league_of(code: str) -> League:
    return league_for_code(code, error=CommandError, none_known="none (run import_history first)")


def end_of_day(day: dt.date) -> dt.datetime:
    """Midnight UTC after ``day``: everything that started on that date counts as before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
