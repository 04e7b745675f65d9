from __future__ import annotations

from typing import Any

from betting.predictions import registry
from betting.predictions.management.commands._common import MARKET, end_of_day, league_of
from betting.predictions.services import model_train
from core.management.args import LEAGUE, Arg, date_arg
from core.management.base import SharplineCommand, command_errors
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = (
        "Train a model for a league and market on the finished games (up to --until), score it on the "
        "most recent games beside the active model, Elo and the market, and promote it if it is not worse."
    )
    arguments = (
        LEAGUE,
        MARKET,
        Arg.of("--until", type=date_arg, help="Train on games that started up to this date (YYYY-MM-DD)."),
        Arg.of("--warm", action="store_true", help="Continue the active booster on the games since it."),
        Arg.of("--window-days", type=int, help="Train only on the last N days before --until."),
    )

    def handle(self, *args: Any, **options: Any) -> None:
        league = league_of(options["league"])
        until = end_of_day(options["until"]) if options["until"] else None
        params = {k: str(options[k]) for k in ("league", "market", "until", "warm", "window_days")}
        with (
            command_errors(registry.RegistryError, ValueError),
            job_run("train", params) as run,
            self.progress(f"train {league.code} {options['market']}", options, unit="steps", every=1) as bar,
        ):
            result = model_train(
                league=league,
                market=options["market"],
                until=until,
                warm=options["warm"],
                window_days=options["window_days"],
                progress=bar,
            )
            run.counts = {"version": result.version.version if result.version else None, "promoted": result.promoted}
        if result.version is None:
            self.stdout.write(result.note)
            return
        version = result.version
        scored = result.metrics["validation"]
        self.stdout.write(
            f"{version} ({version.kind}, {version.n_train} games, until {version.trained_until:%Y-%m-%d})"
        )
        if scored.get("n_games"):
            self.stdout.write(
                f"Scored on the {scored['n_games']} most recent games ({scored['from'][:10]} to {scored['to'][:10]}):"
            )
            for name in ("model", "baseline", "elo", "market"):
                row = scored.get(name)
                text = (
                    f"log loss {row['log_loss']:.4f}  brier {row['brier']:.4f}  "
                    f"accuracy {row['accuracy']:.3f}  ece {row['ece']:.4f}"
                    if row
                    else "no forecast for this market"
                )
                self.stdout.write(f"  {name:<9}{text}")
        self.stdout.write(f"Family: {version.params.get('why', '')}")
        style = self.style.SUCCESS if result.promoted else self.style.WARNING
        self.stdout.write(style(("Promoted: " if result.promoted else "Not promoted: ") + result.note))
