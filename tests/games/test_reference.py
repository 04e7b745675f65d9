"""Team names: every spelling in the bundled archives resolves to exactly one franchise."""

from __future__ import annotations

import datetime as dt

import pytest

from betting.games.ingest.reference import reference_sync
from betting.games.models import League, Team, TeamAlias, normalize_name
from betting.games.providers import kaggle, sbr
from betting.games.providers.tables import read_table
from betting.games.selectors import TeamResolver, UnknownTeam
from tests.conftest import KAGGLE, MLB_SBR, NBA_SBR


def test_normalize_name_ignores_case_space_and_punctuation():
    assert normalize_name("L.A. Clippers") == normalize_name("LAClippers") == "laclippers"
    assert normalize_name("Montréal") == "montreal"


@pytest.mark.django_db
def test_reference_sync_is_idempotent_and_keeps_admin_aliases(reference):
    nba = League.objects.get(code="NBA")
    lakers = Team.objects.get(league=nba, abbreviation="LAL")
    TeamAlias.objects.create(league=nba, team=lakers, name="Showtime", source="blog")
    counts = (Team.objects.count(), TeamAlias.objects.count())
    again = reference_sync()
    assert (again.teams_created, again.teams_updated, again.aliases_created, again.aliases_updated) == (0, 0, 0, 0)
    assert (Team.objects.count(), TeamAlias.objects.count()) == counts


@pytest.mark.django_db
def test_resolver_uses_dates_and_sources(nba):
    resolver = TeamResolver(nba)
    okc = Team.objects.get(league=nba, abbreviation="OKC").pk
    bkn = Team.objects.get(league=nba, abbreviation="BKN").pk
    assert resolver.resolve("Seattle", source="sbr", on=dt.date(2008, 1, 5)) == okc
    assert resolver.resolve("NewJersey", source="sbr", on=dt.date(2011, 3, 4)) == bkn
    assert resolver.resolve("Brooklyn", source="sbr", on=dt.date(2013, 1, 5)) == bkn
    assert resolver.resolve("no", source="kaggle", on=dt.date(2013, 1, 5)) == Team.objects.get(abbreviation="NOP").pk
    with pytest.raises(UnknownTeam, match="unknown NBA team name 'Seattle' on 2015-01-05"):
        resolver.resolve("Seattle", source="sbr", on=dt.date(2015, 1, 5))
    with pytest.raises(UnknownTeam, match="unknown NBA team name 'Gotham'"):
        resolver.resolve("Gotham", source="sbr", on=dt.date(2015, 1, 5))


@pytest.mark.django_db
def test_every_team_in_the_bundled_archives_resolves(reference):
    names: dict[str, set[tuple[str, str, dt.date]]] = {"NBA": set(), "MLB": set()}
    for path in sorted(NBA_SBR.iterdir()):
        season = int(path.name.split("_")[-1][:4])
        for game in sbr.parse_nba(read_table(path), season=season).games:
            names["NBA"] |= {(game.home, "sbr", game.game_date), (game.away, "sbr", game.game_date)}
    for game in kaggle.parse(read_table(KAGGLE)).games:
        names["NBA"] |= {(game.home, "kaggle", game.game_date), (game.away, "kaggle", game.game_date)}
    for path in sorted(MLB_SBR.iterdir()):
        for game in sbr.parse_mlb(read_table(path), season=int(path.stem[-4:])).games:
            names["MLB"] |= {(game.home, "sbr", game.game_date), (game.away, "sbr", game.game_date)}
    for code, seen in names.items():
        resolver = TeamResolver(League.objects.get(code=code))
        resolved = {(name, src): resolver.resolve(name, source=src, on=day) for name, src, day in seen}
        teams_used = set(resolved.values())
        assert len(teams_used) == 30, code
    by_name = {}
    nba = TeamResolver(League.objects.get(code="NBA"))
    for name in ("LALakers", "lal", "Los Angeles Lakers", "LAL"):
        source = "kaggle" if name == "lal" else "sbr"
        by_name[name] = nba.resolve(name, source=source, on=dt.date(2015, 1, 1))
    assert len(set(by_name.values())) == 1


@pytest.mark.django_db
def test_no_spelling_fits_two_teams_at_once(reference):
    for league in League.objects.all():
        aliases = list(TeamAlias.objects.filter(league=league))
        for index, a in enumerate(aliases):
            for b in aliases[index + 1 :]:
                if a.normalized != b.normalized or a.source != b.source or a.team_id == b.team_id:
                    continue
                overlap = (a.valid_to is None or b.valid_from is None or b.valid_from <= a.valid_to) and (
                    b.valid_to is None or a.valid_from is None or a.valid_from <= b.valid_to
                )
                assert not overlap, f"{a} and {b} overlap"
