"""The model registry: versions on disk (XGBoost's own UBJSON, never pickle), one active per
league and market, promotion, rollback and pruning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from betting.games.models import League
from betting.predictions import training
from betting.predictions.features import FEATURE_SET_VERSION, FEATURES
from betting.predictions.models import ModelVersion
from core.errors import SharplineError


class RegistryError(SharplineError):
    pass


def active(league: League, market: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(league=league, market=market, is_active=True).first()


# A version whose chosen family is the line baseline adds nothing to the market's line: it is never
# active (never staked), but the line itself, fitted and calibrated on the training games, is an
# honest forecast to show beside Elo and the market. ``params["forecast_only"]`` marks such versions
# for good (their predictions stay forecast-only); the newest marked one of a league and market makes
# the predictions while no version is active.
FORECAST_ONLY = "forecast_only"
FORECAST_ONLY_REASON = "the model is the market's line: no edge claimed"


def is_forecast_only(version: ModelVersion) -> bool:
    """Whether ``version`` is a forecast-only model (shown, never staked)."""
    return bool((version.params or {}).get(FORECAST_ONLY)) and not version.is_active


def forecast(league: League, market: str) -> ModelVersion | None:
    """The newest forecast-only version of a league and market (the market's line as a forecast)."""
    marked = ModelVersion.objects.filter(league=league, market=market, is_active=False, params__forecast_only=True)
    return marked.order_by("-version").first()


def for_predictions(league: League, market: str) -> ModelVersion | None:
    """The version the predictions use: the active one, else the newest forecast-only one."""
    return active(league, market) or forecast(league, market)


def mark_forecast_only(version: ModelVersion) -> ModelVersion:
    """Mark ``version``, whose chosen family is the line baseline, forecast-only. It stays out of
    betting: never active, refused by rollback (it does not beat its baseline), every stake from
    its predictions refused."""
    params = version.params or {}
    if version.is_active or params.get("beats_baseline") or params.get("family") != "line":
        raise RegistryError(f"{version} is not the line baseline: only the line may be a forecast-only model")
    version.params = {**params, FORECAST_ONLY: True}
    version.note = (
        f"{version.note}\nforecast only: the market's line as a calibrated forecast, shown beside Elo and the "
        f"market; never staked ({FORECAST_ONLY_REASON})"
    ).strip()
    version.save(update_fields=["params", "note"])
    return version


def artifact_path(version: ModelVersion) -> Path:
    return Path(settings.MODEL_DIR) / version.artifact


def load(version: ModelVersion) -> training.Fitted:
    path = artifact_path(version)
    if not path.is_file():
        raise RegistryError(f"model {version} has no artifact at {path}")
    if "baseline" not in (version.params or {}):
        raise RegistryError(f"model {version} was trained by an earlier model family without a line baseline; retrain")
    return training.load(str(path), version.market, version.params)


def _version_name(league: League, market: str, now: dt.datetime) -> str:
    """YYYYMMDD_HHMMSS in UTC; a second later when that second is taken."""
    moment = now.astimezone(dt.UTC).replace(microsecond=0)
    taken = set(
        ModelVersion.objects.filter(league=league, market=market, version__gte=f"{moment:%Y%m%d_%H%M%S}").values_list(
            "version", flat=True
        )
    )
    while f"{moment:%Y%m%d_%H%M%S}" in taken:
        moment += dt.timedelta(seconds=1)
    return f"{moment:%Y%m%d_%H%M%S}"


def save(
    *,
    league: League,
    fitted: training.Fitted,
    kind: str,
    parent: ModelVersion | None,
    trained_from: dt.datetime | None,
    trained_until: dt.datetime,
    metrics: dict[str, object],
) -> ModelVersion:
    """Write the booster and register it as a candidate."""
    version = _version_name(league, fitted.market, timezone.now())
    relative = Path(league.code.lower()) / fitted.market / f"{version}.ubj"
    path = Path(settings.MODEL_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fitted.booster.save_model(str(path))
    return ModelVersion.objects.create(
        league=league,
        market=fitted.market,
        version=version,
        parent=parent,
        kind=kind,
        status=ModelVersion.Status.CANDIDATE,
        feature_set_version=FEATURE_SET_VERSION,
        features=list(fitted.params.get("columns", FEATURES)),
        feature_hash=training.feature_hash(list(fitted.params.get("columns", FEATURES))),
        params=_jsonable(fitted.params),
        trained_from=trained_from,
        trained_until=trained_until,
        n_train=fitted.n_train,
        metrics=metrics,
        artifact=str(relative),
    )


@transaction.atomic
def activate(version: ModelVersion, note: str) -> ModelVersion:
    """Make ``version`` the one active model of its league and market."""
    current = (
        ModelVersion.objects.select_for_update()
        .filter(league=version.league, market=version.market, is_active=True)
        .exclude(pk=version.pk)
        .first()
    )
    if current is not None:
        current.is_active = False
        current.status = ModelVersion.Status.RETIRED
        current.save(update_fields=["is_active", "status"])
    version.is_active = True
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.note = f"{version.note}\n{note}".strip()
    version.save(update_fields=["is_active", "status", "activated_at", "note"])
    return version


def reject(version: ModelVersion, note: str) -> ModelVersion:
    version.status = ModelVersion.Status.REJECTED
    version.note = f"{version.note}\n{note}".strip()
    version.save(update_fields=["status", "note"])
    return version


def rollback(league: League, market: str, version: str | None = None) -> tuple[ModelVersion, ModelVersion | None]:
    """Activate ``version``, or the model that was active before the current one.
    Returns (now active, previously active)."""
    current = active(league, market)
    candidates = ModelVersion.objects.filter(league=league, market=market)
    if version:
        target = candidates.filter(version=version).first()
        if target is None:
            known = ", ".join(candidates.values_list("version", flat=True)[:10]) or "none"
            raise RegistryError(f"no {league.code} {market} model {version!r}; recent versions: {known}")
    else:
        earlier = candidates.filter(activated_at__isnull=False)
        if current is not None and current.activated_at is not None:
            earlier = earlier.filter(activated_at__lt=current.activated_at)
        if current is not None:
            earlier = earlier.exclude(pk=current.pk)
        target = earlier.order_by("-activated_at").first()
        if target is None:
            raise RegistryError(f"no earlier {league.code} {market} model to roll back to")
    if current is not None and target.pk == current.pk:
        raise RegistryError(f"{target} is already the active model")
    if not artifact_path(target).is_file():
        raise RegistryError(f"cannot roll back to {target}: its artifact is missing")
    if not (target.params or {}).get("beats_baseline"):
        raise RegistryError(f"cannot roll back to {target}: it does not beat its line baseline, so it is never active")
    previous = current
    activate(target, f"rolled back to at {timezone.now():%Y-%m-%d %H:%M} UTC (was {previous or 'none'})")
    return target, previous


def prune(league: League, market: str, keep: int | None = None) -> int:
    """Delete the oldest inactive versions beyond the ``keep`` newest, with their files. Versions
    that made stored predictions stay: the predictions must keep saying which model made them."""
    keep = settings.MODEL_KEEP_VERSIONS if keep is None else keep
    old = ModelVersion.objects.filter(league=league, market=market, is_active=False).order_by("-version")[keep:]
    removed = 0
    current = forecast(league, market)
    for version in old:
        if current is not None and version.pk == current.pk:
            continue  # the forecast-only model the predictions use
        path = artifact_path(version)
        try:
            version.delete()
        except ProtectedError:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _jsonable(value: object) -> object:
    """Parameters as JSON: numpy scalars as Python numbers, nested dicts and lists too."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
