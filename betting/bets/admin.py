from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from betting.bets.models import (
    LIMIT_FIELDS,
    Alert,
    Backtest,
    Bankroll,
    BankrollEntry,
    BankrollMember,
    Bet,
    RiskLimitChange,
)
from betting.bets.services import BetError, bankroll_limits_update, bet_place, check_can_place, risk_limits
from betting.games.admin_search import CappedCountPaginator, IndexedSearchMixin

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups  # what ModelAdmin.get_fields returns (stubs only)


class BankrollMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BankrollMember
    extra = 0
    autocomplete_fields = ["user"]


class BankrollForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Bankroll
        fields = ["name", "owner", "mode", "currency", "auto_paper", *LIMIT_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        trial = Bankroll(**{name: data.get(name) for name in LIMIT_FIELDS})
        try:
            risk_limits(trial)
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(f"These risk limits do not hold together: {exc}") from None
        return data


@admin.register(Bankroll)
class BankrollAdmin(admin.ModelAdmin[Bankroll]):
    """Each change to the risk limits goes through ``bankroll_limits_update``: audited."""

    form = BankrollForm
    list_display = ["name", "owner", "mode", "auto_paper", "currency", "balance_display", "created_at"]
    list_filter = ["mode", "auto_paper"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [BankrollMemberInline]
    fieldsets = [
        (None, {"fields": ["name", "owner", "mode", "currency", "auto_paper", "created_at", "updated_at"]}),
        ("Risk limits (empty: the environment's)", {"fields": list(LIMIT_FIELDS)}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bankroll]:
        zero = Value(0, output_field=DecimalField(max_digits=14, decimal_places=2))
        return super().get_queryset(request).annotate(total=Coalesce(Sum("entries__amount"), zero))

    @admin.display(description="Balance", ordering="total")
    def balance_display(self, obj: Bankroll) -> str:
        return f"{getattr(obj, 'total', obj.balance()):,.2f} {obj.currency}"

    def save_model(self, request: HttpRequest, obj: Bankroll, form: forms.ModelForm[Bankroll], change: bool) -> None:
        wanted = {name: getattr(obj, name) for name in LIMIT_FIELDS}
        old = Bankroll.objects.filter(pk=obj.pk).first() if change else None
        for name in LIMIT_FIELDS:  # saved as they were; the audited update below sets the new ones
            setattr(obj, name, getattr(old, name) if old is not None else None)
        super().save_model(request, obj, form, change)
        bankroll_limits_update(obj, user=request.user, values=wanted, note="admin")


@admin.register(RiskLimitChange)
class RiskLimitChangeAdmin(admin.ModelAdmin[RiskLimitChange]):
    """The audit of risk-limit changes: read only."""

    list_display = ["changed_at", "bankroll", "changed_by", "before", "after", "note"]
    list_filter = ["bankroll"]
    readonly_fields = ["bankroll", "changed_by", "changed_at", "before", "after", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RiskLimitChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RiskLimitChange | None = None) -> bool:
        return False


class ManualBetForm(forms.ModelForm):  # type: ignore[type-arg]
    """A bet the user placed elsewhere (LIVE) or wants on paper: recorded through `bet_place`, so
    its stake goes into the ledger like any other."""

    class Meta:
        model = Bet
        fields = ["bankroll", "game", "market", "outcome", "point", "bookmaker", "price", "stake", "probability"]
        help_texts = {"probability": "Your probability that it wins (0 to 1); the edge is computed from it."}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bankroll = data.get("bankroll")
        if bankroll is not None:
            try:
                check_can_place(bankroll, manual=True)
            except BetError as exc:
                raise forms.ValidationError(str(exc)) from None
        price, stake, probability = data.get("price"), data.get("stake"), data.get("probability")
        if price is not None and price <= 1:
            self.add_error("price", "Decimal odds must be above 1.00.")
        if stake is not None and stake <= 0:
            self.add_error("stake", "A stake must be positive.")
        if probability is not None and not 0 <= probability <= 1:
            self.add_error("probability", "A probability is between 0 and 1.")
        if data.get("market") in ("spreads", "totals") and data.get("point") is None:
            self.add_error("point", "Spreads and totals need their line.")
        return data


@admin.register(Bet)
class BetAdmin(IndexedSearchMixin, admin.ModelAdmin[Bet]):
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
    bookmaker_field = "bookmaker_id"
    exact_fields = ("decision_run", "external_id")
    search_help_text = (
        "A team (name, abbreviation, city or any alias), a game id, a bookmaker, a decision run or the book's bet id."
    )
    show_full_result_count = False
    paginator = CappedCountPaginator
    date_hierarchy = "placed_at"
    ordering = ["-placed_at"]
    list_select_related = ["game__home_team", "game__away_team", "bookmaker", "bankroll"]
    raw_id_fields = ["game", "model_version"]
    readonly_fields = ["status", "result", "payout", "settled_at", "closing_price", "clv", "decision_run"]
    add_form = ManualBetForm

    def get_form(
        self, request: HttpRequest, obj: Bet | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Bet]]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Bet | None = None) -> list[str]:
        if obj is None:
            return []
        # A placed bet is history: its money is in the ledger. Settlement fills in the rest.
        return [f.name for f in Bet._meta.fields]

    def get_fields(self, request: HttpRequest, obj: Bet | None = None) -> _FieldGroups:
        if obj is None:
            return tuple(ManualBetForm.Meta.fields)
        return super().get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Bet, form: forms.ModelForm[Bet], change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        bet, _ = bet_place(
            bankroll=data["bankroll"],
            game=data["game"],
            market=data["market"],
            outcome=data["outcome"],
            bookmaker=data["bookmaker"],
            price=data["price"],
            stake=data["stake"],
            probability=float(data["probability"]),
            point=data.get("point"),
            decision_run=f"manual-{uuid.uuid4().hex[:12]}",
            manual=True,
            source=Bet.Source.MANUAL,
        )
        obj.pk = bet.pk


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


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin[Backtest]):
    list_display = ["created_at", "name", "league", "market", "date_from", "date_to", "status", "n_bets", "roi",
                    "yield_rate", "avg_clv", "max_drawdown"]  # fmt: skip
    list_filter = ["status", "league", "market"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    list_select_related = ["league"]
    exclude = ["bets", "curve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started from /backtests or the backtest command

    def has_change_permission(self, request: HttpRequest, obj: Backtest | None = None) -> bool:
        return False  # results are measured, not edited


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    """Edge alerts, read-only: what was found, when, and what each channel said."""

    list_display = ["created_at", "kind", "status", "attempts", "text"]
    list_filter = ["kind", "status"]
    search_fields = ["text", "key"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "key", "kind", "game", "text", "payload", "status", "channels", "attempts", "created_at", "sent_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Alert | None = None) -> bool:
        return False
