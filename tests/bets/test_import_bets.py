"""Bet import (betting/bets/imports.py): real recorded odds of 2023-12-11 behind the games, a CSV in
the generic layout, all or nothing, duplicates refused, settled with CLV like paper bets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from betting.bets import imports
from betting.bets.imports import import_bets, parse_price
from betting.bets.models import Bankroll, BankrollEntry, Bet
from betting.bets.services import bankroll_open
from betting.games.models import Game, OddsQuote
from tests.factories import recorded_nba_odds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = dt.date(2023, 12, 11)
HEADER = ["placed_at", "book", "league", "home", "away", "market", "side", "point", "price", "stake", "status"]


@pytest.fixture
def games(reference):
    recorded_nba_odds()
    found = [
        game
        for game in Game.objects.filter(game_date=DAY).select_related("home_team", "away_team").order_by("start_time")
        # games with quotes before their start: a close to measure CLV against
        if OddsQuote.objects.filter(game=game, market="h2h", captured_at__lt=game.start_time).exists()
    ]
    assert len(found) >= 3
    return found


@pytest.fixture
def bettor(django_user_model, settings):
    settings.ENABLE_LIVE_BETTING = True
    user = django_user_model.objects.create_user("ana", password="pw-ana-123")
    bankroll = bankroll_open(name="my books", deposit=Decimal("1000"), mode=Bankroll.Mode.LIVE, owner=user)
    return user, bankroll


def _csv(rows: list[dict[str, str]], header: list[str] = HEADER) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def _row(game: Game, **over: str) -> dict[str, str]:
    row = {
        "placed_at": over.get("placed_at") or _before_the_pull(game),
        "book": "DraftKings",
        "league": "NBA",
        "home": game.home_team.name,
        "away": game.away_team.name,
        "market": "moneyline",
        "side": "home",
        "point": "",
        "price": "-110",
        "stake": "50",
        "status": "",
    }
    row.update(over)
    return row


def test_prices_american_and_decimal():
    assert parse_price("-110") == Decimal("1.9091")
    assert parse_price("+150") == Decimal("2.5000") == parse_price("150")
    assert parse_price("1.91") == Decimal("1.9100")
    for bad in ("-50", "0.9", "abc", "1"):
        with pytest.raises(ValueError):
            parse_price(bad)


@pytest.mark.django_db
def test_generic_layout_imports_matches_and_settles_with_clv(games, bettor):
    user, bankroll = bettor
    first, second, third = games[:3]
    rows = [
        _row(first, side=first.home_team.name, price="-110"),  # a team name as the side
        _row(second, market="spread", side="away", point=str(_point(second, "away")), price="1.95", stake="20"),
        _row(third, market="total", side="over", point=str(_point(third, "over")), price="+100", status="won"),
    ]
    Game.objects.filter(pk=first.pk).update(status="final", home_score=110, away_score=100)
    result = import_bets(_csv(rows), user=user, bankroll=bankroll)
    assert result.ok, result.unmatched
    assert (result.created, len(result.duplicates), result.settled) == (3, 0, 1)
    bets = {b.game_id: b for b in Bet.objects.filter(bankroll=bankroll)}
    assert set(bets) == {first.pk, second.pk, third.pk}
    assert bets[second.pk].market == "spreads" and bets[second.pk].outcome == "away"
    assert bets[third.pk].reported_result == "win" and bets[third.pk].status == "open"
    settled = bets[first.pk]
    assert settled.source == "import" and settled.result == "win"
    assert settled.price == Decimal("1.9091") and settled.payout == (Decimal("50") * settled.price).quantize(
        Decimal("0.01")
    )
    # CLV against the de-vigged close of the recorded quotes, as for paper bets
    assert settled.closing_price is not None and settled.clv is not None
    assert float(settled.clv) == pytest.approx(float(settled.price / settled.closing_price - 1), abs=5e-5)
    assert bankroll.balance() == Decimal("1000") - Decimal("120") + settled.payout


def _before_the_pull(game: Game) -> str:
    """Two hours before the recorded pull: the quotes seen after the bet are its close
    (services.closing_probability)."""
    seen = OddsQuote.objects.filter(game=game).order_by("captured_at").values_list("captured_at", flat=True).first()
    assert seen is not None
    placed: dt.datetime = seen - dt.timedelta(hours=2)
    return placed.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _point(game: Game, outcome: str) -> Decimal:
    market = "totals" if outcome in ("over", "under") else "spreads"
    quote = OddsQuote.objects.filter(game=game, market=market, outcome=outcome, point__isnull=False).first()
    if quote is None or quote.point is None:  # the payload has spreads only: a total line no close needs
        return Decimal("220.5")
    return quote.point


@pytest.mark.django_db
def test_a_second_import_of_the_same_file_is_refused_as_duplicates(games, bettor):
    user, bankroll = bettor
    rows = [_row(games[0]), _row(games[1], side="away", price="2.10")]
    assert import_bets(_csv(rows), user=user, bankroll=bankroll).created == 2
    again = import_bets(_csv([*rows, _row(games[2])]), user=user, bankroll=bankroll)
    assert again.ok and again.created == 1 and [d.line for d in again.duplicates] == [2, 3]
    assert Bet.objects.filter(bankroll=bankroll).count() == 3
    # the natural key is a constraint, not only a check in the code
    bet = Bet.objects.filter(bankroll=bankroll).first()
    bet.pk = None
    bet.decision_run = "another-run"
    with pytest.raises(IntegrityError), transaction.atomic():
        bet.save()


@pytest.mark.django_db
def test_a_half_bad_file_imports_nothing_and_lists_every_bad_row(games, bettor):
    user, bankroll = bettor
    rows = [
        _row(games[0]),
        _row(games[1], home="Springfield Isotopes"),  # line 3: unknown team
        _row(games[2], price="-50"),  # line 4: impossible odds
        _row(games[0], placed_at="2023-10-01T12:00:00+00:00"),  # line 5: no game within the window
        _row(games[1], home=games[1].away_team.name, away=games[1].home_team.name),  # line 6: swapped
        _row(games[2], market="total", side="home", point="220.5"),  # line 7: a team on a total
    ]
    result = import_bets(_csv(rows), user=user, bankroll=bankroll)
    assert not result.ok and result.created == 0
    assert [p.line for p in result.unmatched] == [3, 4, 5, 6, 7]
    reasons = " | ".join(p.reason for p in result.unmatched)
    assert "Springfield Isotopes" in reasons and "swap home and away" in reasons and "impossible" in reasons
    assert not Bet.objects.filter(bankroll=bankroll).exists()
    assert BankrollEntry.objects.filter(bankroll=bankroll).count() == 1  # the opening deposit only


@pytest.mark.django_db
def test_missing_columns_and_someone_elses_bankroll_import_nothing(games, bettor, django_user_model):
    user, bankroll = bettor
    result = import_bets(_csv([{"home": "x"}], header=["home"]), user=user, bankroll=bankroll)
    assert not result.ok and "no placed_at" in result.errors[0]
    other = django_user_model.objects.create_user("bob", password="pw-bob-123")
    result = import_bets(_csv([_row(games[0])]), user=other, bankroll=bankroll)
    assert not result.ok and "may not" in result.errors[0]
    assert not Bet.objects.exists()


@pytest.mark.django_db
def test_command_imports_and_fails_loudly_on_bad_rows(games, bettor, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([_row(games[0])]).getvalue())
    out = io.StringIO()
    call_command("import_bets", "--user", "ana", "--bankroll", "my books", str(good), "--no-progress", stdout=out)
    assert "1 bets imported" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(games[1]), _row(games[2], league="XFL")]).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_bets", "--user", "ana", "--bankroll", "my books", str(bad), stderr=err)
    assert "line 3" in err.getvalue() and Bet.objects.count() == 1


@pytest.mark.django_db
def test_upload_page_imports_for_the_signed_in_user(games, bettor, client):
    user, bankroll = bettor
    client.force_login(user)
    assert client.get("/bets/import").status_code == 200
    upload = _csv([_row(games[0]), _row(games[1])])
    upload.name = "history.csv"
    response = client.post("/bets/import", {"bankroll": str(bankroll.pk), "layout": "generic", "file": upload})
    assert response.status_code == 200 and b"2 bets imported" in response.content
    bad = _csv([_row(games[2], home="Nowhere")])
    bad.name = "bad.csv"
    response = client.post("/bets/import", {"bankroll": str(bankroll.pk), "layout": "generic", "file": bad})
    assert (
        response.status_code == 400 and b"Nowhere" in response.content and b"Nothing was imported" in response.content
    )
    assert Bet.objects.count() == 2


@pytest.mark.django_db
def test_ten_thousand_rows_import_in_under_ten_seconds(games, bettor):
    user, bankroll = bettor
    rows = [
        _row(
            games[i % len(games)],
            stake=str(10 + i % 50),
            placed_at=f"2023-12-{3 + i % 8:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
        )
        for i in range(10_000)
    ]
    seen: list[tuple[int, int]] = []
    started = time.perf_counter()
    result = import_bets(_csv(rows), user=user, bankroll=bankroll, progress=lambda d, t, n: seen.append((d, t)))
    took = time.perf_counter() - started
    assert result.ok, result.unmatched[:3]
    assert result.created + len(result.duplicates) == 10_000
    assert result.settle_later == result.created  # a long history goes to the settlement task
    assert result.settle_queued  # queued for when the import commits (never, inside this test's transaction)
    assert seen and seen[-1][0] == seen[-1][1]  # the progress bar reaches its end
    print(f"10,000 rows: {took:.2f}s, {result.created} created, {result.settled} settled")  # noqa: T201
    assert took < 10, f"10,000 rows took {took:.1f}s"


@pytest.mark.django_db
def test_a_bet_id_column_refuses_duplicates_by_the_id_and_keeps_two_equal_bets(games, bettor):
    user, bankroll = bettor
    header = [*HEADER, "bet_id"]
    same = _row(games[0], placed_at=_before_the_pull(games[0]))
    first = import_bets(
        _csv([{**same, "bet_id": "A-1"}, {**same, "bet_id": "A-2"}], header), user=user, bankroll=bankroll
    )
    assert first.ok and first.created == 2  # same game, side, book, time, price and stake: two tickets, two bets
    assert sorted(Bet.objects.values_list("external_id", flat=True)) == ["A-1", "A-2"]
    # a newer export: A-2 again with its stake corrected by the book, and a new ticket
    again = import_bets(
        _csv([{**same, "bet_id": "A-2", "stake": "55"}, _row(games[1], bet_id="A-3")], header),
        user=user,
        bankroll=bankroll,
    )
    assert again.created == 1 and [(d.line, d.reason) for d in again.duplicates] == [
        (2, "imported before (the book's bet id A-2)")
    ]
    assert Bet.objects.filter(bankroll=bankroll).count() == 3


@pytest.mark.django_db
def test_a_bet_imported_without_its_id_is_not_imported_again_with_it(games, bettor):
    user, bankroll = bettor
    row = _row(games[0])
    assert import_bets(_csv([row]), user=user, bankroll=bankroll).created == 1
    again = import_bets(_csv([{**row, "bet_id": "B-9"}], [*HEADER, "bet_id"]), user=user, bankroll=bankroll)
    assert again.ok and again.created == 0 and [d.line for d in again.duplicates] == [2]
    assert Bet.objects.get(bankroll=bankroll).external_id == ""


@pytest.mark.django_db
def test_the_ledger_csv_carries_the_books_bet_id(games, bettor, client):
    user, bankroll = bettor
    assert import_bets(_csv([_row(games[0], bet_id="T-77")], [*HEADER, "bet_id"]), user=user, bankroll=bankroll).created
    client.force_login(user)
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/bets.csv").streaming_content).decode())))
    assert [(r["bet_id"], r["book_bet_id"]) for r in rows] == [(str(Bet.objects.get().pk), "T-77")]


def _final(games: list[Game]) -> None:
    for game in games:
        Game.objects.filter(pk=game.pk).update(status="final", home_score=101, away_score=99)


@pytest.mark.django_db
def test_more_than_the_inline_limit_queues_the_settlement_task_which_runs_here_when_eager(
    games, bettor, monkeypatch, django_capture_on_commit_callbacks
):
    from betting.bets.tasks import settle_bets
    from core.models import JobRun

    user, bankroll = bettor
    monkeypatch.setattr(imports, "SETTLE_INLINE", 1)
    monkeypatch.setattr(settle_bets.app.conf, "task_always_eager", True)
    _final(games[:3])
    with django_capture_on_commit_callbacks(execute=True) as queued:
        result = import_bets(_csv([_row(g) for g in games[:3]]), user=user, bankroll=bankroll)
    assert len(queued) == 1 and result.created == 3 and result.settled == 0 and result.settle_later == 3
    assert result.settled_by_task == 3 and Bet.objects.filter(bankroll=bankroll, status="settled").count() == 3
    assert "ran here (Celery eager) and settled 3 bets" in result.settle_note
    assert JobRun.objects.filter(job="settle_bets").exists()


@pytest.mark.django_db
def test_with_a_worker_the_settlement_task_is_queued_on_commit_and_named(
    games, bettor, monkeypatch, django_capture_on_commit_callbacks
):
    from betting.bets.tasks import settle_bets

    sent: list[str] = []

    class Sent:
        id = "task-42"
        result = None

    def delay() -> Sent:
        sent.append("bets.settle_bets")
        return Sent()

    user, bankroll = bettor
    monkeypatch.setattr(imports, "SETTLE_INLINE", 1)
    monkeypatch.setattr(settle_bets.app.conf, "task_always_eager", False)
    monkeypatch.setattr(settle_bets, "delay", delay)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = import_bets(_csv([_row(g) for g in games[:2]]), user=user, bankroll=bankroll)
    assert sent == [] and "queued when the import commits" in result.settle_note  # not before the commit
    queued[0]()
    assert sent == ["bets.settle_bets"] and result.settle_task_id == "task-42"
    assert result.settle_note == "the other 2 are being settled by the settlement task queued now (task task-42)"
    assert Bet.objects.filter(bankroll=bankroll, status="open").count() == 2  # the worker settles them, not the import


@pytest.mark.django_db
def test_a_broker_that_is_down_leaves_the_bets_to_the_next_run_and_says_so(
    games, bettor, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from betting.bets.tasks import settle_bets

    def delay() -> None:
        raise OperationalError("Connection refused")

    user, bankroll = bettor
    monkeypatch.setattr(imports, "SETTLE_INLINE", 1)
    monkeypatch.setattr(settle_bets, "delay", delay)
    with django_capture_on_commit_callbacks(execute=True):
        result = import_bets(_csv([_row(g) for g in games[:2]]), user=user, bankroll=bankroll)
    assert result.ok and result.created == 2  # the import stands
    assert result.settle_note == (
        "the other 2 wait for the next settlement run (manage.py settle_bets): OperationalError: Connection refused"
    )
