"""Anyone can find their way around the `tiendo` command."""

from __future__ import annotations

import pytest

from bot.cli import build_parser


def every_command() -> list[list[str]]:
    commands: list[list[str]] = []
    for name, parser in build_parser()._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
        commands.append([name])
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                commands += [[name, sub] for sub in action.choices]
    return commands


@pytest.mark.parametrize("command", [[], *every_command()], ids=lambda c: " ".join(c) or "tiendo")
def test_every_command_has_help(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")

    assert result.code == 0
    assert "usage: tiendo" in result.out


def test_an_unknown_command_is_a_usage_error(run_cli) -> None:
    result = run_cli("bay")

    assert result.code == 2
    assert "invalid choice" in result.err and "Traceback" not in result.err
