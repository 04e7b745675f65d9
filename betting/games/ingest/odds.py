"""Live odds snapshots: one pull of The Odds API (``live_records.OddsRecord``) in one transaction.

Games are found by league, teams and local date (or created, scheduled, with the exact start), in
two queries for the whole pull; a quote is appended only when its price or point moved since the
book's last snapshot of that market and side, so the history holds the opening line, each move and
the closing line. Team names go through the shared resolution step (``teams``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from betting.games.ingest.common import (
    EventPlan,
    GameKey,
    PullCounts,
    games_by_key,
    leagues_by_sport,
    same_number,
    season_of,
)
from betting.games.ingest.teams import TeamNames
from betting.games.models import Bookmaker, Game, OddsQuote
from betting.games.providers.live_records import OddsRecord


@dataclass
class OddsIngestSummary(PullCounts):
    events: int = 0
    games_created: int = 0
    quotes_created: int = 0
    quotes_unchanged: int = 0
    unknown_teams: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class _EventPlan(EventPlan):
    """One event of the pull, its teams resolved, and its quotes."""

    event_id: str
    quotes: list[OddsRecord]


def odds_ingest(*, records: Iterable[OddsRecord], source: str = "odds_api") -> OddsIngestSummary:
    """Write one pull of odds snapshots (``live_records.OddsRecord``) in one transaction.

    Games are found by league, teams and local date (or created, scheduled, with the exact start);
    a quote is appended only when its price or point moved since the book's last snapshot of that
    market and side, so the history holds the opening line, each move and the closing line.
    A team name no alias explains fails the whole pull (``IngestFailed``, nothing written) and is
    listed under ``UnresolvedName``; names marked ignored there skip their events."""
    summary = OddsIngestSummary()
    leagues = leagues_by_sport()
    names = TeamNames(source, unknown_teams=summary.unknown_teams)
    by_event: dict[str, list[OddsRecord]] = {}
    for record in records:
        by_event.setdefault(record.event_external_id, []).append(record)
    plan: list[_EventPlan] = []
    for event_id, quotes in by_event.items():
        first = quotes[0]
        league = leagues.get(first.sport_key)
        if league is None:
            reason = f"unknown sport {first.sport_key}"
            summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
            continue
        if names.ignored(league, first.home, first.away):
            summary.skipped["event with an ignored team"] = summary.skipped.get("event with an ignored team", 0) + 1
            continue
        found = names.event(league, first.home, first.away, start=first.start_time, event_id=event_id)
        if found is not None:
            plan.append(_EventPlan(league, *found, event_id, quotes))
    names.fail_on_unknown()
    bookmakers = {b.key: b for b in Bookmaker.objects.all()}
    with transaction.atomic():
        games = _games_for_events(plan, summary)
        latest = _latest_snapshots([game.pk for game in games])
        new: list[QuoteRow] = []
        for game, event in zip(games, plan, strict=True):
            summary.events += 1
            new += _new_quotes(game, event.quotes, source, bookmakers, summary, latest)
        _insert_quotes(new)
    return summary


def _games_for_events(plan: list[_EventPlan], summary: OddsIngestSummary) -> list[Game]:
    """The game of each planned event, found by league, local date and teams (the lowest game
    number of a doubleheader) or created: two queries for the whole pull, not two per event."""
    found = games_by_key(event.key for event in plan)
    missing: dict[GameKey, Game] = {}
    exact: list[Game] = []
    for event in plan:
        first = event.quotes[0]
        existing = found.get(event.key)
        if existing is None and event.key not in missing:
            missing[event.key] = Game(
                league=event.league,
                season=season_of(event.league, event.day),
                game_date=event.day,
                start_time=first.start_time,
                start_time_exact=True,
                home_team_id=event.home_id,
                away_team_id=event.away_id,
                status=Game.Status.SCHEDULED,
                details={"odds_api": {"event_id": event.event_id}},
            )
        elif existing is not None and not existing.start_time_exact and not existing.is_final and existing not in exact:
            existing.start_time, existing.start_time_exact = first.start_time, True
            exact.append(existing)
    if missing:
        Game.objects.bulk_create(list(missing.values()))
        summary.games_created += len(missing)
        found.update(missing)
    if exact:
        now = timezone.now()
        for game in exact:
            game.updated_at = now
        Game.objects.bulk_update(exact, ["start_time", "start_time_exact", "updated_at"])
    return [found[event.key] for event in plan]


def _latest_snapshots(
    game_ids: list[int],
) -> dict[int, dict[tuple[int, str, str, str], tuple[dt.datetime, Decimal | None, Decimal | None]]]:
    """Each game's latest quote per book, market, side and player (props): one query for the pull."""
    latest: dict[int, dict[tuple[int, str, str, str], tuple[dt.datetime, Decimal | None, Decimal | None]]] = {
        game_id: {} for game_id in game_ids
    }
    rows = (
        OddsQuote.objects.filter(game_id__in=set(game_ids))
        .order_by("captured_at")
        .values_list("game_id", "bookmaker_id", "market", "outcome", "player", "captured_at", "price", "point")
    )
    for game_id, book_id, market, outcome, player, captured_at, price, point in rows.iterator(chunk_size=10000):
        latest[game_id][(book_id, market, outcome, player)] = (captured_at, price, point)
    return latest


