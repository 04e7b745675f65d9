"""Archive imports: a season file (SBR, Kaggle) into games and their opening and closing lines.

A file is imported in one transaction, all of it or (``ImportFailed``) none; ``import_history``
runs several, each whole, as one ``JobRun``. Team names go through the shared resolution step
(``teams``) and stop the file at the first unknown one; scores through the shared final-score rule
(``_merge``). A second import of the same file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TypeAlias

from django.db import transaction

from betting.games.ingest._merge import merge_score
from betting.games.ingest.common import ImportFailed, Progress, chunks, same_number, state_of
from betting.games.ingest.reference import reference_sync
from betting.games.ingest.teams import TeamNames
from betting.games.models import Bookmaker, Game, League, OddsQuote
from betting.games.providers import kaggle, sbr
from betting.games.providers.records import OPEN, GameRecord, ParseError, ParseResult
from betting.games.providers.tables import read_table
from betting.games.selectors import UnknownTeam, insane_pair_count, league_of
from core.models import JobRun
from core.ops.jobs import AlreadyRunning, job_run, single_flight

# Archives date their lines by game, not by minute. Their opening line is stamped a day
# before the start and their closing line five minutes before it, so that "the last quote
# before the start" is the closing line, as it is for live snapshots.
ARCHIVE_OPEN_LEAD = dt.timedelta(days=1)
ARCHIVE_CLOSE_LEAD = dt.timedelta(minutes=5)

ARCHIVE_BOOKMAKERS = {
    "sbr": "SportsbookReviewsOnline archive",
    "kaggle": "Kaggle NBA betting archive",
}
FORMATS = ("sbr", "kaggle")


# A file's (or a batch's) counts: numbers, and the skipped rows by reason.
Counts: TypeAlias = dict[str, int | dict[str, int]]


@dataclass
class ImportSummary:
    path: str
    games_created: int = 0
    games_updated: int = 0
    games_unchanged: int = 0
    quotes_created: int = 0
    quotes_unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    @property
    def games(self) -> int:
        return self.games_created + self.games_updated + self.games_unchanged

    def as_counts(self) -> Counts:
        return {
            "games_created": self.games_created,
            "games_updated": self.games_updated,
            "games_unchanged": self.games_unchanged,
            "quotes_created": self.quotes_created,
            "quotes_unchanged": self.quotes_unchanged,
            "skipped": dict(self.skipped),
            "conflicts": len(self.conflicts),
        }


def season_from_filename(path: Path | str) -> int | None:
    """``nba_odds_2017-18.xlsx`` -> 2017; ``sbr_mlb_odds_2018.csv`` -> 2018."""
    name = Path(path).name
    match = re.search(r"(19|20)(\d{2})[-_](\d{2})(?!\d)", name)
    if match:
        return int(match.group(1) + match.group(2))
    match = re.search(r"(?<!\d)(19|20)(\d{2})(?!\d)", name)
    return int(match.group(1) + match.group(2)) if match else None


def history_parse(*, league: League, fmt: str, path: Path | str, season: int | None = None) -> ParseResult:
    """Read and parse one archive file (no database writes)."""
    table = read_table(path)
    if fmt == "kaggle":
        if league.code != "NBA":
            raise ParseError(f"the kaggle format holds NBA games, not {league.code}", path=str(path))
        return kaggle.parse(table)
    if fmt != "sbr":
        raise ParseError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", path=str(path))
    season = season if season is not None else season_from_filename(path)
    if season is None:
        raise ParseError("cannot tell the season from the file name; pass --season", path=str(path))
    if league.code == "MLB":
        return sbr.parse_mlb(table, season=season)
    return sbr.parse_nba(table, season=season, spans_years=league.season_spans_years)


def history_import(
    *,
    league: League,
    fmt: str,
    path: Path | str,
    season: int | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one archive file in one transaction: all of it, or (on ``ImportFailed``) none."""
    try:
        parsed = history_parse(league=league, fmt=fmt, path=path, season=season)
    except ParseError as exc:
        raise ImportFailed(str(exc)) from exc
    importer = _ArchiveImporter(league=league, source=fmt, path=str(path))
    resolved = importer.resolve_teams(parsed.games)
    summary = ImportSummary(path=str(path), skipped=dict(parsed.skipped))
    with transaction.atomic():
        importer.write(resolved, summary, progress)
    return summary


