"""`simkl-import emulator`: run the local Simkl emulator in the foreground."""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path

import click

from importer.emulator.faults import FaultPlan, FaultSpecError
from importer.emulator.state import DEFAULT_CLIENT_ID, Emulator, EmulatorConfig
from importer.emulator.testing import SAMPLE_CATALOG
from importer.errors import InputError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# A child of the emulator's logger, so the INFO level set for it applies.
logger = logging.getLogger("importer.emulator.command")


def _config(
    catalog: Path | None,
    auto_catalog: bool,
    tier: str,
    state: Path | None,
    faults: str | None,
    client_ids: tuple[str, ...],
    post_rate: float,
    get_rate: float,
    no_rate_limit: bool,
) -> EmulatorConfig:
    if faults:
        try:
            FaultPlan(faults)
        except FaultSpecError as error:
            raise InputError(
                str(error), value=faults, hint="See docs/emulator.md."
            ) from None
    if catalog is None and not auto_catalog and SAMPLE_CATALOG.exists():
        catalog = SAMPLE_CATALOG
    return EmulatorConfig(
        catalog=catalog,
        auto_catalog=auto_catalog,
        tier=tier,
        state_file=state,
        faults=faults,
        client_ids=client_ids or (DEFAULT_CLIENT_ID,),
        rate_limit=not no_rate_limit,
        post_rate=post_rate,
        get_rate=get_rate,
    )


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket; port 0 takes a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY, which avoids a delayed-ACK wait
    # on each small response.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise InputError(
            f"cannot listen on {host}:{port}: {error.strerror}",
            hint="Pick another --port, or 0 for a free one.",
        ) from None
    return listener


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; keep the loopback default.",
)
@click.option(
    "--port",
    default=8787,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on (0 picks a free one).",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Catalog JSON file (default: the sample catalog).",
)
@click.option(
    "--auto-catalog",
    is_flag=True,
    help="Accept any external id and give it a stable Simkl id.",
)
@click.option(
    "--tier",
    type=click.Choice(["free", "pro", "vip"]),
    default="pro",
    show_default=True,
    help="Account type; free makes rewatch writes no-ops.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file that keeps the account across restarts.",
)
@click.option(
    "--faults", help="Random faults, e.g. 'status=503@0.2,latency=0.3,seed=7'."
)
@click.option(
    "--client-id",
    "client_ids",
    multiple=True,
    help=f"Accepted client id (repeatable; default {DEFAULT_CLIENT_ID}).",
)
@click.option(
    "--post-rate",
    default=1.0,
    show_default=True,
    type=float,
    help="POST requests allowed per second per token.",
)
@click.option(
    "--get-rate",
    default=10.0,
    show_default=True,
    type=float,
    help="GET requests allowed per second per token.",
)
@click.option("--no-rate-limit", is_flag=True, help="Turn the rate limits off.")
def emulator(
    host: str,
    port: int,
    catalog: Path | None,
    auto_catalog: bool,
    tier: str,
    state: Path | None,
    faults: str | None,
    client_ids: tuple[str, ...],
    post_rate: float,
    get_rate: float,
    no_rate_limit: bool,
) -> None:
    """Run a local Simkl emulator to rehearse an import (Ctrl-C stops it)."""
    import uvicorn

    from importer.emulator.app import create_app

    config = _config(
        catalog,
        auto_catalog,
        tier,
        state,
        faults,
        client_ids,
        post_rate,
        get_rate,
        no_rate_limit,
    )
    try:
        state_holder = Emulator(config)
    except (ValueError, OSError) as error:
        raise InputError(f"cannot start the emulator: {error}") from None
    listener = _listen(host, port)
    port = listener.getsockname()[1]
    base_url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    config.public_url = base_url

    logging.getLogger("importer.emulator").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(message)s")
    if host not in LOOPBACK_HOSTS:
        click.echo(f"warning: {host} may be reachable from other machines", err=True)
    client_id = config.client_ids[0]
    click.echo(f"Simkl emulator at {base_url}  (client id: {client_id})")
    click.echo(
        f"Sign in: GET {base_url}/oauth/pin?client_id={client_id}, "
        f"then open {base_url}/pin?code=<user_code>"
    )
    server_config = uvicorn.Config(
        create_app(state_holder), log_level="warning", lifespan="off"
    )
    uvicorn.Server(server_config).run(sockets=[listener])
    logger.info("emulator at %s stopped", base_url)
