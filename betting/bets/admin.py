from __future__ import annotations

from django.contrib import admin
from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from betting.bets.models import Bankroll, BankrollEntry, Bet


@admin.register(Bankroll)
class BankrollAdmin(admin.ModelAdmin[Bankroll]):
    list_display = ["name", "mode", "currency", "balance_display", "created_at"]
    list_filter = ["mode"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bankroll]:
        zero = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))
        return super().get_queryset(request).annotate(total=Coalesce(Sum("entries__amount"), zero))

    @admin.display(description="Balance", ordering="total")
    def balance_display(self, obj: Bankroll) -> str:
        return f"{getattr(obj, 'total', obj.balance()):,.2f} {obj.currency}"


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin[Bet]):
    list_display = [
        "placed_at",
        "game",
        "market",
        "outcome",
        "point",
        "bookmaker",
        "price",
        "stake",
        "edge",
        "status",
        "result",
        "payout",
        "clv",
        "bankroll",
    ]
    list_filter = ["bankroll", "status", "result", "market", "bookmaker", "game__league"]
    search_fields = ["game__home_team__name", "game__away_team__name", "bookmaker__title", "decision_run"]
    date_hierarchy = "placed_at"
    ordering = ["-placed_at"]
    list_select_related = ["game__home_team", "game__away_team", "bookmaker", "bankroll"]
    raw_id_fields = ["game", "model_version"]
    readonly_fields = ["status", "result", "payout", "settled_at", "closing_price", "clv", "decision_run"]


@admin.register(BankrollEntry)
class BankrollEntryAdmin(admin.ModelAdmin[BankrollEntry]):
    list_display = ["created_at", "bankroll", "kind", "amount", "bet", "note"]
    list_filter = ["bankroll", "kind"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["bankroll", "bet__game__home_team", "bet__game__away_team", "bet__bookmaker"]
    raw_id_fields = ["bet"]

    def has_change_permission(self, request: HttpRequest, obj: BankrollEntry | None = None) -> bool:
        return False  # a ledger is corrected with a new adjustment entry, not by editing history
