from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from betting.games.management.commands._pull import ODDS_FORMAT, PullCommand
from betting.games.pulls import PullResult, odds_pull


class Command(PullCommand):
    help = (
        "Pull bookmaker odds (The Odds API v4: h2h, spreads, totals) for a league, or replay a recorded "
        "response with --from-file. Quotes are appended only when a price or line moved; a replay changes nothing."
    )
    arguments = (*PullCommand.arguments, ODDS_FORMAT)

    def pull(self, options: Mapping[str, Any]) -> PullResult:
        return odds_pull(
            league_code=options["league"],
            day=options["date"],
            from_file=options["from_file"],
            odds_format=options["odds_format"],
        )
