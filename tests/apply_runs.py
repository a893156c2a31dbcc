"""Helpers that run `simkl-import apply` against an emulator in tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from importer.cli import cli
from importer.emulator.testing import RunningEmulator

# The folders where the tool keeps its token, match cache and journal.
USER_DIRS = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


def user_dirs(folder: Path) -> dict[str, str]:
    """Return the user folder variables that point inside `folder`."""
    return {name: str(folder / name.lower()) for name in USER_DIRS}


def isolate_user_dirs(patch: pytest.MonkeyPatch, folder: Path) -> None:
    """Keep the token, cache and state files of a run inside `folder`."""
    for name, value in user_dirs(folder).items():
        patch.setenv(name, value)


def run_apply(
    emu: RunningEmulator,
    token: str,
    export: Path,
    journal: Path,
    *extra: str,
    now: str,
) -> Result:
    """Run `simkl-import apply` in this process at `now`; return the result."""
    args = apply_args(emu, export, journal, *extra)
    env = {"SIMKL_ACCESS_TOKEN": token, "SIMKL_IMPORT_NOW": now}
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def apply_args(
    emu: RunningEmulator, export: Path, journal: Path, *extra: str
) -> list[str]:
    """Return the arguments of an unattended apply of `export` to `emu`."""
    return [
        "apply",
        str(export),
        "--timezone",
        "UTC",
        "--api-url",
        emu.base_url,
        "--journal",
        str(journal),
        "--max-rate",
        "1000",
        "--yes",
        *extra,
    ]
