from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from betting.games.admin_search import CappedCountPaginator, IndexedSearchMixin
from betting.predictions import registry
from betting.predictions.models import ModelVersion, Prediction


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin[ModelVersion]):
    list_display = [
        "version",
        "league",
        "market",
        "kind",
        "status",
        "is_active",
        "n_train",
        "log_loss",
        "trained_until",
    ]
    list_filter = ["league", "market", "status", "kind", "is_active"]
    search_fields = ["version", "note"]
    ordering = ["-created_at"]
    list_select_related = ["league", "parent"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["make_active"]

    @admin.display(description="Log loss (recent games)")
    def log_loss(self, obj: ModelVersion) -> str:
        model = (obj.metrics.get("validation") or {}).get("model")
        return f"{model['log_loss']:.4f}" if model else "–"

    @admin.action(description="Make the selected version the active one (rollback)")
    def make_active(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        target = queryset.select_related("league").get()
        try:
            now, before = registry.rollback(target.league, target.market, target.version)
        except registry.RegistryError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{now} is now active (was {before or 'none'}).", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Prediction)
class PredictionAdmin(IndexedSearchMixin, admin.ModelAdmin[Prediction]):
    list_display = ["game", "market", "outcome", "point", "probability", "fair_odds", "model_version", "created_at"]
    list_filter = ["market", "outcome", "model_version__league"]
    search_help_text = "A team (name, abbreviation, city or any alias), a game id, or a model version."
    list_select_related = ["game__home_team", "game__away_team", "model_version__league"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ["game", "model_version"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Prediction._meta.fields]

    def search_extra(self, term: str) -> Q:
        versions = list(ModelVersion.objects.filter(version=term).values_list("pk", flat=True))
        return Q(model_version_id__in=versions)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
