"""Writes for the games app: reference data (leagues, teams, aliases) and archive imports.

Every write here is idempotent: natural keys, and a second run with the same input
changes no row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from betting.games.models import (
    Bookmaker,
    Game,
    Injury,
    League,
    OddsQuote,
    Team,
    TeamAlias,
    UnresolvedName,
    normalize_name,
)
from betting.games.providers import kaggle, sbr
from betting.games.providers.records import OPEN, GameRecord, ParseError, ParseResult, pitcher_key
from betting.games.providers.tables import read_table
from betting.games.selectors import TeamResolver, UnknownTeam, insane_pair_count
from core.jobs import AlreadyRunning, job_run, single_flight
from core.models import JobRun

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

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


class Progress(Protocol):
    """A progress bar: tqdm fits."""

    def reset(self, total: int | None = None) -> None: ...
    def update(self, n: float | None = 1) -> bool | None: ...
    def close(self) -> None: ...


# --- Reference data ----------------------------------------------------------------------------


@dataclass
class ReferenceSummary:
    leagues: int = 0
    teams_created: int = 0
    teams_updated: int = 0
    aliases_created: int = 0
    aliases_updated: int = 0


def _read_reference(name: str) -> list[dict[str, str]]:
    path = REFERENCE_DIR / name
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _optional_date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save()
    return bool(changed)


@transaction.atomic
def reference_sync(*, league_codes: Iterable[str] | None = None) -> ReferenceSummary:
    """Load the bundled leagues, teams and aliases (``games/reference/``). Adds and corrects
    rows; never deletes, so aliases added in the admin survive."""
    wanted = {c.upper() for c in league_codes} if league_codes else None
    summary = ReferenceSummary()
    for spec in _read_reference("leagues.csv"):
        code = spec["code"].upper()
        if wanted is not None and code not in wanted:
            continue
        league, _ = League.objects.get_or_create(
            code=code, defaults={"name": spec["name"], "sport_key": spec["sport_key"]}
        )
        _apply(
            league,
            {
                "name": spec["name"],
                "sport_key": spec["sport_key"],
                "time_zone": spec["time_zone"],
                "default_start_time": dt.time.fromisoformat(spec["default_start_time"]),
                "season_spans_years": spec["season_spans_years"].lower() == "true",
            },
        )
        summary.leagues += 1
        teams = _sync_teams(league, summary)
        _sync_aliases(league, teams, summary)
    return summary


def _sync_teams(league: League, summary: ReferenceSummary) -> dict[str, Team]:
    teams = {t.abbreviation: t for t in Team.objects.filter(league=league)}
    for row in _read_reference(f"{league.code.lower()}_teams.csv"):
        values = {
            "name": row["name"],
            "city": row["city"],
            "nickname": row["nickname"],
            "external_id": row["external_id"],
        }
        team = teams.get(row["abbreviation"])
        if team is None:
            teams[row["abbreviation"]] = Team.objects.create(league=league, abbreviation=row["abbreviation"], **values)
            summary.teams_created += 1
        elif _apply(team, values):
            summary.teams_updated += 1
    return teams


def _sync_aliases(league: League, teams: dict[str, Team], summary: ReferenceSummary) -> None:
    existing = {(a.normalized, a.source, a.team_id): a for a in TeamAlias.objects.filter(league=league)}
    for row in _read_reference(f"{league.code.lower()}_aliases.csv"):
        team = teams[row["team"]]
        values: dict[str, Any] = {
            "name": row["alias"],
            "valid_from": _optional_date(row["valid_from"]),
            "valid_to": _optional_date(row["valid_to"]),
            "note": row["note"],
        }
        alias = existing.get((normalize_name(row["alias"]), row["source"], team.id))
        if alias is None:
            alias = TeamAlias.objects.create(league=league, team=team, source=row["source"], **values)
            existing[(alias.normalized, alias.source, team.id)] = alias
            summary.aliases_created += 1
        elif _apply(alias, values):
            summary.aliases_updated += 1


# --- Archive import ----------------------------------------------------------------------------


class ImportFailed(Exception):
    """A file that cannot be imported; nothing from it was written."""


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

    def as_counts(self) -> dict[str, Any]:
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


class _ArchiveImporter:
    def __init__(self, *, league: League, source: str, path: str) -> None:
        self.league = league
        self.source = source
        self.path = path
        self.zone = zoneinfo.ZoneInfo(league.time_zone)

    def resolve_teams(self, records: list[GameRecord]) -> list[tuple[GameRecord, int, int]]:
        resolver = TeamResolver(self.league)
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
            resolved.append((record, ids[0], ids[1]))
        return resolved

    def write(
        self, resolved: list[tuple[GameRecord, int, int]], summary: ImportSummary, progress: Progress | None
    ) -> None:
        bookmaker, _ = Bookmaker.objects.get_or_create(
            key=self.source, defaults={"title": ARCHIVE_BOOKMAKERS.get(self.source, self.source)}
        )
        dates = {record.game_date + dt.timedelta(days=d) for record, _, _ in resolved for d in (-1, 0, 1)}
        games: dict[tuple[dt.date, int, int, int], Game] = {}
        for chunk in _chunks(sorted(dates), 500):
            for g in Game.objects.filter(league=self.league, game_date__in=chunk):
                games[(g.game_date, g.home_team_id, g.away_team_id, g.game_number)] = g
        existing_quotes: dict[tuple[int, str, str, dt.datetime], tuple[Decimal | None, Decimal | None]] = {}
        game_ids = [g.id for g in games.values()]
        for chunk in _chunks(game_ids, 500):
            rows = OddsQuote.objects.filter(game_id__in=chunk, bookmaker=bookmaker).values_list(
                "game_id", "market", "outcome", "captured_at", "price", "point"
            )
            for game_id, market, outcome, captured_at, price, point in rows:
                existing_quotes[(game_id, market, outcome, captured_at)] = (price, point)

        if progress is not None:
            progress.reset(total=len(resolved))
        self.pending: list[Game] = []
        matched = []
        for record, home_id, away_id in resolved:
            matched.append((record, *self._game_for(record, home_id, away_id, games, summary)))
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
                elif _same_number(seen[0], quote.price) and _same_number(seen[1], quote.point):
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
        games: dict[tuple[dt.date, int, int, int], Game],
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
        before = self._state(game)
        if game.game_date != record.game_date:
            # Archives disagree on the date of some late games (12-24 vs 12-25): one game, flagged.
            note = f"{self.source} dates this game {record.game_date:%Y-%m-%d}; kept {game.game_date:%Y-%m-%d}"
            if game.flag_for_review(note):
                summary.conflicts.append(f"row {record.row}: {game}: {note}")
        self._merge(game, record, flipped, summary)
        if game.pk is None:  # created earlier in this file (a repeated row): written with the others
            summary.games_unchanged += 1
        elif self._state(game) != before:
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
        self, record: GameRecord, home_id: int, away_id: int, games: dict[tuple[dt.date, int, int, int], Game]
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
        may correct it; a different score from another source is reported, not written."""
        home_score, away_score = record.home_score, record.away_score
        periods = dict(record.period_scores)
        if flipped:
            home_score, away_score = away_score, home_score
            periods = {"home": periods.get("away", []), "away": periods.get("home", [])}
        own_score = game.score_source in ("", self.source)
        if game.home_score is None or own_score:
            game.home_score, game.away_score = home_score, away_score
            game.status = Game.Status.FINAL
            game.score_source = self.source
            if periods:
                game.period_scores = periods
        elif (game.home_score, game.away_score) != (home_score, away_score):
            note = (
                f"{self.source} says final {away_score}-{home_score}; kept {game.away_score}-{game.home_score} "
                f"from {game.score_source}"
            )
            if game.flag_for_review(note):
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

    @staticmethod
    def _state(game: Game) -> tuple[Any, ...]:
        return (
            game.season,
            game.season_type,
            game.neutral_site,
            game.status,
            game.home_score,
            game.away_score,
            game.period_scores,
            game.score_source,
            game.details,
            game.home_pitcher,
            game.away_pitcher,
            game.needs_review,
            game.review_note,
        )

    def _default_start(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, self.league.default_start_time, tzinfo=self.zone)
        return local.astimezone(dt.UTC)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _same_number(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(a) == Decimal(b)


@dataclass
class BatchResult:
    """What an ``import_history`` run did, file by file."""

    summaries: list[ImportSummary] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    job_run_id: int | None = None

    def totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = {"files_imported": len(self.summaries), "files_failed": len(self.failures)}
        for summary in self.summaries:
            for key, value in summary.as_counts().items():
                if isinstance(value, dict):
                    bucket = totals.setdefault(key, {})
                    for reason, count in value.items():
                        bucket[reason] = bucket.get(reason, 0) + count
                else:
                    totals[key] = totals.get(key, 0) + value
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
    league = League.objects.filter(code=code).first()
    if league is None:
        known = ", ".join(League.objects.values_list("code", flat=True))
        raise ImportFailed(f"unknown league {code!r}; known leagues: {known}")
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
        counts = result.totals()
        counts["insane_pairs"] = insane_pair_count(since=run.started_at, league=league)  # kept, priced from by none
        counts["conflict_details"] = [f"{Path(s.path).name} {line}" for s in result.summaries for line in s.conflicts][
            :500
        ]
        run.counts = counts
        if result.failures:
            run.status = JobRun.Status.PARTIAL if result.summaries else JobRun.Status.FAILED
            run.error = "\n".join(result.failures)
    return result


# --- Live odds snapshots -----------------------------------------------------------------------


@dataclass
class OddsIngestSummary:
    events: int = 0
    games_created: int = 0
    quotes_created: int = 0
    quotes_unchanged: int = 0
    unknown_teams: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def as_counts(self) -> dict[str, Any]:
        counts = {k: v for k, v in vars(self).items() if k != "unknown_teams"}
        counts["unknown_teams"] = sorted(set(self.unknown_teams))
        return counts


def unresolved_name_record(*, league: League, source: str, name: str, example: str) -> None:
    """Keep an unknown team name visible in the admin (never guessed, never silently dropped)."""
    now = timezone.now()
    updated = UnresolvedName.objects.filter(league=league, source=source, name=name).update(
        occurrences=F("occurrences") + 1, last_seen=now, example=example[:300]
    )
    if not updated:
        UnresolvedName.objects.create(league=league, source=source, name=name, last_seen=now, example=example[:300])


def season_of(league: League, day: dt.date) -> int:
    """The season a date belongs to: NBA games from August on open the next season."""
    if league.season_spans_years:
        return day.year if day.month >= 8 else day.year - 1
    return day.year


class IngestFailed(Exception):
    """A pull that cannot be written whole; nothing from it was written."""


def _unknown_names_fail(league_unknowns: dict[League, dict[str, str]], source: str) -> None:
    """Record every unknown name (outside the pull's transaction, so they stay visible), then fail."""
    if not league_unknowns:
        return
    names = []
    for league, unknown in league_unknowns.items():
        for name, example in unknown.items():
            unresolved_name_record(league=league, source=source, name=name, example=example)
            names.append(f"{league.code} {name!r} ({example})")
    raise IngestFailed(
        f"unknown team name(s) from {source}: {', '.join(sorted(names))}; nothing from this pull was written. "
        "Add a TeamAlias (admin, Team aliases), or mark the name ignored under Unresolved names if it is "
        "not a team of the league (an exhibition opponent), then replay the pull."
    )


def _resolver(resolvers: dict[int, TeamResolver], league: League) -> TeamResolver:
    """One resolver (one alias query) per league and pull; ``setdefault(pk, TeamResolver(...))``
    would build, and query, one per event."""
    if league.pk not in resolvers:
        resolvers[league.pk] = TeamResolver(league)
    return resolvers[league.pk]


def _event_teams(
    resolver: TeamResolver,
    league: League,
    names: tuple[str, str],
    *,
    day: dt.date,
    source: str,
    where: str,
    unknown_teams: list[str],
    unknown: dict[League, dict[str, str]],
) -> tuple[int, int] | None:
    """Home and away team ids of an event, or None with every unknown name noted for the report."""
    ids = []
    for name in names:
        try:
            ids.append(resolver.resolve(name, source=source, on=day))
        except UnknownTeam:
            unknown_teams.append(name)
            unknown.setdefault(league, {})[name] = where
    return (ids[0], ids[1]) if len(ids) == 2 else None


def odds_ingest(*, records: Iterable[Any], source: str = "odds_api") -> OddsIngestSummary:
    """Write one pull of odds snapshots (``live_records.OddsRecord``) in one transaction.

    Games are found by league, teams and local date (or created, scheduled, with the exact start);
    a quote is appended only when its price or point moved since the book's last snapshot of that
    market and side, so the history holds the opening line, each move and the closing line.
    A team name no alias explains fails the whole pull (``IngestFailed``, nothing written) and is
    listed under ``UnresolvedName``; names marked ignored there skip their events."""
    summary = OddsIngestSummary()
    leagues = {league.sport_key: league for league in League.objects.all()}
    resolvers: dict[int, TeamResolver] = {}
    ignored = _ignored_names(source)
    by_event: dict[str, list[Any]] = {}
    for record in records:
        by_event.setdefault(record.event_external_id, []).append(record)
    unknown: dict[League, dict[str, str]] = {}
    plan = []
    for event_id, quotes in by_event.items():
        first = quotes[0]
        league = leagues.get(first.sport_key)
        if league is None:
            reason = f"unknown sport {first.sport_key}"
            summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
            continue
        if {first.home, first.away} & ignored.get(league.pk, set()):
            summary.skipped["event with an ignored team"] = summary.skipped.get("event with an ignored team", 0) + 1
            continue
        day = first.start_time.astimezone(zoneinfo.ZoneInfo(league.time_zone)).date()
        ids = _event_teams(
            _resolver(resolvers, league),
            league,
            (first.home, first.away),
            day=day,
            source=source,
            where=f"event {event_id} on {day}",
            unknown_teams=summary.unknown_teams,
            unknown=unknown,
        )
        if ids is not None:
            plan.append((league, ids, day, first, event_id, quotes))
    _unknown_names_fail(unknown, source)
    bookmakers = {b.key: b for b in Bookmaker.objects.all()}
    with transaction.atomic():
        games = _games_for_events(plan, summary)
        latest = _latest_snapshots([game.pk for game in games])
        new: list[QuoteRow] = []
        for game, (_, _, _, _, _, quotes) in zip(games, plan, strict=True):
            summary.events += 1
            new += _new_quotes(game, quotes, source, bookmakers, summary, latest)
        _insert_quotes(new)
    return summary


def _games_for_events(plan: list[Any], summary: OddsIngestSummary) -> list[Game]:
    """The game of each planned event, found by league, local date and teams (the lowest game
    number of a doubleheader) or created: two queries for the whole pull, not two per event."""
    found: dict[tuple[int, dt.date, int, int], Game] = {}
    if plan:
        candidates = Game.objects.filter(
            league_id__in={league.pk for league, *_ in plan},
            game_date__in={day for _, _, day, *_ in plan},
            home_team_id__in={ids[0] for _, ids, *_ in plan},
        ).order_by("-game_number")
        for game in candidates:
            found[(game.league_id, game.game_date, game.home_team_id, game.away_team_id)] = game
    missing: dict[tuple[int, dt.date, int, int], Game] = {}
    exact: list[Game] = []
    for league, ids, day, first, event_id, _ in plan:
        key = (league.pk, day, ids[0], ids[1])
        existing = found.get(key)
        if existing is None and key not in missing:
            missing[key] = Game(
                league=league,
                season=season_of(league, day),
                game_date=day,
                start_time=first.start_time,
                start_time_exact=True,
                home_team_id=ids[0],
                away_team_id=ids[1],
                status=Game.Status.SCHEDULED,
                details={"odds_api": {"event_id": event_id}},
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
    return [found[(league.pk, day, ids[0], ids[1])] for league, ids, day, *_ in plan]


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


def _ignored_names(source: str) -> dict[int, set[str]]:
    ignored: dict[int, set[str]] = {}
    for league_id, name in UnresolvedName.objects.filter(source=source, ignore=True).values_list("league_id", "name"):
        ignored.setdefault(league_id, set()).add(name)
    return ignored


def _new_quotes(
    game: Game,
    quotes: list[Any],
    source: str,
    bookmakers: dict[str, Bookmaker],
    summary: OddsIngestSummary,
    seen: dict[int, dict[tuple[int, str, str, str], tuple[dt.datetime, Decimal | None, Decimal | None]]],
) -> list[QuoteRow]:
    """The quotes of one event that moved since the book's last snapshot. ``seen`` holds each game's
    latest snapshots, including those of this pull not written yet (two events of one game)."""
    latest = seen[game.pk]
    new = []
    for quote in sorted(quotes, key=lambda q: q.captured_at):
        book = bookmakers.get(quote.bookmaker_key)
        if book is None:
            book = bookmakers[quote.bookmaker_key] = Bookmaker.objects.create(
                key=quote.bookmaker_key, title=quote.bookmaker_title
            )
        player = getattr(quote, "player", "")  # props only; game markets have none
        key = (book.pk, quote.market, quote.outcome, player)
        last = latest.get(key)
        if last is not None and (
            last[0] >= quote.captured_at or (_same_number(last[1], quote.price) and _same_number(last[2], quote.point))
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


@dataclass
class LiveIngestSummary:
    records: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unknown_teams: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    def as_counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {k: v for k, v in vars(self).items() if k not in ("unknown_teams", "flagged")}
        counts["unknown_teams"] = sorted(set(self.unknown_teams))
        counts["flagged"] = self.flagged[:100]
        return counts


def scores_ingest(*, records: Iterable[Any], source: str = "espn") -> LiveIngestSummary:
    """Write one scoreboard pull (``live_records.EventRecord``) in one transaction: schedules,
    live status and final scores. A final score that differs from another source's is flagged for
    review, not written over it. Unknown team names fail the pull (see ``odds_ingest``). Idempotent."""
    summary = LiveIngestSummary()
    leagues = {league.sport_key: league for league in League.objects.all()}
    resolvers: dict[int, TeamResolver] = {}
    ignored = _ignored_names(source)
    unknown: dict[League, dict[str, str]] = {}
    plan = []
    for record in records:
        summary.records += 1
        league = leagues.get(record.sport_key)
        if league is None or {record.home, record.away} & ignored.get(league.pk, set()):
            summary.skipped += 1
            continue
        day = record.start_time.astimezone(zoneinfo.ZoneInfo(league.time_zone)).date()
        ids = _event_teams(
            _resolver(resolvers, league),
            league,
            (record.home, record.away),
            day=day,
            source=source,
            where=f"event {record.external_id} on {day}",
            unknown_teams=summary.unknown_teams,
            unknown=unknown,
        )
        if ids is not None:
            plan.append((league, ids, day, record))
    _unknown_names_fail(unknown, source)
    with transaction.atomic():
        for league, (home_id, away_id), day, record in plan:
            _write_event(league, home_id, away_id, day, record, source, summary)
    return summary


def _write_event(
    league: League, home_id: int, away_id: int, day: dt.date, record: Any, source: str, summary: LiveIngestSummary
) -> None:
    game = (
        Game.objects.filter(league=league, game_date=day, home_team_id=home_id, away_team_id=away_id)
        .order_by("game_number")
        .first()
    )
    status = record.status if record.status in Game.Status.values else Game.Status.SCHEDULED
    if game is None:
        playing = status in ("final", "in_progress")
        Game.objects.create(
            league=league,
            season=record.season if record.season is not None else season_of(league, day),
            season_type=record.season_type,
            game_date=day,
            start_time=record.start_time,
            start_time_exact=record.start_time_exact,
            home_team_id=home_id,
            away_team_id=away_id,
            neutral_site=bool(record.neutral),
            status=status,
            home_score=record.home_score if playing else None,
            away_score=record.away_score if playing else None,
            period_scores=record.period_scores if playing else {},
            score_source=source if status == "final" else "",
            details={source: {"event_id": record.external_id}},
            home_pitcher=record.home_pitcher,
            away_pitcher=record.away_pitcher,
        )
        summary.created += 1
    elif _merge_live(game, record, status, source, summary):
        game.save()
        summary.updated += 1
    else:
        summary.unchanged += 1


def _merge_live(game: Game, record: Any, status: str, source: str, summary: LiveIngestSummary) -> bool:
    before = (
        game.status,
        game.home_score,
        game.away_score,
        game.period_scores,
        game.start_time,
        game.start_time_exact,
        game.season_type,
        game.review_note,
        game.details,
        game.home_pitcher,
        game.away_pitcher,
    )
    if not game.is_final or game.score_source in ("", source):
        if status in ("final", "in_progress"):
            game.home_score, game.away_score = record.home_score, record.away_score
            game.period_scores = record.period_scores
        game.status = status
        if status == "final":
            game.score_source = source
    elif status == "final" and (game.home_score, game.away_score) != (record.home_score, record.away_score):
        note = (
            f"{source} says final {record.away_score}-{record.home_score}; kept {game.away_score}-{game.home_score} "
            f"from {game.score_source}"
        )
        if game.flag_for_review(note):
            summary.flagged.append(f"{game}: {note}")
    if record.start_time_exact and not game.is_final:
        game.start_time, game.start_time_exact = record.start_time, True
    if record.season_type and not game.season_type:
        game.season_type = record.season_type
    if game.details.get(source, {}).get("event_id") != record.external_id:
        game.details = {**game.details, source: {**game.details.get(source, {}), "event_id": record.external_id}}
    _merge_probables(game, record, status)
    after = (
        game.status,
        game.home_score,
        game.away_score,
        game.period_scores,
        game.start_time,
        game.start_time_exact,
        game.season_type,
        game.review_note,
        game.details,
        game.home_pitcher,
        game.away_pitcher,
    )
    return before != after


def _merge_probables(game: Game, record: Any, status: str) -> None:
    """Before the first pitch the source's probable starter is the game's starter (a change replaces
    it); once the game has started a known starter (an archive's) is kept and only a blank is filled."""
    for side in ("home", "away"):
        probable = getattr(record, f"{side}_pitcher", "")
        current = getattr(game, f"{side}_pitcher")
        if not probable:
            continue
        if (status == Game.Status.SCHEDULED and pitcher_key(probable) != pitcher_key(current)) or not current:
            setattr(game, f"{side}_pitcher", probable)


def injuries_ingest(*, records: Iterable[Any], league_code: str = "NBA", source: str = "espn") -> LiveIngestSummary:
    """Write one injury report pull (``live_records.InjuryRecord``) in one transaction. A status
    is a row per (team, player, source, reported_at); the same report twice changes nothing.
    Unknown team names fail the pull (see ``odds_ingest``)."""
    summary = LiveIngestSummary()
    league = League.objects.get(code=league_code.upper())
    resolver = TeamResolver(league)
    ignored = _ignored_names(source).get(league.pk, set())
    unknown: dict[League, dict[str, str]] = {}
    plan = []
    for record in records:
        summary.records += 1
        names = [n for n in (record.team_abbreviation, record.team) if n]
        if set(names) & ignored:
            summary.skipped += 1
            continue
        team_id = None
        for name in names:
            try:
                team_id = resolver.resolve(name, source=source, on=record.reported_at.date())
                break
            except UnknownTeam:
                continue
        if team_id is None:
            name = record.team_abbreviation or record.team
            summary.unknown_teams.append(name)
            unknown.setdefault(league, {})[name] = f"injury report of {record.player_name}"
            continue
        plan.append((team_id, record))
    _unknown_names_fail(unknown, source)
    with transaction.atomic():
        for team_id, record in plan:
            values = {
                "player_external_id": record.player_external_id,
                "position": record.position[:10],
                "status": record.status,
                "status_raw": record.status_raw[:50],
                "detail": record.detail[:300],
            }
            injury, created = Injury.objects.get_or_create(
                team_id=team_id,
                player_name=record.player_name,
                source=source,
                reported_at=record.reported_at,
                defaults=values,
            )
            if created:
                summary.created += 1
            elif _apply(injury, values):
                summary.updated += 1
            else:
                summary.unchanged += 1
    return summary
