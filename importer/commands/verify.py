"""`simkl-import verify`: read the account back and compare it with the plan."""

from __future__ import annotations

import sys
from typing import Any

import click
import polars as pl

from importer.commands.common import api_options, checked_output, make_client
from importer.commands.planning import (
    load_with,
    plan_options,
    plan_options_from,
    read_options_from,
    resolve_with,
    stage_progress,
    with_params,
)
from importer.pipeline import plan_prepared
from importer.remote import read_account
from importer.report import dump_json
from importer.verify import VerifyResult, compare, render, result_document

# Skip reasons of rows the resolver could not match to one Simkl item.
UNMATCHED_REASONS = ("not_found", "ambiguous")


@click.command()
@plan_options
@api_options
@click.option(
    "--json",
    "json_path",
    metavar="PATH|-",
    callback=checked_output,
    help="Also write the differences as JSON to PATH, or to stdout with '-'.",
)
@with_params
def verify(params: dict[str, Any]) -> None:
    """Check that every viewing in EXPORT... is on Simkl exactly once.

    The exports are planned as for an empty account, with the same options
    as `plan`, and each planned viewing is looked up in the account. Exits 1
    when a viewing is missing or stored more than once within 48 hours.
    """
    read_options = read_options_from(params)
    with stage_progress(params["quiet"], stages=5) as on_stage:
        prepared = load_with(params, read_options, on_stage)
        with make_client(params["api_url"], params["client_id"]) as client:
            # The same matching as apply, so the intended viewings carry the
            # Simkl ids that apply wrote them under.
            resolve_with(prepared, client, params, on_stage)
            # A free account keeps no rewatches, so only canonical viewings
            # are expected there.
            rewatches = client.account_tier() != "free"
            options = plan_options_from(params, rewatches=rewatches)
            intended = plan_prepared(prepared, options=options, on_stage=on_stage)
            on_stage("read back")
            remote = read_account(client)

    result = compare(intended.writes, remote)
    unmatched = pl.col("reason").is_in(UNMATCHED_REASONS)
    result.unmatched = intended.skipped.filter(unmatched)
    _output(params["json_path"], result)
    if not result.ok:
        sys.exit(1)


def _output(json_path: str | None, result: VerifyResult) -> None:
    text = "\n".join(render(result))
    if json_path == "-":
        click.echo(text, err=True)
        dump_json(result_document(result), sys.stdout)
        return
    click.echo(text)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as stream:
            dump_json(result_document(result), stream)


def register(group: click.Group) -> None:
    """Add verify to `group`."""
    group.add_command(verify)
