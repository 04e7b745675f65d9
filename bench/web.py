"""Pages under gunicorn with the production settings: the today page and a game page against a
trivial Django view served by the same server (same workers, same middleware, ``bench.settings``),
each hammered by the same number of concurrent clients for the same time.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.stack import fetch, gunicorn, hammer, production_env

DEMO_DAY = "2023-12-11"  # the day of the bundled Odds API sample


def page_paths(database_url: str) -> tuple[str, str]:
    """The today page on the bundled odds' day, and the game of that day with the most quotes."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT g.id, g.game_date FROM games_game g JOIN games_oddsquote q ON q.game_id = g.id "
                "WHERE q.source = 'odds_api' GROUP BY g.id, g.game_date "
                "ORDER BY (g.game_date = %s) DESC, count(*) DESC, g.game_date DESC LIMIT 1",
                [DEMO_DAY],
            )
            row = cur.fetchone()
    finally:
        connection.close()
    if row is None:
        raise SystemExit("no game with bookmaker odds in the database: load the demo data first")
    game_id, day = row
    return f"/?date={day:%Y-%m-%d}", f"/games/{game_id}"


ROUNDS = 3  # the ratios are the median of this many rounds (one run of a page on a shared machine is noise)
TRIVIAL = "/bench/trivial"  # bench.urls: the baseline view, through the same middleware


def server_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """What gunicorn runs with for the page and API steps: the production settings plus the trivial
    view (``bench.settings``), throwaway secrets, and ``extra``."""
    env = production_env(database_url, redis_url, settings="bench.settings")
    env.update(extra)
    return env


def warm(base: str, paths: list[str], headers: dict[str, str] | None = None) -> None:
    """Each path three times (each worker's caches and connections); RuntimeError unless all 200."""
    for path in paths:
        for _ in range(3):
            status, body = fetch(base, path, headers=headers)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")


def measure(
    database_url: str, redis_url: str, *, clients: int = 50, seconds: float = 10, rounds: int = ROUNDS
) -> dict[str, Any]:
    """Each round hammers the trivial view, the today page and the game page in turn for ``seconds``
    each; a page's ratio is its req/s over the trivial view's of the same round, and the figures
    kept are those of the round with the median today ratio (all ratios listed beside)."""
    today, game = page_paths(database_url)
    env = server_env(database_url, redis_url)
    results: dict[str, Any] = {"today_path": today, "game_path": game, "workers": 3, "rounds": rounds}
    measured: list[dict[str, Any]] = []  # one per round
    with gunicorn(env) as base:
        warm(base, [TRIVIAL, today, game])
        for _ in range(rounds):
            one: dict[str, Any] = {
                name: hammer(base, [path], clients=clients, seconds=seconds).summary()
                for name, path in (("trivial", TRIVIAL), ("today", today), ("game", game))
            }
            trivial_rps = float(one["trivial"]["rps"])
            one["today_ratio"] = round(float(one["today"]["rps"]) / trivial_rps, 3)
            one["game_ratio"] = round(float(one["game"]["rps"]) / trivial_rps, 3)
            measured.append(one)
    ordered = sorted(measured, key=lambda one: float(one["today_ratio"]))
    median = ordered[len(ordered) // 2]
    results.update(median)
    results["game_ratio"] = round(statistics.median(float(one["game_ratio"]) for one in measured), 3)
    results["today_ratios"] = [one["today_ratio"] for one in measured]
    results["game_ratios"] = [one["game_ratio"] for one in measured]
    return results
