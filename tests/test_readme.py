"""The README's command table and options must match the real commands."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from importer.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _help(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_readme_command_exists():
    table = README.split("## Commands", 1)[1].split("\n\n", 2)[1]
    named = re.findall(r"`([a-z]+)(?: EXPORT\.\.\.)?`", table)
    assert named
    listed = set(cli.commands)
    for name in named:
        assert name in listed, f"README names `{name}`, which is not a command"


def test_every_command_is_in_readme():
    for name in cli.commands:
        assert f"`{name}" in README, f"command `{name}` is missing from the README"


def test_readme_options_exist_in_help():
    plan_help = _help("plan")
    for option in sorted(set(re.findall(r"`(--[a-z-]+)", README))):
        found = (
            any(option in _help(name) for name in cli.commands) or option in plan_help
        )
        assert found, f"README mentions {option}, which no command accepts"


def test_every_command_has_help_text():
    for name, command in cli.commands.items():
        assert command.help, f"command `{name}` has no help text"
