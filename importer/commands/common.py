"""Click options and helpers shared by the commands that talk to Simkl."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from importer.auth import TOKEN_ENV, load_token
from importer.client import DEFAULT_API_URL, SimklClient
from importer.errors import AuthError, InputError

F = TypeVar("F", bound=Callable[..., Any])


def api_options(func: F) -> F:
    """Add --api-url and --client-id to a command."""
    func = click.option(
        "--client-id",
        envvar="SIMKL_CLIENT_ID",
        show_envvar=True,
        default=None,
        help="Simkl app client id (default on a loopback URL: the emulator's).",
    )(func)
    func = click.option(
        "--api-url",
        envvar="SIMKL_API_URL",
        show_envvar=True,
        default=DEFAULT_API_URL,
        show_default=True,
        help="Simkl API base URL; plain http:// only for 127.0.0.1 or localhost.",
    )(func)
    return func


def make_client(
    api_url: str,
    client_id: str | None,
    *,
    require_token: bool = True,
    **kwargs: Any,
) -> SimklClient:
    """Build a SimklClient with the stored token for `api_url`.

    Raises AuthError when `require_token` is set and no token is stored or
    given in the environment.
    """
    token = load_token(api_url)
    if require_token and not token:
        raise AuthError(
            f"not signed in to {api_url}. Run `simkl-import login` "
            f"(with the same --api-url) or set {TOKEN_ENV}."
        )
    return SimklClient(api_url, client_id, token, **kwargs)


def checked_output(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Check, before any work, that the output file `value` can be written.

    A click callback for options that name an output file ('-' is stdout).
    Raises InputError when the path is a folder, its folder is missing, or
    either one is not writable, so a run does not fail at its end.
    """
    if value is None or str(value) == "-":
        return value
    path = Path(value)
    folder = path.parent
    option = param.opts[0] if param.opts else param.name
    reason = None
    if path.is_dir():
        reason = "it is a folder"
    elif not folder.is_dir():
        reason = f"the folder {folder} does not exist"
    elif path.exists() and not os.access(path, os.W_OK):
        reason = "the file is not writable"
    elif not path.exists() and not os.access(folder, os.W_OK):
        reason = f"the folder {folder} is not writable"
    if reason is not None:
        raise InputError(
            f"cannot write {option} {value}: {reason}",
            hint="Pass a file path in an existing, writable folder.",
        )
    return value
