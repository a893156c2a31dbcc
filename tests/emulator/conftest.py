"""Fixtures for the emulator tests: one server per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from importer.emulator.testing import RunningEmulator, running_emulator

from .support import CATALOG, Api


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[RunningEmulator]:
    with running_emulator(CATALOG, tier="pro", rate_limit=False) as running:
        yield running


@pytest.fixture
def emu(shared_emulator: RunningEmulator) -> RunningEmulator:
    """The shared emulator with a fresh pro account and no rate limit."""
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture(scope="session")
def http_client() -> Iterator[httpx.Client]:
    # One client for the session: building an httpx.Client loads the CA
    # bundle, which costs a few hundred milliseconds.
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def api(emu: RunningEmulator, http_client: httpx.Client) -> Api:
    """A client signed in to a fresh account of the shared emulator."""
    return Api(emu, emu.issue_token(), http_client)
