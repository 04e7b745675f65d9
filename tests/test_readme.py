"""The README cannot drift from the code.

- Every ```console block is run: each ``$ python manage.py ...`` line in order, in one test
  database (built here from a slice of the bundled data, as the block itself does), each must
  succeed (no ``CommandError``, exit status 0) and print the lines shown under it, in order. In a
  shown line ``...`` stands for any text; a shown line that is only ``...`` stands for lines left
  out. A block preceded by ``<!-- readme-test: skip REASON -->`` is skipped with that reason
  (network, a server): visible in the test report.
- Every other ``manage.py`` line in a fenced block must name a command that exists, with options
  its parser accepts (``[...]`` is the README's notation for an optional part and is dropped; shell
  redirections and comments too). Nothing is run, so a command that needs the network or a server
  is checked all the same.
- Every ``make X`` in a fenced block names a target of the Makefile.
- The figures block (``make figures``) is there and was generated, not typed.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s+(.+?)\s*-->")
MANAGE = re.compile(r"(?:^|\s)(?:\S*python\S*\s+)?(?:\./)?manage\.py\s+(.*)$")
MAKE = re.compile(r"^\s*make\s+([\w-]+)")


@dataclass
class Block:
    language: str
    line: int  # where it starts in the README, for messages
    text: list[str] = field(default_factory=list)
    skip: str = ""


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    current: Block | None = None
    skip = ""
    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if current is None and fence:
            current = Block(fence.group(1), number, skip=skip)
            skip = ""
        elif current is not None and line.startswith("```"):
            found.append(current)
            current = None
        elif current is not None:
            current.text.append(line)
        elif line.strip():
            marker = SKIP.search(line)
            skip = marker.group(1) if marker else ""
    return found


@dataclass
class Step:
    command: str
    shown: list[str]


def steps(block: Block) -> list[Step]:
    out: list[Step] = []
    for line in block.text:
        if line.startswith("$ "):
            out.append(Step(line[2:].strip(), []))
        elif out:
            out[-1].shown.append(line.rstrip())
    return out


def manage_args(command: str) -> list[str] | None:
    """The arguments after ``manage.py`` (``None`` when the line is not a manage.py call)."""
    match = MANAGE.search(command)
    if not match:
        return None
    rest = re.sub(r"\[[^\]]*\]", " ", match.group(1))  # [--optional parts]
    words = shlex.split(rest, comments=True)
    kept: list[str] = []
    for word in words:
        if word in ("<", ">", "|", "&&", ";", "2>&1") or word.startswith(("<", ">")):
            break  # a redirection or the next shell command
        kept.append(word)
    return kept


def _pattern(shown: str) -> re.Pattern[str]:
    parts = [re.escape(" ".join(part.split())) for part in shown.split("...")]
    return re.compile("^" + ".*".join(parts) + "$")


def missing_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines not found, in order, among the output's lines (whitespace runs collapsed)."""
    lines = [" ".join(line.split()) for line in output.splitlines()]
    position, missing = 0, []
    for wanted in shown:
        if not wanted.strip() or wanted.strip() == "...":
            continue
        pattern = _pattern(wanted.strip())
        for index in range(position, len(lines)):
            if pattern.match(lines[index]):
                position = index + 1
                break
        else:
            missing.append(wanted)
    return missing


README_BLOCKS = blocks(README.read_text(encoding="utf-8"))
CONSOLE = [b for b in README_BLOCKS if b.language == "console"]
OTHER_MANAGE = [
    (block.line, line.strip(), args)
    for block in README_BLOCKS
    if block.language != "console"
    for line in block.text
    if (args := manage_args(line))
]
MAKE_TARGETS = sorted(
    {
        (match.group(1), block.line)
        for block in README_BLOCKS
        for line in block.text
        if (match := MAKE.match(line.split("#", 1)[0]))
    }
)


