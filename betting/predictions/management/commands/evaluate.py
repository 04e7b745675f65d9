from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError

from betting.predictions.management.commands._common import MARKET, league_of
from betting.predictions.services import evaluate_window
from core.management.args import END, JSON, LEAGUE, START, Arg
from core.management.base import SharplineCommand, command_errors
from core.ops.jobs import job_run


class Command(SharplineCommand):
    help = (
        "Score the games from --from to --to with models trained only on earlier games, beside Elo and the "
        "de-vigged market on the same games. --walk-forward replays the nightly retraining day by day."
    )
    arguments = (LEAGUE, MARKET, START, END, Arg.of("--walk-forward", action="store_true"), JSON)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["end"] < options["start"]:
            raise CommandError("--to is before --from")
        league = league_of(options["league"])
        params = {k: str(options[k]) for k in ("league", "market", "start", "end", "walk_forward")}
        with (
            command_errors(ValueError),
            job_run("evaluate", params) as run,
            self.progress("evaluate", options, unit="days") as bar,
        ):
            result = evaluate_window(
                league=league,
                market=options["market"],
                start=options["start"],
                end=options["end"],
                walk_forward=options["walk_forward"],
                progress=bar,
            )
            run.counts = {k: result.get(k) for k in ("n_games", "model", "baseline", "elo", "market", "updates")}
        if options["json"]:
            keys = (
                "n_games",
                "model",
                "baseline",
                "elo",
                "market",
                "walk_forward",
                "updates",
                "chosen",
                "left_out_no_market_price",
            )
            self.stdout.write(json.dumps({k: result[k] for k in keys if k in result}))
            return
        self.stdout.write(
            f"{result['n_games']} {league.code} {options['market']} games, {result['from'][:10]} to {result['to'][:10]}"
        )
        self.stdout.write(f"{'':9}{'log loss':>10}{'brier':>9}{'accuracy':>10}{'ece':>8}")
        for name in ("model", "baseline", "elo", "market"):
            row = result.get(name)
            if row:
                self.stdout.write(
                    f"{name:9}{row['log_loss']:>10.4f}{row['brier']:>9.4f}{row['accuracy']:>10.3f}{row['ece']:>8.4f}"
                )
            else:
                self.stdout.write(f"{name:9}  (no forecast for this market)")
        chosen = result.get("chosen") or {}
        if chosen:
            self.stdout.write(f"model family: {chosen['family']} ({chosen['why']})")
        if result.get("walk_forward"):
            self.stdout.write(f"updates: {result['updates']}")
        self.stdout.write("reliability (model):")
        for b in result["reliability"]:
            if b["n"]:
                self.stdout.write(
                    f"  {b['lower']:.1f}-{b['upper']:.1f}: {b['n']:4d} games, "
                    f"forecast {b['mean_prob']:.3f}, happened {b['frequency']:.3f}"
                )
