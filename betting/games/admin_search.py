"""Search and counting for the admin's big lists (quotes, games, predictions, bets): through
indexed columns only, and never a count of the whole table, so a list opens in well under a second
on millions of rows."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django_stubs_ext import StrOrPromise

from betting.games.models import Bookmaker, Game, Team, normalize_name


def team_ids_matching(term: str) -> list[int]:
    """The teams a search term names: by name, abbreviation, city or nickname (contained), or by
    any alias (its normalized form, or contained in its name). Runs on the small team and alias
    tables, so the big lists filter by indexed team ids instead of joining and scanning text."""
    key = normalize_name(term)
    condition = (
        Q(name__icontains=term)
        | Q(abbreviation__iexact=term)
        | Q(city__icontains=term)
        | Q(nickname__icontains=term)
        | Q(aliases__name__icontains=term)
    )
    if key:
        condition |= Q(aliases__normalized=key)
    return sorted(set(Team.objects.filter(condition).values_list("pk", flat=True)))


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most ``CAP + 1`` rows (``COUNT(*)`` over a ``LIMIT``), never the whole table: the
    pages past the cap are not offered, and the list says "CAP+1" for "more than CAP"."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        return int(object_list[: self.CAP + 1].count())


class IndexedSearchMixin:
    """Search on big lists through indexed columns only, so it stays fast on millions of rows:
    a number is a game id, a word names teams (resolved first on the small team tables,
    ``team_ids_matching``, then games by their indexed team columns), a bookmaker by its exact key
    or its title (``bookmaker_field``, resolved on the bookmakers table), or an exact value of
    ``exact_fields``. No ``LIKE '%...%'`` and no join reaches the big table, and each row is found
    once (no ``DISTINCT``). Pair with ``show_full_result_count = False`` and ``CappedCountPaginator``.
    ``search_fields`` only has to be non-empty for the admin to show the box."""

    game_field = "game_id"  # "id" on the games list itself
    bookmaker_field = ""
    exact_fields: tuple[str, ...] = ()
    search_fields: ClassVar[list[str] | tuple[str, ...]] = ["pk"]
    search_help_text: ClassVar[StrOrPromise | None] = (
        "A team (name, abbreviation, city or any alias), a game id, or a bookmaker."
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(pk__in=[])
        if term.isdigit():
            condition |= Q(**{self.game_field: int(term)})
        teams = team_ids_matching(term)
        if teams:
            games = Game.objects.filter(Q(home_team_id__in=teams) | Q(away_team_id__in=teams)).values("pk")
            condition |= Q(**{f"{self.game_field}__in": games})
        if self.bookmaker_field:
            books = list(
                Bookmaker.objects.filter(Q(key=term.lower()) | Q(title__icontains=term)).values_list("pk", flat=True)
            )
            if books:
                condition |= Q(**{f"{self.bookmaker_field}__in": books})
        for name in self.exact_fields:
            condition |= Q(**{name: term})
        return queryset.filter(condition | self.search_extra(term)), False

    def search_extra(self, term: str) -> Q:
        """More matches a list adds, through indexed columns too."""
        return Q(pk__in=[])
