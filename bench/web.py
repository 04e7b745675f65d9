"""Pages under gunicorn with the production settings: the today page and a game page against a
trivial Django view served by the same server (same workers, same middleware, ``bench.settings``),
each hammered by the same number of concurrent clients for the same time.
"""

from __future__ import annotations

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


def measure(database_url: str, redis_url: str, *, clients: int = 50, seconds: float = 10) -> dict[str, Any]:
    today, game = page_paths(database_url)
    env = production_env(database_url, redis_url, settings="bench.settings")
    results: dict[str, Any] = {"today_path": today, "game_path": game, "workers": 3}
    with gunicorn(env) as base:
        for path in ("/bench/trivial", today, game):
            for _ in range(3):  # warm each worker's caches and connections
                status, body = fetch(base, path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
        for name, path in (("trivial", "/bench/trivial"), ("today", today), ("game", game)):
            results[name] = hammer(base, [path], clients=clients, seconds=seconds).summary()
    trivial_rps = float(results["trivial"]["rps"])
    results["today_ratio"] = round(float(results["today"]["rps"]) / trivial_rps, 3)
    results["game_ratio"] = round(float(results["game"]["rps"]) / trivial_rps, 3)
    return results
