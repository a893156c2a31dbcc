"""The `simkl-import` command line: thin click commands over the core.

Each command parses options, calls one core function and renders its result.
Errors the tool raises on purpose become one line on stderr and an exit
status: 2 for bad input, 1 for a failed run. No traceback is shown.
"""

from __future__ import annotations

import logging
import sys

import click

from importer import __version__
from importer.errors import ImporterError


class ImporterGroup(click.Group):
    """A click group that turns ImporterError into a one-line message."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ImporterError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(
    cls=ImporterGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="simkl-import")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log each step and request to stderr."
)
def cli(verbose: bool) -> None:
    """Move a watch history from Trakt, Letterboxd, TV Time, IMDb or any
    CSV/JSON export into Simkl: every viewing once, on its date, with later
    viewings as rewatch sessions, and safe to run again."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _register_commands() -> None:
    from importer.commands import register

    register(cli)


_register_commands()


def main() -> None:
    """Run the command line (the `simkl-import` console script)."""
    cli(prog_name="simkl-import")


if __name__ == "__main__":
    main()