# (game_id, bookmaker_id, market, outcome, player, price, point, captured_at, source)
QuoteRow = tuple[int, int, str, str, str, Decimal | None, Decimal | None, dt.datetime, str]
QUOTE_COLUMNS = (
    "game_id",
    "bookmaker_id",
    "market",
    "outcome",
    "player",
    "price",
    "point",
    "captured_at",
    "source",
    "created_at",
)


def _insert_quotes(rows: list[QuoteRow]) -> None:
    """Append the pull's new quotes inside the caller's transaction. PostgreSQL takes them with one
    COPY (several times what multi-row INSERTs of model instances manage, bench/results.md); other
    databases with batched INSERTs. Constraints hold either way: a clash fails the whole pull."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        fields = QUOTE_COLUMNS[:-1]
        OddsQuote.objects.bulk_create(
            [OddsQuote(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=2000
        )
        return
    now = timezone.now().isoformat()
    escape = _copy_text
    lines = [
        f"{game}\t{book}\t{escape(market)}\t{escape(outcome)}\t{escape(player)}\t"
        f"{NULL if price is None else price}\t"
        f"{NULL if point is None else point}\t{captured.isoformat()}\t{escape(source)}\t{now}"
        for game, book, market, outcome, player, price, point, captured, source in rows
    ]
    buffer = io.StringIO("\n".join(lines) + "\n")
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(  # the psycopg2 cursor under Django's wrapper
            f"COPY {OddsQuote._meta.db_table} ({', '.join(QUOTE_COLUMNS)}) FROM STDIN", buffer
        )


NULL = r"\N"


def _copy_text(value: str) -> str:
    """A string in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if not any(ch in value for ch in "\\\t\n\r"):
        return value
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _new_quotes(
    game: Game,
    quotes: list[OddsRecord],
    source: str,
    bookmakers: dict[str, Bookmaker],
    summary: OddsIngestSummary,
    seen: dict[int, dict[tuple[int, str, str, str], tuple[dt.datetime, Decimal | None, Decimal | None]]],
) -> list[QuoteRow]:
    """The quotes of one event that moved since the book's last snapshot. ``seen`` holds each game's
    latest snapshots, including those of this pull not written yet (two events of one game)."""
    latest = seen[game.pk]
    new: list[QuoteRow] = []
    for quote in sorted(quotes, key=lambda q: q.captured_at):
        book = bookmakers.get(quote.bookmaker_key)
        if book is None:
            book = bookmakers[quote.bookmaker_key] = Bookmaker.objects.create(
                key=quote.bookmaker_key, title=quote.bookmaker_title
            )
        player = quote.player  # props only; "" for game markets
        key = (book.pk, quote.market, quote.outcome, player)
        last = latest.get(key)
        if last is not None and (
            last[0] >= quote.captured_at or (same_number(last[1], quote.price) and same_number(last[2], quote.point))
        ):
            summary.quotes_unchanged += 1
            continue
        latest[key] = (quote.captured_at, quote.price, quote.point)
        new.append(
            (game.pk, book.pk, quote.market, quote.outcome, player, quote.price, quote.point, quote.captured_at, source)
        )
    summary.quotes_created += len(new)
    return new


# --- Live scores, schedules and injuries -------------------------------------------------------