@dataclass(frozen=True)
class ResolvedGame:
    """An archive's game with its teams resolved."""

    record: GameRecord
    home_id: int
    away_id: int


# A game already in the database or written by this file: local date, home, away, game number.
ArchiveKey = tuple[dt.date, int, int, int]


# What an archive may change of a game.
ARCHIVE_FIELDS = (
    "season",
    "season_type",
    "neutral_site",
    "status",
    "home_score",
    "away_score",
    "period_scores",
    "score_source",
    "details",
    "home_pitcher",
    "away_pitcher",
    "needs_review",
    "review_note",
)


class _ArchiveImporter:
    def __init__(self, *, league: League, source: str, path: str) -> None:
        self.league = league
        self.source = source
        self.path = path
        self.zone = zoneinfo.ZoneInfo(league.time_zone)

    def resolve_teams(self, records: list[GameRecord]) -> list[ResolvedGame]:
        resolver = TeamNames(self.source).resolver(self.league)
        resolved = []
        for record in records:
            ids = []
            for side, name in (("home", record.home), ("away", record.away)):
                try:
                    ids.append(resolver.resolve(name, source=self.source, on=record.game_date))
                except UnknownTeam as exc:
                    row, column = record.team_cells.get(side, (record.row, ""))
                    where = f"row {row}, column {column!r}" if column else f"row {row}"
                    raise ImportFailed(
                        f"{self.path}, {where}: {exc} (add a TeamAlias for it in the admin "
                        f"or in games/reference/{self.league.code.lower()}_aliases.csv)"
                    ) from exc
            if ids[0] == ids[1]:
                raise ImportFailed(f"{self.path}, row {record.row}: a team cannot play itself ({record.home!r})")
            resolved.append(ResolvedGame(record, ids[0], ids[1]))
        return resolved

    def write(self, resolved: list[ResolvedGame], summary: ImportSummary, progress: Progress | None) -> None:
        bookmaker, _ = Bookmaker.objects.get_or_create(
            key=self.source, defaults={"title": ARCHIVE_BOOKMAKERS.get(self.source, self.source)}
        )
        dates = {item.record.game_date + dt.timedelta(days=d) for item in resolved for d in (-1, 0, 1)}
        games: dict[ArchiveKey, Game] = {}
        for days in chunks(sorted(dates), 500):
            for g in Game.objects.filter(league=self.league, game_date__in=days):
                games[(g.game_date, g.home_team_id, g.away_team_id, g.game_number)] = g
        existing_quotes: dict[tuple[int, str, str, dt.datetime], tuple[Decimal | None, Decimal | None]] = {}
        game_ids = [g.id for g in games.values()]
        for ids in chunks(game_ids, 500):
            rows = OddsQuote.objects.filter(game_id__in=ids, bookmaker=bookmaker).values_list(
                "game_id", "market", "outcome", "captured_at", "price", "point"
            )
            for game_id, market, outcome, captured_at, price, point in rows:
                existing_quotes[(game_id, market, outcome, captured_at)] = (price, point)

        if progress is not None:
            progress.reset(total=len(resolved))
        self.pending: list[Game] = []
        matched: list[tuple[GameRecord, Game, bool]] = []
        for item in resolved:
            matched.append((item.record, *self._game_for(item.record, item.home_id, item.away_id, games, summary)))
            if progress is not None:
                progress.update(1)
        Game.objects.bulk_create(self.pending, batch_size=500)  # sets their ids (PostgreSQL, SQLite >= 3.35)
        new_quotes: list[OddsQuote] = []
        for record, game, flipped in matched:
            for quote in record.quotes:
                outcome = quote.outcome
                if flipped and outcome in ("home", "away"):
                    outcome = "away" if outcome == "home" else "home"
                lead = ARCHIVE_OPEN_LEAD if quote.line == OPEN else ARCHIVE_CLOSE_LEAD
                captured_at = game.start_time - lead
                key = (game.id, quote.market, outcome, captured_at)
                seen = existing_quotes.get(key)
                if seen is None:
                    existing_quotes[key] = (quote.price, quote.point)
                    new_quotes.append(
                        OddsQuote(
                            game=game,
                            bookmaker=bookmaker,
                            market=quote.market,
                            outcome=outcome,
                            price=quote.price,
                            point=quote.point,
                            captured_at=captured_at,
                            source=self.source,
                        )
                    )
                elif same_number(seen[0], quote.price) and same_number(seen[1], quote.point):
                    summary.quotes_unchanged += 1
                else:
                    summary.conflicts.append(
                        f"row {record.row}: {game} {quote.market} {outcome} ({quote.line}) is already recorded as "
                        f"price {seen[0]} point {seen[1]}; the file says price {quote.price} point {quote.point}"
                        " (snapshots are never overwritten)"
                    )
        OddsQuote.objects.bulk_create(new_quotes, batch_size=2000)
        summary.quotes_created += len(new_quotes)

    def _game_for(
        self,
        record: GameRecord,
        home_id: int,
        away_id: int,
        games: dict[ArchiveKey, Game],
        summary: ImportSummary,
    ) -> tuple[Game, bool]:
        key = (record.game_date, home_id, away_id, record.game_number)
        game, flipped = games.get(key), False
        if game is None:
            swapped = games.get((record.game_date, away_id, home_id, record.game_number))
            # At a neutral site "home" is nominal and two sources may list the teams either way.
            if swapped is not None and (swapped.neutral_site or record.neutral):
                game, flipped = swapped, True
        if game is None:
            game, flipped = self._same_game_other_date(record, home_id, away_id, games)
        if game is None:
            game = self._create(record, home_id, away_id)
            games[key] = game
            summary.games_created += 1
            return game, False
        before = state_of(game, ARCHIVE_FIELDS)
        if game.game_date != record.game_date:
            # Archives disagree on the date of some late games (12-24 vs 12-25): one game, flagged.
            note = f"{self.source} dates this game {record.game_date:%Y-%m-%d}; kept {game.game_date:%Y-%m-%d}"
            if game.flag_for_review(note):
                summary.conflicts.append(f"row {record.row}: {game}: {note}")
        self._merge(game, record, flipped, summary)
        if game.pk is None:  # created earlier in this file (a repeated row): written with the others
            summary.games_unchanged += 1
        elif state_of(game, ARCHIVE_FIELDS) != before:
            game.save()
            summary.games_updated += 1
        else:
            summary.games_unchanged += 1
        return game, flipped

    def _create(self, record: GameRecord, home_id: int, away_id: int) -> Game:
        """A new game, written in bulk once the whole file is matched."""
        game = Game(
            league=self.league,
            season=record.season,
            season_type=record.season_type,
            game_date=record.game_date,
            start_time=self._default_start(record.game_date),
            start_time_exact=False,
            game_number=record.game_number,
            home_team_id=home_id,
            away_team_id=away_id,
            neutral_site=bool(record.neutral),
            status=Game.Status.FINAL,
            home_score=record.home_score,
            away_score=record.away_score,
            period_scores=record.period_scores,
            score_source=self.source,
            details={self.source: record.details} if record.details else {},
            home_pitcher=record.home_pitcher,
            away_pitcher=record.away_pitcher,
        )
        self.pending.append(game)
        return game

    def _same_game_other_date(
        self, record: GameRecord, home_id: int, away_id: int, games: dict[ArchiveKey, Game]
    ) -> tuple[Game | None, bool]:
        """The game another source filed a day earlier or later: same teams, same final score."""
        for offset in (-1, 1):
            day = record.game_date + dt.timedelta(days=offset)
            for flipped, key in ((False, (day, home_id, away_id)), (True, (day, away_id, home_id))):
                game = games.get((*key, record.game_number))
                if game is None or game.score_source in ("", self.source):
                    continue
                if flipped and not (game.neutral_site or record.neutral):
                    continue
                scores = (record.away_score, record.home_score) if flipped else (record.home_score, record.away_score)
                if (game.home_score, game.away_score) == scores:
                    return game, flipped
        return None, False

    def _merge(self, game: Game, record: GameRecord, flipped: bool, summary: ImportSummary) -> None:
        """Bring what this source knows into an existing game. The source that gave the score
        may correct it; a different score from another source is reported, not written (``merge_score``)."""
        home_score, away_score = record.home_score, record.away_score
        periods = dict(record.period_scores)
        if flipped:
            home_score, away_score = away_score, home_score
            periods = {"home": periods.get("away", []), "away": periods.get("home", [])}
        own_score = game.score_source in ("", self.source)
        note = merge_score(
            game,
            source=self.source,
            status=Game.Status.FINAL,
            home_score=home_score,
            away_score=away_score,
            periods=periods or None,  # an archive without period scores leaves the game's own
        )
        if note is not None:
            summary.conflicts.append(f"row {record.row}: {game}: {note}")
        if record.neutral is not None and own_score:
            game.neutral_site = record.neutral
        if record.season_type and (not game.season_type or own_score):
            game.season_type = record.season_type
        if record.details and game.details.get(self.source) != record.details:
            game.details = {**game.details, self.source: record.details}
        # The archive names who actually started; it replaces a probable starter, never with a blank.
        pitchers = (record.away_pitcher, record.home_pitcher) if flipped else (record.home_pitcher, record.away_pitcher)
        game.home_pitcher = pitchers[0] or game.home_pitcher
        game.away_pitcher = pitchers[1] or game.away_pitcher
        if game.season != record.season:
            note = f"{self.source} files this game under season {record.season}; kept {game.season}"
            if game.flag_for_review(note):
                summary.conflicts.append(f"row {record.row}: {game}: {note}")

    def _default_start(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, self.league.default_start_time, tzinfo=self.zone)
        return local.astimezone(dt.UTC)


