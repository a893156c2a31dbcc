"""A local emulator of the Simkl API endpoints that simkl-import uses.

It implements Simkl's history, rewatch-session and read-back rules, PIN
sign-in, account tiers, rate limits and injected faults, so that tests and
rehearsals never touch the real Simkl. docs/emulator.md describes it.
"""

from __future__ import annotations

from typing import Any

from importer.emulator.state import DEFAULT_CLIENT_ID, Emulator, EmulatorConfig

__all__ = ["DEFAULT_CLIENT_ID", "Emulator", "EmulatorConfig", "create_app"]


def create_app(config: EmulatorConfig | Emulator | None = None) -> Any:
    """Build the emulator's ASGI app (see `importer.emulator.app.create_app`).

    The import is deferred so that `DEFAULT_CLIENT_ID` costs no starlette import.
    """
    from importer.emulator.app import create_app as build

    return build(config)
