"""The emulator's configuration and its shared state behind the HTTP layer.

`Emulator` contains the catalog, the account, PIN codes, the fault plan, the
rate limiter and the request log. The server thread and test code both use
it, so every change to the account happens under `Emulator.lock`.
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import string
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from importer.emulator.account import TIERS, Account, save_json_atomically
from importer.emulator.catalog import Catalog, load_catalog
from importer.emulator.faults import FaultPlan
from importer.emulator.payload import ApiFailure
from importer.emulator.ratelimit import RateLimiter
from importer.events import utc_now

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "simkl-import-local"
PIN_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class EmulatorConfig:
    """Settings of one emulator; `simkl-import emulator` options map onto these."""

    catalog: Mapping[str, Any] | str | Path | None = None
    auto_catalog: bool = False
    tier: str = "pro"
    state_file: Path | None = None
    faults: str | None = None
    fault_seed: int = 0
    client_ids: tuple[str, ...] = (DEFAULT_CLIENT_ID,)
    rate_limit: bool = True
    post_rate: float = 1.0
    get_rate: float = 10.0
    pin_expires_in: int = 900
    pin_interval: int = 5
    # Base of the sign-in page shown in PIN responses. The server sets it once
    # its port is bound.
    public_url: str = "http://127.0.0.1"


class RequestRecord(NamedTuple):
    """One request the emulator received, with the status it sent."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int


@dataclass
class PinCode:
    """A PIN sign-in in progress."""

    user_code: str
    expires_at: float
    access_token: str | None = None


@dataclass
class Emulator:
    """Shared state of a running emulator."""

    config: EmulatorConfig
    catalog: Catalog = field(init=False)
    account: Account = field(init=False)
    faults: FaultPlan = field(init=False)
    limiter: RateLimiter = field(init=False)
    requests: list[RequestRecord] = field(default_factory=list)
    pins: dict[str, PinCode] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        config = self.config
        if config.tier not in TIERS:
            raise ValueError(
                f"tier must be one of {', '.join(TIERS)}, got {config.tier!r}"
            )
        self.catalog = load_catalog(config.catalog, auto=config.auto_catalog)
        self.account = Account(tier=config.tier)
        self.faults = FaultPlan(config.faults, seed=config.fault_seed)
        self.limiter = RateLimiter(
            post_rate=config.post_rate,
            get_rate=config.get_rate,
            enabled=config.rate_limit,
        )
        if config.state_file is not None and Path(config.state_file).exists():
            self._load_state(Path(config.state_file))

    def reset(self, **changes: Any) -> None:
        """Start over with a fresh account, applying `changes` to the config.

        Tests use it to reuse one running server: the catalog, account, PIN
        codes, faults, rate windows and request log are all rebuilt.
        """
        with self.lock:
            for name, value in changes.items():
                if not hasattr(self.config, name):
                    raise TypeError(f"EmulatorConfig has no field {name!r}")
                setattr(self.config, name, value)
            self.requests.clear()
            self.pins.clear()
            self.__post_init__()

    # -- persistence --------------------------------------------------------

    def _load_state(self, path: Path) -> None:
        """Load a saved account; raise ValueError when the file is not one."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            self.catalog.restore_auto_items(raw.get("auto_items", []))
            self.account = Account.from_json(raw["account"])
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"state file {path} is not an emulator state ({error!r}); "
                "move it away to start with an empty account"
            ) from None
        # The tier option of this run wins over the saved one.
        self.account.tier = self.config.tier
        logger.info(
            "loaded emulator state from %s (%d items)", path, len(self.account.items)
        )

    def save(self) -> None:
        """Write the account to the state file, if there is one."""
        if self.config.state_file is None:
            return
        with self.lock:
            data = {
                "account": self.account.to_json(),
                "auto_items": self.catalog.auto_items_json(),
            }
            save_json_atomically(Path(self.config.state_file), data)

    # -- identification and tokens -----------------------------------------

    def check_client_id(self, client_id: str | None) -> None:
        if not client_id or client_id not in self.config.client_ids:
            raise ApiFailure(
                412, "client_id_failed", "Your client_id is wrong. Try another one"
            )

    def issue_token(self) -> str:
        """Sign the user in without a PIN; return a new access token."""
        token = secrets.token_hex(20)
        with self.lock:
            self.account.tokens.add(token)
        self.save()
        return token

    def check_token(self, authorization: str | None) -> str:
        """Return the bearer token of a request; raise 401 unless it is valid."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        with self.lock:
            valid = scheme.lower() == "bearer" and token in self.account.tokens
        if not valid:
            raise ApiFailure(
                401, "user_token_failed", "The access token is missing or invalid"
            )
        return token

    # -- PIN sign-in ---------------------------------------------------------

    def new_pin(self) -> dict[str, Any]:
        """Start a PIN sign-in; return Simkl's init shape."""
        with self.lock:
            code = "".join(secrets.choice(PIN_ALPHABET) for _ in range(6))
            expires_in = self.config.pin_expires_in
            self.pins[code] = PinCode(code, time.monotonic() + expires_in)
        url = f"{self.config.public_url}/pin"
        return {
            "result": "OK",
            "device_code": "DEVICE_CODE",
            "user_code": code,
            "verification_uri": url,
            "verification_url": url,
            "expires_in": expires_in,
            "interval": self.config.pin_interval,
        }

    def approve_pin(self, user_code: str) -> bool:
        """Approve a pending PIN as the user would; False if unknown or expired."""
        with self.lock:
            pin = self.pins.get(user_code.strip().upper())
            if pin is None or pin.expires_at <= time.monotonic():
                return False
            if pin.access_token is None:
                pin.access_token = secrets.token_hex(20)
                self.account.tokens.add(pin.access_token)
        self.save()
        return True

    def poll_pin(self, user_code: str) -> dict[str, Any]:
        """Return the PIN poll response: pending, approved (once), or a new code."""
        user_code = user_code.strip().upper()
        with self.lock:
            pin = self.pins.get(user_code)
            if pin is not None and pin.expires_at > time.monotonic():
                if pin.access_token is None:
                    return {"result": "KO", "message": "Authorization pending"}
                del self.pins[user_code]
                return {"result": "OK", "access_token": pin.access_token}
            self.pins.pop(user_code, None)
        # Simkl responds to a poll of an unknown, used or expired code with the
        # init shape of a brand-new code.
        return self.new_pin()

    # -- inspection -----------------------------------------------------------

    def record(self, record: RequestRecord) -> None:
        with self.lock:
            self.requests.append(record)

    def account_snapshot(self, token: str) -> dict[str, Any]:
        """Return a deep copy of the account's JSON form, for test asserts."""
        with self.lock:
            if token not in self.account.tokens:
                raise KeyError("unknown access token")
            return copy.deepcopy(self.account.to_json())

    def now(self) -> datetime:
        """Return the clock an omitted `watched_at` defaults to.

        SIMKL_IMPORT_NOW pins it, as it pins the importer's clock.
        """
        return utc_now()
