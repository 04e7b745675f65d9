"""The operator's kill switch: stop new bets, pause provider pulls.

The state is one database row (``KillSwitch``), so every web process and worker sees a change at
once and it survives restarts. ``BETTING_KILL_SWITCH`` in the environment stops bets whatever
the row says; clearing the row cannot override it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import KillSwitch


def _row() -> KillSwitch | None:
    return KillSwitch.objects.filter(pk=KillSwitch.SINGLETON).first()


@dataclass(frozen=True)
class SwitchState:
    betting_stopped: bool  # effective: the environment or the operator
    pulls_paused: bool
    env_kill_switch: bool
    operator_stopped: bool
    reason: str
    changed_at: str | None
    changed_by: str

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def switch_state() -> SwitchState:
    row = _row()
    env_on = bool(settings.BETTING_KILL_SWITCH)
    operator = bool(row and row.betting_stopped)
    return SwitchState(
        betting_stopped=env_on or operator,
        pulls_paused=bool(row and row.pulls_paused),
        env_kill_switch=env_on,
        operator_stopped=operator,
        reason=row.reason if row else "",
        changed_at=row.changed_at.isoformat() if row and row.changed_at else None,
        changed_by=row.changed_by if row else "",
    )


def betting_stopped() -> bool:
    """True when no new bet may be made: BETTING_KILL_SWITCH or the operator's switch."""
    if settings.BETTING_KILL_SWITCH:
        return True
    row = _row()
    return bool(row and row.betting_stopped)


def pulls_paused() -> str:
    """Why live provider pulls are paused, or "" when they are not."""
    row = _row()
    if row is None or not row.pulls_paused:
        return ""
    return f"skipped: pulls paused by the operator{': ' + row.reason if row.reason else ''}"


def switch_set(
    *, betting_stopped: bool | None = None, pulls_paused: bool | None = None, reason: str = "", by: str = ""
) -> SwitchState:
    """Set the operator's switches (None leaves one as it is) and return the effective state."""
    with transaction.atomic():
        row, _ = KillSwitch.objects.select_for_update().get_or_create(pk=KillSwitch.SINGLETON)
        if betting_stopped is not None:
            row.betting_stopped = betting_stopped
        if pulls_paused is not None:
            row.pulls_paused = pulls_paused
        row.reason = reason[:500]
        row.changed_at = timezone.now()
        row.changed_by = by[:100]
        row.save()
    return switch_state()
