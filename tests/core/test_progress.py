"""Progress of long commands: a bar on a terminal, a few short log lines on a pipe or a file."""

from __future__ import annotations

import io
import logging

import pytest

from core.observe.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_it_logs_about_ten_short_lines_and_writes_nothing_raw(caplog):
    stream = io.StringIO()
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    with Progress("backtest", total=100_000, unit="days", stream=stream) as bar:
        for _ in range(100_000):
            bar.update(1)
    lines = [r.getMessage() for r in caplog.records if r.name == "sharpline.progress"]
    assert stream.getvalue() == ""  # no carriage-return redraws piling up in a log file
    assert 5 <= len(lines) <= 11
    assert all(len(line) < 200 for line in lines)
    assert lines[-1].startswith("backtest: 100,000/100,000 days (100%)")


def test_a_slow_job_logs_every_m_seconds_even_between_item_steps(caplog):
    clock = Clock()
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    bar = Progress("evaluate", total=1000, unit="days", stream=io.StringIO(), seconds=30, clock=clock)
    bar.update(1)
    clock.now = 10
    bar.update(1)
    assert not caplog.records  # 2 of 1000 items, 10 s: too early
    clock.now = 31
    bar.update(1)
    assert [r.getMessage() for r in caplog.records] == ["evaluate: 3/1,000 days (0%), 31 s"]


def test_the_callback_style_and_a_long_note_stay_one_short_line(caplog):
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    bar = Progress("backtest", unit="days", stream=io.StringIO(), every=1)
    bar(1, 212, "x" * 10_000)
    bar(2, 212, "2017-10-18: predicted")
    bar.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("\r" not in line and len(line) < 150 for line in lines)
    assert lines[-1].endswith("2/212 days (1%), 0 s, 2017-10-18: predicted")


def test_disabled_says_nothing_anywhere(caplog):
    stream = Terminal()
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    with Progress("quiet", total=10, stream=stream, disable=True) as bar:
        for _ in range(10):
            bar.update(1)
    assert stream.getvalue() == "" and not caplog.records


def test_on_a_terminal_it_draws_a_bar_instead_of_logging(caplog):
    stream = Terminal()
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    with Progress("import", total=50, unit="games", stream=stream) as bar:
        bar.reset(total=50)
        for _ in range(50):
            bar.update(1)
    assert "import" in stream.getvalue() and not caplog.records


@pytest.mark.django_db
def test_a_backtest_on_a_pipe_leaves_a_short_log(reference, capsys, caplog):
    """The demo's backtest once wrote one 34,000-character line into its log (tqdm on a pipe)."""
    from django.core.management import call_command

    from tests.conftest import NBA_SBR

    call_command(
        "import_history", "--league", "NBA", "--format", "sbr", str(NBA_SBR / "nba_odds_2010-11.csv"), "--no-progress"
    )
    caplog.set_level(logging.INFO, logger="sharpline.progress")
    err = io.StringIO()
    call_command(
        "backtest", "--league", "NBA", "--from", "2011-03-01", "--to", "2011-03-20", stdout=io.StringIO(), stderr=err
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "sharpline.progress"]
    assert "\r" not in err.getvalue() and len(err.getvalue()) < 2000
    assert 1 <= len(lines) <= 12 and all(len(line) < 200 for line in lines)
    assert lines[-1].startswith("backtest: ") and "(100%)" in lines[-1]
