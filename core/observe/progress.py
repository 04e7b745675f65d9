"""Progress of long commands: a tqdm bar on a terminal, a few log lines anywhere else.

tqdm redraws its bar with a carriage return and no newline, so on a pipe or a file (``make demo >
log``, a container's log) every redraw piles up on one line: a backtest left a line of 34,000
characters. Off a terminal ``Progress`` draws nothing and instead logs one ordinary line (logger
``sharpline.progress``) every ``every`` items or every ``seconds`` seconds, whichever comes first,
and one at the end: a few short lines whatever the number of items.

One object serves both styles the services use: a bar (``reset(total)``, ``update(n)``,
``close()``, the ``games.ingest.common.Progress`` protocol) and a callback ``progress(done, total,
note)`` (backtests, evaluations).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Never

from tqdm import tqdm

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

logger = logging.getLogger("sharpline.progress")

DEFAULT_SECONDS = 30.0  # off a terminal, at least one line this often while items arrive
DEFAULT_LINES = 10  # ...and about this many over a known total
NOTE_CHARS = 80  # a note longer than this is cut: a log line stays a line


def is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


class Progress:
    """Progress over ``total`` items (``None``: not known yet), named ``desc``.

    ``stream``: where a bar is drawn, if it is a terminal (default stderr). ``disable``: nothing at
    all (``--json``, ``-v 0``, ``--no-progress``). ``every``: items between two log lines (default:
    a tenth of the total, or 1,000 while the total is unknown); ``seconds``: the longest silence."""

    def __init__(
        self,
        desc: str,
        *,
        total: int | None = None,
        unit: str = "it",
        stream: SupportsWrite[str] | None = None,
        disable: bool = False,
        every: int | None = None,
        seconds: float = DEFAULT_SECONDS,
        log: logging.Logger = logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desc, self.unit, self.total = desc, unit, total
        self.n = 0
        self.note = ""
        self.disable = disable
        self._every, self._seconds, self._log, self._clock = every, seconds, log, clock
        self._started = self._last_time = clock()
        self._last_n = 0
        self._closed = False
        stream = sys.stderr if stream is None else stream
        self._bar: tqdm[Never] | None = None  # fed by update(), over no iterable
        if not disable and is_terminal(stream):
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=stream, leave=False, dynamic_ncols=True)

    # --- the bar style ---------------------------------------------------------------------------

    def reset(self, total: int | None = None) -> None:
        """Start over (a new file, a new phase) with a new total."""
        self.total, self.n, self._last_n = total, 0, 0
        self._started = self._last_time = self._clock()
        self._closed = False
        if self._bar is not None:
            self._bar.reset(total=total)

    def update(self, n: float | None = 1) -> bool | None:
        self.n += int(n or 0)
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._maybe_log()
        return None

    def set_note(self, note: str) -> None:
        self.note = note[:NOTE_CHARS]
        if self._bar is not None:
            self._bar.set_postfix_str(self.note, refresh=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif not self.disable and self.n > self._last_n:
            self._emit()

    # --- the callback style ----------------------------------------------------------------------

    def __call__(self, done: int, total: int | None = None, note: str = "") -> None:
        """``progress(done, total, note)``: ``done`` items of ``total`` so far."""
        if total is not None and total != self.total:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
        if note:
            self.set_note(note)
        if done > self.n:
            self.update(done - self.n)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- off a terminal --------------------------------------------------------------------------

    def _step(self) -> int:
        if self._every:
            return self._every
        if self.total:
            return max(1, math.ceil(self.total / DEFAULT_LINES))
        return 1000

    def _maybe_log(self) -> None:
        if self.disable:
            return
        now = self._clock()
        if self.n - self._last_n >= self._step() or now - self._last_time >= self._seconds:
            self._emit(now)

    def _emit(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        self._last_n, self._last_time = self.n, now
        elapsed = now - self._started
        if self.total:
            share = f" ({self.n / self.total:.0%})"
            done = f"{self.n:,}/{self.total:,}"
        else:
            share, done = "", f"{self.n:,}"
        note = f", {self.note}" if self.note else ""
        self._log.info("%s: %s %s%s, %.0f s%s", self.desc, done, self.unit, share, elapsed, note)