def test_the_readme_has_examples_to_check():
    assert CONSOLE, "no ```console block in README.md: the examples would go unchecked"
    assert OTHER_MANAGE and MAKE_TARGETS


@pytest.mark.django_db
@pytest.mark.parametrize("block", CONSOLE, ids=[f"README.md:{b.line}" for b in CONSOLE])
def test_console_examples_run_and_print_what_the_readme_shows(block, monkeypatch):
    if block.skip:
        pytest.skip(f"README.md:{block.line}: {block.skip}")
    monkeypatch.chdir(ROOT)  # the examples name files relative to the checkout
    for step in steps(block):
        args = manage_args(step.command)
        assert args, f"README.md:{block.line}: not a manage.py command: {step.command!r}"
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except SystemExit as exc:  # argparse
            pytest.fail(f"`{step.command}` exited with status {exc.code}: {err.getvalue()[-2000:]}")
        output = out.getvalue() + err.getvalue()
        missing = missing_lines(step.shown, output)
        assert not missing, (
            f"README.md:{block.line}: `{step.command}` did not print\n  "
            + "\n  ".join(missing)
            + f"\nit printed:\n{output[-3000:]}"
        )


@pytest.mark.parametrize("line, command, args", OTHER_MANAGE, ids=[c for _, c, _ in OTHER_MANAGE])
def test_every_other_manage_py_line_names_a_command_and_options_that_exist(line, command, args):
    name, rest = args[0], args[1:]
    commands = get_commands()
    assert name in commands, f"README.md:{line}: no command {name!r} ({command})"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    parser.parse_args(rest)  # CommandError on an unknown option or a missing required one


@pytest.mark.parametrize("target, line", MAKE_TARGETS, ids=[t for t, _ in MAKE_TARGETS])
def test_every_make_target_in_the_readme_exists(target, line):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"README.md:{line}: no `make {target}`"


def test_the_figures_block_is_generated_not_typed():
    from bench.figures import BEGIN, END, HEADER

    text = README.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "README.md needs one figures block (make figures)"
    inside = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert inside.strip().startswith(HEADER), "the figures block was edited by hand: run `make figures`"
    assert "| NBA |" in inside or "NBA" in inside


def test_the_matcher_can_fail():
    assert missing_lines(["Total: ... imported"], "Total: 2 file(s) imported\n") == []
    assert missing_lines(["a", "b"], "b\na\n") == ["b"]  # order matters
    assert missing_lines(["games 1308 created"], "games 1309 created\n") == ["games 1308 created"]
    assert manage_args(".venv/bin/python manage.py set_api_key --provider odds_api < keyfile # or a pipe") == [
        "set_api_key",
        "--provider",
        "odds_api",
    ]
    assert manage_args("python manage.py restore DIR --yes [--flush]") == ["restore", "DIR", "--yes"]


def test_the_generator_rewrites_only_its_block():
    from bench.figures import BACKTESTS, BEGIN, END, EVALUATIONS, HEADER, render, rewrite

    evaluation = {"n_games": 1312, "chosen": {"family": "line"}}
    evaluation |= {k: {"log_loss": 0.6} for k in ("model", "baseline", "elo", "market")}
    backtest = {"n_bets": 0, "staked": 0.0, "profit": 0.0, "roi": 0.0, "max_drawdown": 0.0, "games_priced": 1312}
    block = render(
        evaluations=[(EVALUATIONS[0], evaluation)],
        backtests=[(BACKTESTS[0], backtest)],
        facts={"when": "2026-12-01", "code": "abc", "games": 10, "quotes": 20},
    )
    assert block.startswith(HEADER) and "| NBA h2h 2017-18 | 1,312 | 0.6000 |" in block
    assert "nothing is bet" in block
    text = f"before\n{BEGIN}\nold figures\n{END}\nafter\n"
    assert rewrite(text, block) == f"before\n{BEGIN}\n{block}\n{END}\nafter\n"
    with pytest.raises(ValueError):
        rewrite("no markers", block)
