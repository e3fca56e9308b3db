"""Every `jbl` command says what it does, in one style: a line in its group's `--help`, a
description atop its own, and help for each of its arguments. A command added without them
fails here."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import build_parser
from tests.test_cli_and_console import run_jbl


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None, argparse.ArgumentParser]]:
    """Every command under `parser`, at every depth: its path (`("merchant", "invite")`),
    its parser, its line in its group's help, and its group's parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            lines = {choice.dest: choice.help for choice in action._choices_actions}
            for name, command in action.choices.items():
                yield (*path, name), command, lines.get(name), parser
                yield from commands(command, (*path, name))


def written_as_help(line: str | None) -> bool:
    """One line, as argparse writes its own ("show this help message and exit")."""
    return bool(line) and line == line.strip() and "\n" not in line and line[0].islower()


def test_every_command_at_every_depth_has_a_help_line_and_a_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a terminal's width, the one argparse wraps at
    found = list(commands(build_parser()))
    paths = {path for path, *_ in found}
    # The walk reaches commands with no actions, actions, and actions made in loops.
    assert {("run",), ("db", "init"), ("merchant", "approve-claim"), ("curate", "unpin")} <= paths
    assert {("import", "products"), ("import", "template"), ("staff", "remove")} <= paths
    for path, command, line, group in found:
        named = " ".join(path)
        assert written_as_help(line), f"jbl {named}: its line in --help is {line!r}"
        assert line is not None and not line.endswith("."), named
        # On one line of its group's --help, not wrapped onto the next.
        assert line in group.format_help(), f"jbl {named}: {line!r} is wrapped"
        description = command.description or ""
        sentence = f"{line[0].upper()}{line[1:]}."
        assert description.startswith(sentence), f"jbl {named}: description {description!r}"


def test_every_argument_and_option_of_every_command_has_help() -> None:
    root = build_parser()
    parsers = [((), root), *((path, command) for path, command, *_ in commands(root))]
    checked = 0
    for path, parser in parsers:
        for action in parser._actions:
            where = f"jbl {' '.join(path)}: {action.metavar or action.dest}"
            assert action.help not in (None, argparse.SUPPRESS), f"{where} has no help"
            assert written_as_help(action.help), f"{where}: {action.help!r}"
            checked += 1
    assert checked > 60


def test_help_through_the_jbl_command_shows_each_action_and_what_it_does(tmp_path: Path) -> None:
    def helped(*args: str) -> str:
        result = run_jbl(
            *args,
            "--help",
            database_url="sqlite+aiosqlite:///unused.db",
            cwd=tmp_path,
            extra_env={"COLUMNS": "80"},
        )
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        return result.stdout

    merchant = helped("merchant")
    assert "{list," not in merchant
    assert "Manage merchants and the people who run them." in merchant
    for action, line in [
        ("list", "list merchants with their ids, areas and operators"),
        ("invite", "print a single-use code that makes someone an operator"),
        ("approve-claim", "approve a claim: the claimant runs the shop too"),
    ]:
        assert re.search(rf"^ +{action} +{re.escape(line)}$", merchant, re.MULTILINE), merchant
    assert re.search(
        r"^ +remove-operator\n +stop someone running a merchant's shop$", merchant, re.M
    )

    run = helped("run")
    assert "Run the channels, the outbox senders and the HTTP server. Telegram runs" in run

    friday_set = helped("friday", "set")
    assert "Choose a Friday's featured category and headline." in friday_set
    assert re.search(r"^ +date +the Friday, YYYY-MM-DD$", friday_set, re.MULTILINE)
    assert re.search(r"^ +--headline HEADLINE\n? +the broadcast's headline", friday_set, re.M)
    assert not (tmp_path / "unused.db").exists()  # help touches no database
