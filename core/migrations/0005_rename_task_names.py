"""The tasks take their commands' names (one name per operation): ``bets.settle`` is now
``bets.settle_bets`` and ``bets.run_backtest`` ``bets.backtest``. Stored periodic tasks (the beat
schedule synced into django-celery-beat, and any an operator made in the admin) follow; reversed
on the way back. The old names stay registered as aliases for one release (betting/bets/tasks.py)."""

from django.db import migrations
from django.utils import timezone

RENAMED = {"bets.settle": "bets.settle_bets", "bets.run_backtest": "bets.backtest"}


def _rename(apps, renames):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    changed = sum(PeriodicTask.objects.filter(task=old).update(task=new) for old, new in renames.items())
    if changed:  # a running beat reloads its schedule when this stamp moves (update() sends no signal)
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def forward(apps, schema_editor):
    _rename(apps, RENAMED)


def backward(apps, schema_editor):
    _rename(apps, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_health_events"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
