from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from betting.games.management.commands._pull import FROM_FILE, PullCommand
from betting.games.pulls import PullResult, injuries_pull
from core.management.args import DATE, LEAGUE


class Command(PullCommand):
    help = (
        "Pull the injury report page (CBS layout, checked before it is trusted), or replay a recorded page "
        "(.html) or ESPN injuries data (.json) with --from-file."
    )
    arguments = (LEAGUE.but(required=False, default="NBA"), DATE, FROM_FILE)

    def pull(self, options: Mapping[str, Any]) -> PullResult:
        return injuries_pull(league_code=options["league"], from_file=options["from_file"])
