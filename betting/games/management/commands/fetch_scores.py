from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from betting.games.management.commands._pull import PullCommand
from betting.games.pulls import PullResult, scores_pull


class Command(PullCommand):
    help = (
        "Pull a day's scoreboard (ESPN: schedule, live status, final scores) for a league, or replay a recorded "
        "one with --from-file. A final from another source that disagrees is flagged for review, not overwritten."
    )

    def pull(self, options: Mapping[str, Any]) -> PullResult:
        return scores_pull(league_code=options["league"], day=options["date"], from_file=options["from_file"])
