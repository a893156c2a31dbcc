"""Shared pytest fixtures. Add new fixtures at the end of this file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.emulator.testing import RunningEmulator, running_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A Simkl emulator with the sample catalog, pro tier and no rate limit."""
    with running_emulator(tier="pro", rate_limit=False) as emu:
        yield emu
