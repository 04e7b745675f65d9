"""The admin is where people review and correct data all day: every list is filterable,
searchable by team names and aliases, and loads its related rows in one query."""

from __future__ import annotations

from typing import Generic, TypeVar

from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from betting.games.admin_search import CappedCountPaginator, IndexedSearchMixin
from betting.games.ingest.archive import ARCHIVE_BOOKMAKERS
from betting.games.models import (
    BackfillDay,
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
from betting.games.selectors import insane_pairs

M = TypeVar("M", bound=Model)


class AliasSearchMixin(Generic[M]):
    """Search also matches team aliases by their normalized form, so ``NewJersey`` finds the
    games filed under ``New Jersey`` and every other spelling of that franchise."""

    alias_paths: tuple[str, ...] = ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[M], search_term: str
    ) -> tuple[QuerySet[M], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)  # type: ignore[misc]
        key = normalize_name(search_term)
        if key and self.alias_paths:
            condition = Q()
            for path in self.alias_paths:
                prefix = f"{path}__" if path else ""
                condition |= Q(**{f"{prefix}aliases__normalized": key})
            found = found | queryset.filter(condition)
            may_have_duplicates = True
        return found, may_have_duplicates


class TeamAliasInline(admin.TabularInline[TeamAlias, Team]):
    model = TeamAlias
    extra = 1
    fields = ["name", "source", "valid_from", "valid_to", "note"]


@admin.register(League)
class LeagueAdmin(admin.ModelAdmin[League]):
    list_display = ["code", "name", "sport_key", "time_zone", "season_spans_years", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "sport_key"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Team)
class TeamAdmin(AliasSearchMixin[Team], admin.ModelAdmin[Team]):
    alias_paths = ("",)
    list_display = ["name", "abbreviation", "league", "city", "active"]
    list_filter = ["league", "active"]
    search_fields = ["name", "abbreviation", "city", "nickname", "aliases__name"]
    list_select_related = ["league"]
    inlines = [TeamAliasInline]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(TeamAlias)
class TeamAliasAdmin(admin.ModelAdmin[TeamAlias]):
    list_display = ["name", "team", "league", "source", "valid_from", "valid_to", "note"]
    list_filter = ["league", "source"]
    search_fields = ["name", "normalized", "team__name", "team__abbreviation"]
    list_select_related = ["team", "league"]
    autocomplete_fields = ["team"]
    readonly_fields = ["normalized", "created_at", "updated_at"]


class OddsQuoteInline(admin.TabularInline[OddsQuote, Game]):
    model = OddsQuote
    extra = 0
    can_delete = False
    fields = ("captured_at", "bookmaker", "market", "outcome", "point", "price", "source")
    readonly_fields = fields
    ordering = ["market", "bookmaker__title", "outcome", "captured_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OddsQuote]:
        return super().get_queryset(request).select_related("bookmaker")

    def has_add_permission(self, request: HttpRequest, obj: Game | None = None) -> bool:
        return False


@admin.register(Game)
class GameAdmin(IndexedSearchMixin, admin.ModelAdmin[Game]):
    game_field = "id"
    list_display = [
        "game_date",
        "league",
        "season",
        "matchup",
        "score",
        "status",
        "neutral_site",
        "season_type",
        "quotes_link",
    ]
    list_filter = ["league", "season", "status", "needs_review", "season_type", "neutral_site", "score_source"]
    date_hierarchy = "start_time"
    ordering = ["-start_time", "league"]
    list_select_related = ["league", "home_team", "away_team"]
    autocomplete_fields = ["home_team", "away_team"]
    readonly_fields = ["created_at", "updated_at", "quotes_link"]
    inlines = [OddsQuoteInline]
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description="Game", ordering="home_team__name")
    def matchup(self, obj: Game) -> str:
        sep = "vs" if obj.neutral_site else "@"
        return f"{obj.away_team.abbreviation} {sep} {obj.home_team.abbreviation}"

    @admin.display(description="Score")
    def score(self, obj: Game) -> str:
        if obj.home_score is None or obj.away_score is None:
            return "–"
        return f"{obj.away_score}–{obj.home_score}"

    @admin.display(description="Odds")
    def quotes_link(self, obj: Game) -> str:
        if obj.pk is None:
            return "–"
        url = reverse("admin:games_oddsquote_changelist") + f"?game__id__exact={obj.pk}"
        return format_html('<a href="{}">quotes</a>', url)