@dataclass
class BatchResult:
    """What an ``import_history`` run did, file by file."""

    summaries: list[ImportSummary] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    job_run_id: int | None = None

    def totals(self) -> Counts:
        totals: Counts = {"files_imported": len(self.summaries), "files_failed": len(self.failures)}
        for summary in self.summaries:
            for key, value in summary.as_counts().items():
                held = totals.get(key)
                if isinstance(value, dict):
                    bucket = dict(held) if isinstance(held, dict) else {}
                    for reason, count in value.items():
                        bucket[reason] = bucket.get(reason, 0) + count
                    totals[key] = bucket
                else:
                    totals[key] = (held if isinstance(held, int) else 0) + value
        return totals


def history_import_files(
    *,
    league_code: str,
    fmt: str,
    paths: Iterable[Path | str],
    season: int | None = None,
    progress_factory: Callable[[Path], Progress] | None = None,
    task_id: str = "",
) -> BatchResult:
    """Import archive files one by one, each whole or not at all, recorded as one ``JobRun``.

    ``progress_factory(path)`` may return a progress bar (anything with ``update`` and ``close``).
    Raises ``ImportFailed`` for an unknown league; a failing file is reported in the result.
    """
    code = league_code.upper()
    # Two imports of one league at once would race on the same natural keys: the second waits its
    # turn by being refused in words (the lock is shared by every process through the cache).
    try:
        with single_flight(f"import_history:{code}", ttl=IMPORT_LOCK_SECONDS):
            return _history_import_files(
                code=code, fmt=fmt, paths=paths, season=season, progress_factory=progress_factory, task_id=task_id
            )
    except AlreadyRunning as exc:
        raise ImportFailed(
            f"another import of {code} history is running; nothing was written: run this one again when it finishes"
        ) from exc


