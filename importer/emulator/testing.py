"""Run the Simkl emulator inside a test, on 127.0.0.1 with a free port.

Usage::

    from importer.emulator.testing import running_emulator

    with running_emulator(catalog=dict_or_path, tier="pro", rate_limit=False,
                          auto_catalog=False, state_file=None) as emu:
        emu.base_url             # "http://127.0.0.1:PORT"
        emu.client_id            # accepted client id ("simkl-import-local")
        token = emu.issue_token()           # a signed-in user's token, no PIN
        emu.approve_pin(user_code)          # approve a PIN as the user would
        emu.faults.script([Fault.respond(503), Fault.apply_then_drop()])
        emu.requests             # list of RequestRecord(method, path, query,
                                 #   json, status), oldest first
        emu.account(token)       # the server-side account state, a dict
        emu.reset(tier="free")   # fresh account, start-up settings + changes

`catalog=None` loads `sample_data/catalog.json` of this repository when it
exists, else an empty catalog. Other keyword arguments set fields of
`EmulatorConfig` (for example `post_rate`, `pin_expires_in`, `faults`).
Scripted faults are `importer.emulator.faults.Fault` values or spec strings
such as "status=503" and "apply-then-500"; each matching request takes the
next one. docs/emulator.md describes every endpoint and response shape.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from importer.emulator.app import create_app
from importer.emulator.faults import Fault, FaultPlan
from importer.emulator.middleware import DroppedConnection
from importer.emulator.state import Emulator, EmulatorConfig, RequestRecord

__all__ = ["Fault", "RunningEmulator", "running_emulator", "RequestRecord"]

SAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "sample_data" / "catalog.json"
START_TIMEOUT_S = 10.0


class _QuietDrops(logging.Filter):
    """Hide uvicorn's traceback for connections the fault injector drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


_DROP_FILTER = _QuietDrops()
logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)


class BackgroundServer:
    """uvicorn serving an app on 127.0.0.1 from a daemon thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit TCP_NODELAY; without it each small response
        # waits about 40 ms for a delayed ACK.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.port = self._socket.getsockname()[1]
        self.host = host
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"simkl-emulator-{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator server thread exited during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start in time")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()


class RunningEmulator:
    """Handle that tests use to drive a running emulator and inspect it."""

    def __init__(self, emulator: Emulator, base_url: str) -> None:
        self.emulator = emulator
        self.base_url = base_url
        self._started_with = dataclasses.replace(emulator.config)

    @property
    def client_id(self) -> str:
        return self.emulator.config.client_ids[0]

    @property
    def faults(self) -> FaultPlan:
        return self.emulator.faults

    @property
    def requests(self) -> list[RequestRecord]:
        with self.emulator.lock:
            return list(self.emulator.requests)

    def issue_token(self) -> str:
        return self.emulator.issue_token()

    def approve_pin(self, user_code: str) -> bool:
        return self.emulator.approve_pin(user_code)

    def account(self, token: str) -> dict[str, Any]:
        """Return the account as stored (see `Account.to_json`) for asserts."""
        return self.emulator.account_snapshot(token)

    def set_tier(self, tier: str) -> None:
        """Change the account type (free, pro or vip) of the running account."""
        with self.emulator.lock:
            self.emulator.account.tier = tier

    def reset(self, **changes: Any) -> None:
        """Start over with a fresh account and the settings it started with.

        `changes` then set `EmulatorConfig` fields, e.g. `emu.reset(tier="free")`.
        This lets a test session reuse one server instead of starting one per
        test.
        """
        settings = {
            field.name: getattr(self._started_with, field.name)
            for field in dataclasses.fields(self._started_with)
            if field.name != "public_url"
        }
        settings.update(changes)
        self.emulator.reset(**settings)


@contextmanager
def running_emulator(
    catalog: Mapping[str, Any] | str | Path | None = None,
    *,
    tier: str = "pro",
    rate_limit: bool = False,
    auto_catalog: bool = False,
    state_file: str | Path | None = None,
    **options: Any,
) -> Iterator[RunningEmulator]:
    """Start an emulator on a free loopback port; stop it on exit."""
    if catalog is None and SAMPLE_CATALOG.exists():
        catalog = SAMPLE_CATALOG
    config = EmulatorConfig(
        catalog=catalog,
        tier=tier,
        rate_limit=rate_limit,
        auto_catalog=auto_catalog,
        state_file=Path(state_file) if state_file is not None else None,
        **options,
    )
    emulator = Emulator(config)
    server = BackgroundServer(create_app(emulator))
    config.public_url = server.base_url
    server.start()
    try:
        yield RunningEmulator(emulator, server.base_url)
    finally:
        server.stop()
