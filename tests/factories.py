"""Plain builders for the few rows a unit test needs: ``game()``, ``quote(game, price="2.10")``...

Each takes keyword overrides for any field and fills the rest with sensible values. Leagues and
teams are reused when the ``reference`` fixture (or an earlier call) created them, so a test may mix
both; without it they are created on the spot, two teams and no season import.
A test that needs a whole season's history still loads it (the ``seasons`` fixture); one that needs
a game, its prices and a bet builds them here in a few milliseconds.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management import call_command

from betting.bets.models import Bankroll, Bet
from betting.bets.services import bankroll_open, bet_place
from betting.games.models import Bookmaker, Game, League, OddsQuote, Team
from betting.predictions.models import ModelVersion
from tests.conftest import NBA_SBR

START = dt.datetime(2024, 1, 10, 0, 30, tzinfo=dt.UTC)  # a Tuesday evening game in New York

# What betting/games/reference/leagues.csv says of the two leagues, for a test without the reference.
LEAGUES: dict[str, dict[str, Any]] = {
    "NBA": {
        "name": "National Basketball Association",
        "sport_key": "basketball_nba",
        "default_start_time": dt.time(19, 30),
    },
    "MLB": {
        "name": "Major League Baseball",
        "sport_key": "baseball_mlb",
        "season_spans_years": False,
        "default_start_time": dt.time(19, 5),
    },
}
_serial = itertools.count(1)


def league(code: str = "NBA", **overrides: Any) -> League:
    """The league of ``code``: the reference's row when there is one, else a new one."""
    found = League.objects.filter(code=code).first()
    if found is not None:
        return found
    defaults = LEAGUES.get(code, {"name": code, "sport_key": f"test_{code.lower()}"})
    return League.objects.create(code=code, **{**defaults, **overrides})


def team(league_: League | None = None, abbreviation: str | None = None, **overrides: Any) -> Team:
    """A team of ``league_`` (NBA by default): the existing one of that abbreviation, else a new one."""
    home_league = league_ or league()
    if abbreviation is not None:
        found = Team.objects.filter(league=home_league, abbreviation=abbreviation).first()
        if found is not None:
            return found
    abbreviation = abbreviation or f"T{next(_serial)}"
    values = {"name": f"Test {abbreviation}", "nickname": abbreviation, **overrides}
    return Team.objects.create(league=home_league, abbreviation=abbreviation, **values)


def _two_teams(of: League) -> tuple[Team, Team]:
    known = list(Team.objects.filter(league=of).order_by("abbreviation")[:2])
    while len(known) < 2:
        known.append(team(of))
    return known[0], known[1]


def game(
    league_: League | None = None,
    *,
    home: Team | str | None = None,
    away: Team | str | None = None,
    start: dt.datetime = START,
    **overrides: Any,
) -> Game:
    """A scheduled game at ``start`` (UTC). ``home``/``away`` as teams or abbreviations; by default
    the league's first two teams."""
    of = league_ or (home.league if isinstance(home, Team) else league())
    first, second = _two_teams(of) if home is None or away is None else (None, None)
    home_team = team(of, home) if isinstance(home, str) else home or first
    away_team = team(of, away) if isinstance(away, str) else away or second
    local = start.astimezone(ZoneInfo(of.time_zone)).date()  # the league's date, as the importers write it
    values: dict[str, Any] = {
        "season": local.year - 1 if of.season_spans_years and local.month < 8 else local.year,
        "game_date": local,
        "start_time": start,
        "home_team": home_team,
        "away_team": away_team,
        **overrides,
    }
    return Game.objects.create(league=of, **values)


def bookmaker(key: str = "pinnacle", title: str | None = None) -> Bookmaker:
    book, _ = Bookmaker.objects.get_or_create(key=key, defaults={"title": title or key.title()})
    return book