IMPORT_LOCK_SECONDS = 3 * 3600


def _history_import_files(
    *,
    code: str,
    fmt: str,
    paths: Iterable[Path | str],
    season: int | None,
    progress_factory: Callable[[Path], Progress] | None,
    task_id: str,
) -> BatchResult:
    reference_sync(league_codes=[code])
    league = league_of(code, error=ImportFailed)
    files = [Path(p) for p in paths]
    params = {"league": code, "format": fmt, "files": [str(p) for p in files], "season": season}
    result = BatchResult()
    with job_run("import_history", params, task_id=task_id) as run:
        result.job_run_id = run.pk
        for path in files:
            bar = progress_factory(path) if progress_factory else None
            try:
                summary = history_import(league=league, fmt=fmt, path=path, season=season, progress=bar)
            except ImportFailed as exc:
                result.failures.append(str(exc))
                continue
            finally:
                if bar is not None:
                    bar.close()
            result.summaries.append(summary)
        counts: dict[str, object] = dict(result.totals())
        counts["insane_pairs"] = insane_pair_count(since=run.started_at, league=league)  # kept, priced from by none
        counts["conflict_details"] = [f"{Path(s.path).name} {line}" for s in result.summaries for line in s.conflicts][
            :500
        ]
        run.counts = counts
        if result.failures:
            run.status = JobRun.Status.PARTIAL if result.summaries else JobRun.Status.FAILED
            run.error = "\n".join(result.failures)
    return result
