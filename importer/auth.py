"""Simkl sign-in: the PIN flow and the stored access token.

The token file is `token.json` in the user's config directory (platformdirs,
or the directory in SIMKL_IMPORT_CONFIG_DIR). It maps each API URL to its
token, so an emulator token is not sent to the real API. The file is created
with mode 0600 in a directory with mode 0700. The environment variable
SIMKL_ACCESS_TOKEN, when set, overrides the file for every API URL.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from importer.client import SimklClient
from importer.errors import AuthError, InputError

logger = logging.getLogger(__name__)

CONFIG_DIR_ENV = "SIMKL_IMPORT_CONFIG_DIR"
TOKEN_ENV = "SIMKL_ACCESS_TOKEN"
TOKEN_FILE = "token.json"

# Defaults Simkl documents for the PIN flow, used when a response omits them.
DEFAULT_PIN_INTERVAL = 5.0
DEFAULT_PIN_EXPIRES_IN = 900.0
DEFAULT_VERIFICATION_URL = "https://simkl.com/pin"

# Extra seconds added to the poll interval when Simkl replies "Slow down".
SLOW_DOWN_STEP = 5.0


def config_dir() -> Path:
    """Return the directory of the token file (not created here)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("simkl-import", appauthor=False))


def token_path() -> Path:
    """Return the path of the token file."""
    return config_dir() / TOKEN_FILE


def _read_tokens(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(
            f"unreadable token file: {error}",
            file=str(path),
            hint="Delete it with `simkl-import logout` and sign in again.",
        ) from None
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, dict):
        raise InputError(
            "invalid token file: missing the `tokens` object.",
            file=str(path),
            hint="Delete it with `simkl-import logout` and sign in again.",
        )
    return tokens


def _write_tokens(path: Path, tokens: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"tokens": tokens}, handle, indent=2, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def load_token(api_url: str) -> str | None:
    """Return the access token for `api_url`: env override, else the file."""
    from_env = os.environ.get(TOKEN_ENV)
    if from_env:
        return from_env
    entry = _read_tokens(token_path()).get(_key(api_url))
    if isinstance(entry, dict) and entry.get("access_token"):
        return str(entry["access_token"])
    return None


def save_token(api_url: str, token: str, client_id: str) -> Path:
    """Store `token` for `api_url` in the token file and return its path."""
    path = token_path()
    tokens = _read_tokens(path)
    tokens[_key(api_url)] = {
        "access_token": token,
        "client_id": client_id,
        "saved_at": int(time.time()),
    }
    _write_tokens(path, tokens)
    return path


def delete_token(api_url: str) -> bool:
    """Remove the token of `api_url`; return whether there was one.

    The file itself is deleted when no token remains in it.
    """
    path = token_path()
    if not path.exists():
        return False
    try:
        tokens = _read_tokens(path)
    except InputError:
        # A corrupt file contains no usable token, so logging out removes it.
        path.unlink()
        return True
    removed = tokens.pop(_key(api_url), None) is not None
    if tokens:
        _write_tokens(path, tokens)
    else:
        path.unlink()
    return removed


def _key(api_url: str) -> str:
    return str(httpx.URL(api_url)).rstrip("/")


@dataclass(frozen=True)
class PinCode:
    """A PIN the user types at the verification URL, and its poll timing."""

    user_code: str
    verification_url: str
    interval: float
    expires_in: float


def request_pin(client: SimklClient) -> PinCode:
    """Start the PIN flow with GET /oauth/pin."""
    body = client.get("/oauth/pin")
    if not isinstance(body, dict) or not body.get("user_code"):
        raise AuthError(f"unexpected /oauth/pin response: {body!r}")
    url = body.get("verification_url") or body.get("verification_uri")
    return PinCode(
        user_code=str(body["user_code"]),
        verification_url=str(url or DEFAULT_VERIFICATION_URL),
        interval=float(body.get("interval") or DEFAULT_PIN_INTERVAL),
        expires_in=float(body.get("expires_in") or DEFAULT_PIN_EXPIRES_IN),
    )


def wait_for_token(
    client: SimklClient,
    pin: PinCode,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll GET /oauth/pin/{code} every interval until approved or expired."""
    deadline = clock() + pin.expires_in
    interval = pin.interval
    while clock() + interval <= deadline:
        sleep(interval)
        body = client.get(f"/oauth/pin/{pin.user_code}")
        if not isinstance(body, dict):
            raise AuthError(f"unexpected PIN poll response: {body!r}")
        # Polling a used or expired code starts a new PIN flow, so a response
        # with `device_code` means this code is gone.
        if "device_code" in body:
            raise AuthError(
                f"PIN code {pin.user_code} expired or was already used. "
                "Run `simkl-import login` again."
            )
        if body.get("result") == "OK" and body.get("access_token"):
            return str(body["access_token"])
        if str(body.get("message", "")).lower() == "slow down":
            interval += SLOW_DOWN_STEP
        logger.debug("PIN %s not approved yet", pin.user_code)
    raise AuthError(
        f"PIN code {pin.user_code} timed out after {pin.expires_in:.0f} s "
        "without approval. Run `simkl-import login` again."
    )


def pin_login(
    client: SimklClient,
    on_code: Callable[[PinCode], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Run the whole PIN flow and return the access token (not stored)."""
    pin = request_pin(client)
    on_code(pin)
    return wait_for_token(client, pin, sleep=sleep, clock=clock)
