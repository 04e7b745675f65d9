"""Who sees and bets on what: the one place the pages, the import and the API ask.

- Staff (active, ``is_staff``) see and bet on every bankroll.
- A signed-in user sees the bankrolls they own and those shared with them (``BankrollMember``, view
  or bet), and bets on the ones they own and those shared with the bet permission.
- The system's bankrolls (no owner: the automatic run's PAPER_BANKROLL) are the house's public
  record while ``PUBLIC_PAGES`` is on: every visitor, anonymous or signed in, sees them (read
  only). With ``PUBLIC_PAGES`` off only staff see them. Only staff ever bet on them.
- Backtests follow the same rule: a user sees their own and the house's (made by a command or
  by staff); staff see all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from django.conf import settings
from django.db.models import Q, QuerySet

from betting.bets.models import Backtest, Bankroll, BankrollMember, Bet
from betting.games.models import Game

Perm = Literal["view", "bet"]


def is_staff(user: Any) -> bool:  # noqa: ANN401 (swappable user model)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def _signed_in(user: Any) -> bool:  # noqa: ANN401 (swappable user model)
    return bool(user is not None and user.is_authenticated and user.is_active)


def bankrolls_for(user: Any, *, perm: Perm = "view") -> QuerySet[Bankroll]:  # noqa: ANN401 (swappable user model)
    """The bankrolls ``user`` may see (``perm="view"``) or record bets on (``perm="bet"``)."""
    if perm not in ("view", "bet"):
        raise ValueError(f"perm is view or bet, got {perm!r}")
    everything = Bankroll.objects.all()
    if is_staff(user):
        return everything
    allowed = Q(pk__in=[])
    if _signed_in(user):
        members = BankrollMember.objects.filter(user=user)
        if perm == "bet":
            members = members.filter(permission=BankrollMember.Permission.BET)
        allowed = Q(owner=user) | Q(pk__in=members.values("bankroll_id"))
    if perm == "view" and settings.PUBLIC_PAGES:
        allowed |= Q(owner__isnull=True)
    return everything.filter(allowed)


def can_view(user: Any, bankroll: Bankroll) -> bool:  # noqa: ANN401 (swappable user model)
    return bankrolls_for(user).filter(pk=bankroll.pk).exists()


def can_bet(user: Any, bankroll: Bankroll) -> bool:  # noqa: ANN401 (swappable user model)
    """Whether ``user`` may record bets on ``bankroll`` (LIVE's ENABLE_LIVE_BETTING lock apart)."""
    return bankrolls_for(user, perm="bet").filter(pk=bankroll.pk).exists()


def bets_for(user: Any) -> QuerySet[Bet]:  # noqa: ANN401 (swappable user model)
    """The bets on the bankrolls ``user`` may see."""
    if is_staff(user):
        return Bet.objects.all()
    return Bet.objects.filter(bankroll__in=bankrolls_for(user).values("pk"))


def system_paper_bankroll() -> Bankroll | None:
    """The automatic run's bankroll (PAPER_BANKROLL, no owner), if it exists yet."""
    return Bankroll.objects.filter(owner__isnull=True, name=settings.PAPER_BANKROLL).first()


def default_bankroll(user: Any, bankrolls: list[Bankroll]) -> Bankroll | None:  # noqa: ANN401 (swappable user model)
    """The bankroll a page opens on, among the visible ``bankrolls``: staff and visitors get the
    automatic run's (PAPER_BANKROLL); a signed-in user their own first (an opted-in paper one
    before the others), then the automatic run's, then any."""
    system = [b for b in bankrolls if b.owner_id is None and b.name == settings.PAPER_BANKROLL]
    if not is_staff(user) and _signed_in(user):
        own = sorted(
            (b for b in bankrolls if b.owner_id == user.pk),
            key=lambda b: (not b.auto_paper, b.mode != Bankroll.Mode.PAPER, b.name),
        )
        if own:
            return own[0]
    if system:
        return system[0]
    return bankrolls[0] if bankrolls else None


def backtests_for(user: Any) -> QuerySet[Backtest]:  # noqa: ANN401 (swappable user model)
    """The backtests ``user`` may see: staff all; others their own and, where the house's record is
    visible to them (PUBLIC_PAGES), the house's (no author, or a staff author)."""
    if is_staff(user):
        return Backtest.objects.all()
    allowed = Q(pk__in=[])
    if _signed_in(user):
        allowed |= Q(created_by=user)
    if settings.PUBLIC_PAGES:
        allowed |= Q(created_by__isnull=True) | Q(created_by__is_staff=True)
    return Backtest.objects.filter(allowed)


LEDGER_FILTERS = {
    "league": "game__league__code",
    "market": "market",
    "status": "status",
    "result": "result",
    "date_from": "placed_at__date__gte",
    "date_to": "placed_at__date__lte",
}


def ledger(bankroll: Bankroll, filters: Mapping[str, str | dt.date | None]) -> QuerySet[Bet]:
    """A bankroll's bets matching the ledger's filters (``BetFilterForm``'s cleaned data: league,
    market, status, result, date_from, date_to; empty ones ignored), newest first, with what the
    ledger page and its CSV show of each bet."""
    bets = Bet.objects.filter(bankroll=bankroll).select_related(
        "game__home_team", "game__away_team", "game__league", "bookmaker", "model_version"
    )
    lookups = {lookup: filters[name] for name, lookup in LEDGER_FILTERS.items() if filters.get(name)}
    return bets.filter(**lookups).order_by("-placed_at", "-id")


def open_bets(bankroll: Bankroll, *, limit: int = 100) -> list[Bet]:
    """A bankroll's open bets, the soonest game first (at most ``limit``)."""
    return list(
        Bet.objects.filter(bankroll=bankroll, status=Bet.Status.OPEN)
        .select_related("game__home_team", "game__away_team", "bookmaker")
        .order_by("game__start_time", "id")[:limit]
    )


def last_final_game() -> tuple[dt.date, str] | None:
    """The date and league code of the latest finished game (where a backtest window ends by default)."""
    return (
        Game.objects.filter(status=Game.Status.FINAL)
        .order_by("-game_date")
        .values_list("game_date", "league__code")
        .first()
    )
