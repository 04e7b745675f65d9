"""Leagues, teams and every spelling of their names, games, odds snapshots and injuries."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from django.db import models
from django.db.models import F, Q


def normalize_name(name: str) -> str:
    """The form aliases are matched on: lowercase ASCII letters and digits only.

    ``LA Clippers``, ``LAClippers`` and ``L.A. Clippers`` all become ``laclippers``.
    """
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", ascii_only.lower())


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class League(TimeStamped):
    code = models.CharField(max_length=10, unique=True, help_text="Short code, e.g. NBA, MLB.")
    name = models.CharField(max_length=100)
    sport_key = models.CharField(max_length=50, unique=True, help_text="The Odds API sport key, e.g. basketball_nba.")
    time_zone = models.CharField(
        max_length=50, default="America/New_York", help_text="Zone the league's dates are written in."
    )
    default_start_time = models.TimeField(
        default=dt.time(19, 0),
        help_text="Local start time assumed when a source gives only a date (flagged as inexact).",
    )
    season_spans_years = models.BooleanField(
        default=True, help_text="True when a season runs across New Year (NBA 2017-18); False for MLB."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def season_label(self, season: int) -> str:
        """``2017`` -> ``2017-18`` for leagues whose season spans two years, else ``2017``."""
        if self.season_spans_years:
            return f"{season}-{(season + 1) % 100:02d}"
        return str(season)


class Team(TimeStamped):
    league = models.ForeignKey(League, on_delete=models.PROTECT, related_name="teams")
    abbreviation = models.CharField(max_length=10, help_text="Current standard abbreviation.")
    name = models.CharField(max_length=100, help_text="Current full name.")
    city = models.CharField(max_length=100, blank=True)
    nickname = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=50, blank=True, help_text="The league's own team id.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["league__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["league", "abbreviation"], name="team_unique_abbreviation"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamAlias(TimeStamped):
    """A spelling some source uses for a team, optionally only for a span of dates.

    Franchise moves are aliases with dates: ``Seattle`` means the franchise now in Oklahoma
    City until July 2008. ``source`` empty means the spelling is safe for any source.
    """

    league = models.ForeignKey(League, on_delete=models.PROTECT, related_name="aliases")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=100, help_text="Exactly as the source writes it.")
    normalized = models.CharField(max_length=100, db_index=True, editable=False)
    source = models.CharField(max_length=30, blank=True, help_text="Empty: any source.")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["league__code", "team__name", "name"]
        verbose_name_plural = "team aliases"
        constraints = [
            models.UniqueConstraint(fields=["league", "normalized", "source", "team"], name="alias_unique_spelling"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")),
                name="alias_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} -> {self.team.abbreviation}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.normalized = normalize_name(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Game(TimeStamped):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        FINAL = "final", "Final"
        POSTPONED = "postponed", "Postponed"
        CANCELLED = "cancelled", "Cancelled"

    class SeasonType(models.TextChoices):
        UNKNOWN = "", "Unknown"
        PRESEASON = "pre", "Preseason"
        REGULAR = "regular", "Regular season"
        POSTSEASON = "post", "Postseason"

    league = models.ForeignKey(League, on_delete=models.PROTECT, related_name="games")
    season = models.PositiveSmallIntegerField(help_text="Year the season starts (2017 for 2017-18).")
    season_type = models.CharField(max_length=10, choices=SeasonType.choices, blank=True, default="")
    game_date = models.DateField(help_text="Local date in the league's time zone.")
    start_time = models.DateTimeField(help_text="Start time, UTC.")
    start_time_exact = models.BooleanField(
        default=True, help_text="False when the source gave only a date and the league's default time is used."
    )
    game_number = models.PositiveSmallIntegerField(default=1, help_text="2 for the second game of a doubleheader.")
    home_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="home_games")
    away_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="away_games")
    neutral_site = models.BooleanField(default=False, help_text="No home advantage: 'home' is nominal.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    home_score = models.PositiveSmallIntegerField(null=True, blank=True)
    away_score = models.PositiveSmallIntegerField(null=True, blank=True)
    period_scores = models.JSONField(
        default=dict, blank=True, help_text='Points per period: {"home": [..], "away": [..]}; null = not played.'
    )
    score_source = models.CharField(max_length=30, blank=True, help_text="Source of the final score.")
    details = models.JSONField(default=dict, blank=True, help_text="Source extras: rotation numbers, pitchers.")
    # MLB starters, as the source writes them (SBR ``JLESTER-L``, ESPN ``Jon Lester``): the archive's
    # actual starter for played games, ESPN's probable starter for scheduled ones. Blank: unknown.
    home_pitcher = models.CharField(max_length=60, blank=True, help_text="Home starting pitcher (MLB).")
    away_pitcher = models.CharField(max_length=60, blank=True, help_text="Away starting pitcher (MLB).")
    needs_review = models.BooleanField(
        default=False, help_text="Two sources disagree about this game; see the review note."
    )
    review_note = models.TextField(blank=True, help_text="What the sources disagree about.")

    class Meta:
        ordering = ["-start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["league", "game_date", "home_team", "away_team", "game_number"],
                name="game_natural_key",
            ),
            models.CheckConstraint(condition=~Q(home_team=F("away_team")), name="game_distinct_teams"),
            models.CheckConstraint(
                condition=Q(status="final", home_score__isnull=False, away_score__isnull=False) | ~Q(status="final"),
                name="game_final_has_scores",
            ),
        ]
        indexes = [
            models.Index(fields=["league", "start_time"], name="game_league_start"),
            models.Index(fields=["game_date"], name="game_date"),
            models.Index(fields=["league", "season"], name="game_league_season"),
            models.Index(fields=["status", "start_time"], name="game_status_start"),
        ]

    def __str__(self) -> str:
        sep = "vs" if self.neutral_site else "@"
        return f"{self.away_team.abbreviation} {sep} {self.home_team.abbreviation} {self.game_date:%Y-%m-%d}"

    def flag_for_review(self, note: str) -> bool:
        """Record a disagreement once; returns whether anything changed."""
        if note in self.review_note.splitlines():
            return False
        self.review_note = f"{self.review_note}\n{note}".strip()
        self.needs_review = True
        return True

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    @property
    def margin(self) -> int | None:
        """Home points minus away points, once final."""
        if self.home_score is None or self.away_score is None:
            return None
        return self.home_score - self.away_score


class Bookmaker(TimeStamped):
    key = models.CharField(max_length=50, unique=True, help_text="The Odds API key, e.g. draftkings.")
    title = models.CharField(max_length=100)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class OddsQuote(models.Model):
    """One price (and line) seen at one moment. Appended, never overwritten: the rows of a
    book/market/outcome ordered by ``captured_at`` are the line's history, opening to closing."""

    class Market(models.TextChoices):
        H2H = "h2h", "Moneyline (h2h)"
        SPREADS = "spreads", "Spread"
        TOTALS = "totals", "Total"

    class PropMarket(models.TextChoices):
        """Player props (The Odds API per-event markets): over/under on one player's line."""

        PLAYER_POINTS = "player_points", "Player points"
        PLAYER_REBOUNDS = "player_rebounds", "Player rebounds"
        PLAYER_ASSISTS = "player_assists", "Player assists"
        PLAYER_THREES = "player_threes", "Player threes"
        PLAYER_BLOCKS = "player_blocks", "Player blocks"
        PLAYER_STEALS = "player_steals", "Player steals"
        PLAYER_POINTS_REBOUNDS_ASSISTS = "player_points_rebounds_assists", "Player points + rebounds + assists"

    class Outcome(models.TextChoices):
        HOME = "home", "Home"
        AWAY = "away", "Away"
        DRAW = "draw", "Draw"
        OVER = "over", "Over"
        UNDER = "under", "Under"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="quotes")
    bookmaker = models.ForeignKey(Bookmaker, on_delete=models.PROTECT, related_name="quotes")
    market = models.CharField(max_length=40, choices=Market.choices + PropMarket.choices)
    outcome = models.CharField(max_length=5, choices=Outcome.choices)
    player = models.CharField(
        max_length=100, blank=True, default="", help_text="The player of a prop market (over/under); empty otherwise."
    )
    price = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Decimal odds. Empty when the source recorded the line without its price.",
    )
    point = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Spread for this side, or the total."
    )
    captured_at = models.DateTimeField(help_text="When the price was seen (UTC).")
    source = models.CharField(max_length=30, help_text="Where the quote came from: odds_api, sbr, kaggle.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "market", "bookmaker", "outcome", "captured_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["game", "bookmaker", "market", "player", "outcome", "captured_at"], name="quote_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=Decimal("1")), name="quote_price_above_one"
            ),
        ]
        indexes = [
            models.Index(fields=["game", "market", "captured_at"], name="quote_game_market_time"),
            models.Index(fields=["captured_at"], name="quote_captured"),
        ]

    def __str__(self) -> str:
        point = f" {self.point:+}" if self.point is not None else ""
        return f"{self.bookmaker.key} {self.market} {self.outcome}{point} @ {self.price}"


