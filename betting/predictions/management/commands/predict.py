from __future__ import annotations

from typing import Any

from betting.predictions.management.commands._common import league_of
from betting.predictions.models import Prediction
from betting.predictions.services import predictions_make
from core.management.args import AS_OF, DATE, LEAGUE, Arg, OneOf, date_arg
from core.management.base import SharplineCommand
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = (
        "Predict the games without a final score with the active models: on --date, from --since on, "
        "or (by default) those starting from now on."
    )
    arguments = (
        LEAGUE,
        OneOf(
            DATE.but(help="Only games on this date (YYYY-MM-DD, league time)."),
            Arg.of("--since", type=date_arg, help="Every game without a final score from this date on."),
        ),
        AS_OF.but(
            help="Replay: predict (h2h) the games starting after this UTC time, final or not, with a model "
            "trained on earlier games only."
        ),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        league = league_of(options["league"])
        as_of = options["as_of"]
        params = {"league": league.code, "date": str(options["date"]), "since": str(options["since"])}
        if as_of is not None:
            params["as_of"] = as_of.isoformat()
        with job_run("predict", params) as run, self.progress("predict", options, unit="games") as bar:
            result = predictions_make(
                league=league, day=options["date"], since=options["since"], as_of=as_of, progress=bar
            )
            run.counts = vars(result)
        self.stdout.write(f"{result.games} game(s): {result.created} predictions created, {result.updated} updated")
        for reason, count in result.skipped.items():
            self.stdout.write(f"  skipped {count} x {reason}")
        shown = (
            Prediction.objects.filter(game__league=league, market="h2h", outcome="home")
            .select_related("game__home_team", "game__away_team", "model_version")
            .order_by("game__start_time")
        )
        if options["date"]:
            shown = shown.filter(game__game_date=options["date"])
        elif options["since"]:
            shown = shown.filter(game__game_date__gte=options["since"])
        for prediction in shown[:20]:
            game = prediction.game
            self.stdout.write(
                f"  {game.game_date} {game.away_team.abbreviation} @ {game.home_team.abbreviation}: "
                f"home {float(prediction.probability):.1%} (fair {prediction.fair_odds}) "
                f"model {prediction.model_version.version}"
            )
