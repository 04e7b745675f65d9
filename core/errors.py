"""The one base of the project's errors.

Pure: imports nothing, so the Django-free modules (``pricing``, ``elo``, the providers' parsers...)
may derive their errors from it too (tests/test_architecture.py allows exactly ``core.errors`` there).
"""

from __future__ import annotations


class SharplineError(Exception):
    """The base of every error the project raises on purpose; callers catch it.

    Each domain error keeps its own meaning below it (``ProviderError``, ``PullError``,
    ``BetError``...) and, where it has one, its builtin kind as a second base (``ParseError`` is
    also a ``ValueError``, ``UnknownTeam`` a ``LookupError``), so existing ``except`` clauses still
    match. Catch a specific class where the handling differs; catch ``SharplineError`` where the
    meaning is "any known, reported failure" as opposed to a bug.
    """
