"""Click options and helpers shared by the commands that talk to Simkl."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from importer.auth import TOKEN_ENV, load_token
from importer.client import DEFAULT_API_URL, SimklClient
from importer.errors import AuthError

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
