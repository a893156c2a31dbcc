"""Shared pytest fixtures. Add new fixtures at the end of this file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.emulator.testing import RunningEmulator, running_emulator


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[RunningEmulator]:
    with running_emulator(tier="pro", rate_limit=False) as emu:
        yield emu


@pytest.fixture
def emulator(_emulator_server: RunningEmulator) -> RunningEmulator:
    """A Simkl emulator with the sample catalog, pro tier and no rate limit.

    One server serves the whole test session; each test gets a fresh account,
    an empty request log and no faults.
    """
    _emulator_server.reset()
    return _emulator_server