@admin.register(Bookmaker)
class BookmakerAdmin(admin.ModelAdmin[Bookmaker]):
    list_display = ["title", "key"]
    search_fields = ["title", "key"]
    readonly_fields = ["created_at", "updated_at"]


class LeagueOfQuoteFilter(admin.SimpleListFilter):
    title = "league"
    parameter_name = "league"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[OddsQuote]) -> list[tuple[str, str]]:
        return [(code, code) for code in League.objects.values_list("code", flat=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OddsQuote]) -> QuerySet[OddsQuote]:
        if self.value():
            return queryset.filter(game__league__code=self.value())
        return queryset


class QuoteSourceFilter(admin.SimpleListFilter):
    """The sources a quote can come from, listed from code: a plain field filter would read them
    with a DISTINCT over every quote."""

    title = "source"
    parameter_name = "source__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[OddsQuote]) -> list[tuple[str, str]]:
        return [(source, source) for source in ("odds_api", *ARCHIVE_BOOKMAKERS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OddsQuote]) -> QuerySet[OddsQuote]:
        return queryset.filter(source=self.value()) if self.value() else queryset


class InsanePairFilter(admin.SimpleListFilter):
    """Two-way pairs whose margin is outside QUOTE_MIN_MARGIN..QUOTE_MAX_MARGIN (a corrupt -2500/-2500):
    kept, but left out of consensus, training inputs and CLV. Lists each pair's home (or over) quote;
    the other side is found through the natural-key index, so the filter stays one query."""

    title = "pair sanity"
    parameter_name = "pair"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[OddsQuote]) -> list[tuple[str, str]]:
        return [("insane", "Insane pairs (margin out of bounds)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OddsQuote]) -> QuerySet[OddsQuote]:
        return insane_pairs(queryset) if self.value() == "insane" else queryset


@admin.register(OddsQuote)
class OddsQuoteAdmin(IndexedSearchMixin, admin.ModelAdmin[OddsQuote]):
    """Quotes are a snapshot history: they can be reviewed and, if wrong, deleted, never edited.
    The biggest table: search through indexed ids only, no date hierarchy (its DISTINCT over every
    quote's date took seconds), no full count."""

    list_display = ["captured_at", "game", "bookmaker", "market", "outcome", "point", "price", "source"]
    list_filter = [LeagueOfQuoteFilter, InsanePairFilter, "market", QuoteSourceFilter, "bookmaker", "outcome"]
    bookmaker_field = "bookmaker_id"
    search_help_text = "A team (name, abbreviation, city or any alias), a game id, or a bookmaker (key or title)."
    ordering = ["-captured_at"]
    list_select_related = ["game__home_team", "game__away_team", "bookmaker"]
    raw_id_fields = ["game"]
    readonly_fields = ["created_at"]
    list_per_page = 100
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_change_permission(self, request: HttpRequest, obj: OddsQuote | None = None) -> bool:
        return False


@admin.register(Injury)
class InjuryAdmin(admin.ModelAdmin[Injury]):
    list_display = ["player_name", "team", "status", "detail", "reported_at", "source"]
    list_filter = ["status", "source", "team__league"]
    search_fields = ["player_name", "team__name", "team__abbreviation", "detail"]
    date_hierarchy = "reported_at"
    ordering = ["-reported_at"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(UnresolvedName)
class UnresolvedNameAdmin(admin.ModelAdmin[UnresolvedName]):
    """Team names sources used that no alias explains: add a TeamAlias, then delete the row."""

    list_display = ["name", "source", "league", "occurrences", "last_seen", "ignore", "example"]
    list_editable = ["ignore"]
    list_filter = ["league", "source", "ignore"]
    search_fields = ["name", "example"]
    ordering = ["-last_seen"]
    list_select_related = ["league"]
    readonly_fields = ["league", "source", "name", "occurrences", "last_seen", "example", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BackfillDay)
class BackfillDayAdmin(admin.ModelAdmin[BackfillDay]):
    """What ``manage.py backfill`` finished or failed, day by day: delete a row to have it fetched again."""

    list_display = ["day", "league", "what", "status", "attempts", "credits", "updated_at", "error"]
    list_filter = ["league", "what", "status"]
    search_fields = ["error"]
    date_hierarchy = "day"
    ordering = ["-day"]
    list_select_related = ["league"]
    readonly_fields = [
        "league", "what", "day", "status", "attempts", "error", "credits", "counts", "created_at", "updated_at"
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
