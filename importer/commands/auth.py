"""The `login`, `logout` and `whoami` commands."""

from __future__ import annotations

import click

from importer.auth import PinCode, delete_token, pin_login, save_token, token_path
from importer.client import tier_from_settings
from importer.commands.common import api_options, make_client


@click.command()
@api_options
def login(api_url: str, client_id: str | None) -> None:
    """Sign in to Simkl with a PIN and store the access token."""

    def show_code(pin: PinCode) -> None:
        if pin.expires_in >= 120:
            valid_for = f"{pin.expires_in / 60:.0f} min"
        else:
            valid_for = f"{pin.expires_in:.0f} s"
        click.echo(
            f"Open {pin.verification_url} and enter the code {pin.user_code} "
            f"(valid for {valid_for}). Waiting...",
            err=True,
        )

    with make_client(api_url, client_id, require_token=False) as client:
        token = pin_login(client, show_code)
        path = save_token(client.api_url, token, client.client_id)
    click.echo(f"Signed in. Token stored in {path}.", err=True)


@click.command()
@api_options
def logout(api_url: str, client_id: str | None) -> None:
    """Remove the stored access token of the API URL."""
    if delete_token(api_url):
        click.echo(f"Signed out: token removed from {token_path()}.", err=True)
    else:
        click.echo(f"Not signed in to {api_url}; nothing to remove.", err=True)


@click.command()
@api_options
def whoami(api_url: str, client_id: str | None) -> None:
    """Show the signed-in Simkl account and its tier (free, pro or vip)."""
    with make_client(api_url, client_id) as client:
        settings = client.settings()
    tier = tier_from_settings(settings)
    user = settings.get("user") or {}
    name = user.get("name") or "(no name)"
    click.echo(f"{name} ({tier})")


def register(group: click.Group) -> None:
    """Add login, logout and whoami to `group`."""
    for command in (login, logout, whoami):
        group.add_command(command)
