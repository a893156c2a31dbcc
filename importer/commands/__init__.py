"""Registration of every CLI command. Each command lives in its own module."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add every command of the tool to `group`."""
    from importer.commands import auth

    auth.register(group)
    from importer.commands.plan import plan

    group.add_command(plan)
    from importer.commands import verify

    verify.register(group)
    from importer.commands.apply import apply

    group.add_command(apply)
    from importer.commands.resolve import resolve

    group.add_command(resolve)
    from importer.commands.emulator import emulator

    group.add_command(emulator)
