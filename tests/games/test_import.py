"""import_history against the database: real archives in, games and quotes out, idempotent."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from betting.games.models import Game, OddsQuote, Team
from core.models import JobRun
from tests.conftest import KAGGLE, MLB_SBR, NBA_SBR, corrupt_csv


def run(*args: str) -> None:
    call_command("import_history", *args, "--no-progress")


def snapshot() -> tuple[object, int]:
    games = list(Game.objects.order_by("pk").values_list("pk", "updated_at", "home_score", "away_score", "review_note"))
    quotes = OddsQuote.objects.count()
    return games, quotes


def kaggle_subset(tmp_path: Path, season_end: str) -> Path:
    """The real Kaggle rows of one season, so tests need not import eleven."""
    target = tmp_path / "kaggle.csv"
    with open(KAGGLE, newline="") as src, open(target, "w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(r for r in reader if r["season"] == season_end)
    return target


@pytest.mark.django_db(transaction=True)
def test_season_import_creates_games_with_scores_and_lines(reference):
    run("--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2007-08.csv"))
    assert Game.objects.count() == 1314
    game = Game.objects.get(game_date=dt.date(2007, 10, 30), home_team__abbreviation="SAS")
    assert (game.away_team.abbreviation, game.away_score, game.home_score) == ("POR", 97, 106)
    assert game.status == Game.Status.FINAL and game.season == 2007 and not game.start_time_exact
    closing = {
        (q.market, q.outcome): (q.point, q.price)
        for q in game.quotes.all()
        if q.captured_at == game.start_time - dt.timedelta(minutes=5)
    }
    assert closing[("spreads", "home")] == (Decimal("-13.00"), None)
    assert closing[("totals", "over")] == (Decimal("189.50"), None)
    assert closing[("h2h", "away")] == (None, Decimal("10.0000"))
    opening = game.quotes.filter(captured_at=game.start_time - dt.timedelta(days=1), market="spreads", outcome="home")
    assert opening.get().point == Decimal("-12.50")
    job = JobRun.objects.get(job="import_history")
    assert job.status == JobRun.Status.SUCCESS and job.counts["games_created"] == 1314


@pytest.mark.django_db(transaction=True)
def test_second_import_changes_nothing(reference):
    path = str(NBA_SBR / "nba_odds_2010-11.csv")
    run("--league", "NBA", "--format", "sbr", path)
    before = snapshot()
    run("--league", "NBA", "--format", "sbr", path)
    assert snapshot() == before
    assert JobRun.objects.filter(job="import_history").first().counts["games_unchanged"] == 1311


@pytest.mark.django_db(transaction=True)
def test_franchise_moves_resolve_to_the_franchise(reference):
    run(
        "--league",
        "NBA",
        "--format",
        "sbr",
        str(NBA_SBR / "nba_odds_2007-08.csv"),
        str(NBA_SBR / "nba_odds_2011-12.csv"),
    )
    okc = Team.objects.get(abbreviation="OKC")
    bkn = Team.objects.get(abbreviation="BKN")
    seattle_games = Game.objects.filter(season=2007).filter(home_team=okc).count()
    # The SuperSonics' last season (41 home rows; one, 2007-12-02, is a shifted row and skipped)
    assert seattle_games == 40
    assert Game.objects.filter(season=2011, home_team=bkn).count() == 33  # New Jersey, lockout season
    assert Team.objects.filter(league__code="NBA").count() == 30


@pytest.mark.django_db(transaction=True)
def test_neutral_site_games_are_flagged(reference):
    run("--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2010-11.csv"))
    neutral = Game.objects.filter(neutral_site=True)
    assert neutral.count() == 2
    assert {g.home_team.abbreviation for g in neutral} == {"BKN"}


@pytest.mark.django_db(transaction=True)
def test_kaggle_merges_into_sbr_games_and_flags_disagreements(reference, tmp_path):
    run("--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2007-08.csv"))
    sbr_games = Game.objects.count()
    run("--league", "NBA", "--format", "kaggle", str(kaggle_subset(tmp_path, "2008")))
    # Kaggle has 1316 games in 2007-08; the SBR sheet skipped 2 shifted rows that Kaggle fills in.
    assert sbr_games == 1314 and Game.objects.count() == 1316
    assert Game.objects.filter(season_type="regular").count() > 1200
    # SBR dates three Christmas games 12-24; Kaggle 12-25: one game each, flagged, not duplicated.
    flagged = Game.objects.filter(needs_review=True)
    assert flagged.count() == 3
    assert all("kaggle dates this game 2007-12-25" in g.review_note for g in flagged)
    before = snapshot()
    run("--league", "NBA", "--format", "kaggle", str(kaggle_subset(tmp_path, "2008")))
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_mlb_archive_imports_doubleheaders_and_both_dodgers_codes(reference):
    run("--league", "MLB", "--format", "sbr", str(MLB_SBR / "sbr_mlb_odds_2017.csv"))
    assert Game.objects.filter(league__code="MLB").count() == 2466
    assert Game.objects.filter(game_number=2).count() == 29
    dodgers = Team.objects.get(league__code="MLB", abbreviation="LAD")
    assert Game.objects.filter(home_team=dodgers).count() > 81
    game_six = Game.objects.get(game_date=dt.date(2017, 10, 31))  # the file's last game, World Series game 6
    assert (game_six.away_team.abbreviation, game_six.home_team.abbreviation) == ("HOU", "LAD")
    assert (game_six.away_score, game_six.home_score) == (1, 3)
    assert (game_six.away_pitcher, game_six.home_pitcher) == ("JVERLANDER-R", "RHILL-L")


@pytest.mark.django_db(transaction=True)
def test_archive_starters_replace_probables_and_a_second_import_changes_nothing(reference, tmp_path):
    # The real file's last two games (World Series games 5 and 6); game 6 first known from ESPN's probables.
    source = (MLB_SBR / "sbr_mlb_odds_2017.csv").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "sbr_mlb_odds_2017.csv"
    path.write_text("\n".join([source[0], *source[-4:]]) + "\n")
    run("--league", "MLB", "--format", "sbr", str(path))
    game_six = Game.objects.get(game_date=dt.date(2017, 10, 31))
    game_six.home_pitcher, game_six.away_pitcher = "Rich Hill", ""
    game_six.score_source = "espn"
    game_six.save()
    run("--league", "MLB", "--format", "sbr", str(path))
    game_six.refresh_from_db()
    assert (game_six.away_pitcher, game_six.home_pitcher) == ("JVERLANDER-R", "RHILL-L")
    before = list(Game.objects.order_by("pk").values_list("pk", "updated_at", "home_pitcher", "away_pitcher"))
    run("--league", "MLB", "--format", "sbr", str(path))
    after = list(Game.objects.order_by("pk").values_list("pk", "updated_at", "home_pitcher", "away_pitcher"))
    assert after == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Team", "Gotham", "row 1001, column 'Team': unknown NBA team name 'Gotham'"),
        ("Final", "9x", "row 1001, column 'Final': expected a whole number of points (value '9x')"),
    ],
)
def test_a_corrupt_file_fails_clearly_and_writes_nothing(reference, season_csv, column, value, expected):
    good = str(NBA_SBR / "nba_odds_2016-17.csv")
    run("--league", "NBA", "--format", "sbr", good)
    before = snapshot()
    bad = season_csv()
    corrupt_csv(bad, 999, column, value)  # file row 1001
    with pytest.raises(CommandError) as caught:
        run("--league", "NBA", "--format", "sbr", str(bad))
    assert str(bad) in str(caught.value) and expected in str(caught.value)
    assert snapshot() == before
    job = JobRun.objects.filter(job="import_history").first()
    assert job.status == JobRun.Status.FAILED and expected in job.error


@pytest.mark.django_db(transaction=True)
def test_a_bad_file_among_good_ones_fails_alone(reference, season_csv, tmp_path):
    bad = tmp_path / "nba_odds_2009-10.csv"
    bad.write_text("Date,Rot,VH,Team\n1027,501,V,Cleveland\n")
    with pytest.raises(CommandError, match="missing column"):
        run("--league", "NBA", "--format", "sbr", str(bad), str(NBA_SBR / "nba_odds_2011-12.csv"))
    assert Game.objects.count() == 1074
    assert JobRun.objects.get(job="import_history").status == JobRun.Status.PARTIAL


@pytest.mark.django_db
def test_unknown_league_and_missing_season_are_clear_errors(reference, tmp_path):
    with pytest.raises(CommandError, match="unknown league 'NHL'; known leagues: MLB, NBA"):
        run("--league", "NHL", "--format", "sbr", str(NBA_SBR / "nba_odds_2011-12.csv"))
    nameless = tmp_path / "odds.csv"
    nameless.write_text((NBA_SBR / "nba_odds_2011-12.csv").read_text())
    with pytest.raises(CommandError, match="cannot tell the season from the file name; pass --season"):
        run("--league", "NBA", "--format", "sbr", str(nameless))
    run("--league", "NBA", "--format", "sbr", "--season", "2011", str(nameless))
    assert Game.objects.filter(season=2011).count() == 1074


def test_season_from_filename():
    from betting.games.ingest.archive import season_from_filename

    assert season_from_filename("nba_odds_2019-20.xlsx") == 2019
    assert season_from_filename("/x/sbr_mlb_odds_2018.csv") == 2018
    assert season_from_filename("odds.csv") is None
