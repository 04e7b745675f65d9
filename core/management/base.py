"""The base of the project's management commands: flags declared from ``core.management.args``,
the progress bar every long command draws, and known failures turned into ``CommandError``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.management.args import Arg, OneOf
from core.observe.progress import Progress


class SharplineCommand(BaseCommand):
    """A command whose flags are ``arguments``: a command adds its own there, not in ``add_arguments``."""

    arguments: ClassVar[tuple[Arg | OneOf, ...]] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        for argument in self.arguments:
            argument.add_to(parser)

    def progress(self, desc: str, options: Mapping[str, Any], *, unit: str, every: int | None = None) -> Progress:
        """A bar on stderr (log lines when it is not a terminal); nothing with ``--json``,
        ``--no-progress`` or ``-v 0``."""
        quiet = options["verbosity"] == 0 or bool(options.get("json")) or bool(options.get("no_progress"))
        return Progress(desc, unit=unit, stream=self.stderr, disable=quiet, every=every)


@contextmanager
def command_errors(*kinds: type[Exception], say: Callable[[Exception], str] = str) -> Iterator[None]:
    """Turn the known failures ``kinds`` into ``CommandError(say(failure))``: its message, exit status 1."""
    try:
        yield
    except kinds as exc:
        raise CommandError(say(exc)) from exc
