"""``sync_teams``: the old name of ``sync_reference``, kept as an alias for scripts that call it."""

from __future__ import annotations

from betting.games.management.commands.sync_reference import Command as SyncReference


class Command(SyncReference):
    help = "Alias of sync_reference (the old name): " + SyncReference.help
