"""Model check for ``core.health.checks`` (named in ``settings.HEALTH_CHECKS``): an active model for every
league and market of ``READY_MODELS`` (a warning each, ``model:<league>:<market>``). One query."""

from __future__ import annotations

from django.conf import settings

from betting.predictions.models import ModelVersion
from core.health.checks import CheckResult, health_check


def configured_models() -> list[tuple[str, str]]:
    """``READY_MODELS`` as (league, market) pairs, in order."""
    pairs = []
    for item in settings.READY_MODELS:
        league, _, market = item.partition(":")
        pairs.append((league.strip().upper(), market.strip().lower()))
    return pairs


@health_check(name="models", critical=False, needs_db=True)
def check_active_models() -> list[CheckResult]:
    active = {
        (mv.league.code, mv.market): mv
        for mv in ModelVersion.objects.filter(is_active=True)
        .select_related("league")
        .only("league__code", "market", "version", "kind", "activated_at", "trained_until", "n_train")
    }
    results = []
    for league, market in configured_models():
        name = f"model:{league}:{market}"
        model = active.get((league, market))
        if model is None:
            results.append(
                CheckResult(
                    name, False, f"no active model: train one (manage.py train --league {league} --market {market})"
                )
            )
            continue
        data = {
            "version": model.version,
            "kind": model.kind,
            "activated_at": model.activated_at.isoformat() if model.activated_at else None,
            "trained_until": model.trained_until.isoformat(),
            "n_train": model.n_train,
        }
        results.append(CheckResult(name, True, f"version {model.version} active", data))
    return results
