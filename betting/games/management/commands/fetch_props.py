from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from betting.games.management.commands._pull import FROM_FILE, ODDS_FORMAT, PullCommand
from betting.games.pulls import PullResult, props_pull
from core.management.args import LEAGUE


class Command(PullCommand):
    help = (
        "Pull player props (PROPS_MARKETS) for a league's upcoming games through The Odds API per-event "
        "endpoint, at most PROPS_MAX_EVENTS_PER_PULL events and never below ODDS_API_QUOTA_RESERVE, or replay "
        "a recorded per-event response with --from-file. A replay changes nothing."
    )
    arguments = (LEAGUE, FROM_FILE, ODDS_FORMAT)

    def pull(self, options: Mapping[str, Any]) -> PullResult:
        return props_pull(
            league_code=options["league"], from_file=options["from_file"], odds_format=options["odds_format"]
        )