class Injury(TimeStamped):
    class Status(models.TextChoices):
        OUT = "out", "Out"
        DOUBTFUL = "doubtful", "Doubtful"
        QUESTIONABLE = "questionable", "Questionable"
        PROBABLE = "probable", "Probable"
        DAY_TO_DAY = "day_to_day", "Day-to-day"
        OTHER = "other", "Other"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="injuries")
    player_name = models.CharField(max_length=100)
    player_external_id = models.CharField(max_length=50, blank=True)
    position = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=15, choices=Status.choices)
    status_raw = models.CharField(max_length=50, blank=True, help_text="Status exactly as the source wrote it.")
    detail = models.CharField(max_length=300, blank=True)
    reported_at = models.DateTimeField(help_text="When the source published this status (UTC).")
    source = models.CharField(max_length=30)

    class Meta:
        ordering = ["-reported_at", "player_name"]
        verbose_name_plural = "injuries"
        constraints = [
            models.UniqueConstraint(fields=["team", "player_name", "source", "reported_at"], name="injury_natural_key"),
        ]
        indexes = [models.Index(fields=["team", "-reported_at"], name="injury_team_recent")]

    def __str__(self) -> str:
        return f"{self.player_name} ({self.team.abbreviation}) {self.get_status_display()}"


class UnresolvedName(TimeStamped):
    """A team name a source used that no alias explains. Shown in the admin until an alias is
    added; the data that carried it was not written."""

    league = models.ForeignKey(League, on_delete=models.CASCADE, related_name="unresolved_names")
    source = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    occurrences = models.PositiveIntegerField(default=1)
    last_seen = models.DateTimeField()
    example = models.CharField(max_length=300, blank=True, help_text="Where it was seen last.")
    ignore = models.BooleanField(
        default=False, help_text="Not a team of this league (an exhibition opponent): skip its games in pulls."
    )

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["league", "source", "name"], name="unresolved_unique")]

    def __str__(self) -> str:
        return f"{self.source}: {self.name!r} ({self.league.code})"


class BackfillDay(TimeStamped):
    """One finished (or failed) unit of a backfill: a league's scores or odds for one day. A re-run
    skips the days marked done and tries the failed ones again (``betting/games/backfill.py``)."""

    class What(models.TextChoices):
        SCORES = "scores", "Scores and schedule"
        ODDS = "odds", "Odds (historical snapshots)"

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    league = models.ForeignKey(League, on_delete=models.CASCADE, related_name="backfill_days")
    what = models.CharField(max_length=10, choices=What.choices)
    day = models.DateField(help_text="The league's local date.")
    status = models.CharField(max_length=10, choices=Status.choices)
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True, help_text="Why the last attempt failed; empty once done.")
    credits = models.PositiveIntegerField(default=0, help_text="Odds API credits spent on this day, all attempts.")
    counts = models.JSONField(default=dict, blank=True, help_text="What the last attempt wrote.")

    class Meta:
        ordering = ["league", "what", "-day"]
        constraints = [models.UniqueConstraint(fields=["league", "what", "day"], name="backfill_day_unique")]

    def __str__(self) -> str:
        return f"{self.league.code} {self.what} {self.day}: {self.status}"