def quote(
    game_: Game | None = None,
    *,
    book: Bookmaker | str = "pinnacle",
    market: str = "h2h",
    outcome: str = "home",
    price: Decimal | str = "1.91",
    point: Decimal | str | None = None,
    **overrides: Any,
) -> OddsQuote:
    """One price of ``game_``, seen an hour before the start unless ``captured_at`` says otherwise."""
    of = game_ or game()
    values: dict[str, Any] = {
        "captured_at": of.start_time - dt.timedelta(hours=1),
        "source": "test",
        **overrides,
    }
    return OddsQuote.objects.create(
        game=of,
        bookmaker=bookmaker(book) if isinstance(book, str) else book,
        market=market,
        outcome=outcome,
        price=Decimal(price),
        point=None if point is None else Decimal(point),
        **values,
    )


def model_version(league_: League | None = None, *, market: str = "h2h", **overrides: Any) -> ModelVersion:
    """A registry row without a booster file (``artifact`` names one that is not there): enough for
    the pages, the staleness guard and the blend, not for ``predict``."""
    of = league_ or league()
    values: dict[str, Any] = {
        "version": f"20240109_{next(_serial):06d}",
        "kind": ModelVersion.Kind.FULL,
        "status": ModelVersion.Status.CANDIDATE,
        "feature_set_version": "1",
        "features": [],
        "feature_hash": "x",
        "params": {},
        "trained_until": START - dt.timedelta(days=1),
        "n_train": 100,
        "artifact": f"{of.code.lower()}/{market}.ubj",
        **overrides,
    }
    return ModelVersion.objects.create(league=of, market=market, **values)


def bankroll(name: str = "paper", deposit: Decimal | str = "1000", **overrides: Any) -> Bankroll:
    """A bankroll with its opening deposit, through ``bankroll_open`` (the ledger is what the code reads)."""
    return bankroll_open(name=name, deposit=Decimal(deposit), **overrides)


def bet(
    bankroll_: Bankroll | None = None,
    game_: Game | None = None,
    *,
    book: Bookmaker | str = "pinnacle",
    price: Decimal | str = "2.00",
    stake: Decimal | str = "10.00",
    probability: float = 0.55,
    **overrides: Any,
) -> Bet:
    """A bet placed through ``bet_place`` (stake debited, checks applied); ``bet_place``'s other
    keywords (``market``, ``outcome``, ``manual``, ``decision_run``...) pass through."""
    values: dict[str, Any] = {"market": "h2h", "outcome": "home", "decision_run": "test", **overrides}
    placed, _ = bet_place(
        bankroll=bankroll_ or bankroll(),
        game=game_ or game(),
        bookmaker=bookmaker(book) if isinstance(book, str) else book,
        price=Decimal(price),
        stake=Decimal(stake),
        probability=probability,
        **values,
    )
    return placed


NBA_ODDS_RECORDED = Path(__file__).resolve().parent / "fixtures" / "nba_odds_2023-12-11_us_h2h_spreads_decimal.json"


def nba_season_2014_15(settings: Any, **limits: Any) -> League:
    """The real 2014-15 NBA season (SBR archive) imported, for a backtest to replay; RISK_LIMITS take
    every edge and probability (``min_edge`` and ``min_probability`` 0) and ``limits`` on top.
    ``settings`` is pytest-django's fixture; needs the reference teams. Returns the NBA league."""
    season = NBA_SBR / "nba_odds_2014-15.csv"
    call_command(
        "import_history", "--league", "NBA", "--format", "sbr", str(season), "--no-progress", stdout=StringIO()
    )
    settings.RISK_LIMITS = {**settings.RISK_LIMITS, "min_edge": 0.0, "min_probability": 0.0, **limits}
    return League.objects.get(code="NBA")


def recorded_nba_odds() -> None:
    """The recorded Odds API pull of 2023-12-11 (18 NBA games, 840 quotes from 15 US books) through
    ``fetch_odds --from-file``, as a user would load it; needs the reference teams."""
    call_command("fetch_odds", "--league", "NBA", "--from-file", str(NBA_ODDS_RECORDED), stdout=StringIO())


class FakeClock:
    """A clock a test moves by hand (the HTTP layer's bucket and breaker take ``clock`` and ``sleep``):
    ``clock()`` is the time; ``clock.sleep(seconds)`` records the sleep and moves the time on."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def command_output(*args: str, stderr: bool = True) -> str:
    """What ``manage.py <args>`` printed: its standard output and, unless ``stderr=False``, its errors."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=out if stderr else None)
    return out.getvalue()
