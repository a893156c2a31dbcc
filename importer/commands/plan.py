"""`simkl-import plan`: the dry run. Reads, validates and plans; writes nothing."""

from __future__ import annotations

import sys
from typing import Any

import click

from importer.commands.common import checked_output, make_client
from importer.commands.planning import (
    load_with,
    plan_options,
    plan_options_from,
    read_options_from,
    recorded_options,
    resolve_with,
    stage_progress,
    with_params,
)
from importer.pipeline import plan_prepared
from importer.report import dump_json, plan_document, render_summary


@click.command()
@plan_options
@click.option(
    "--api-url",
    envvar="SIMKL_API_URL",
    show_envvar=True,
    help="Simkl API to match items through (search needs no sign-in); "
    "without it, plan matches offline by the ids in the export.",
)
@click.option(
    "--client-id",
    envvar="SIMKL_CLIENT_ID",
    show_envvar=True,
    help="Simkl app client id (default on a loopback URL: the emulator's).",
)
@click.option(
    "--json",
    "json_path",
    metavar="PATH|-",
    callback=checked_output,
    help="Also write the machine-readable plan to PATH, or to stdout with '-'.",
)
@with_params
def plan(params: dict[str, Any]) -> None:
    """Show what an import of EXPORT... would write to Simkl, without writing.

    EXPORT is a file, a ZIP or a folder: Letterboxd, Trakt, or a CSV/JSON
    export described by a mapping in mappings/.
    """
    read_options = read_options_from(params)
    options = plan_options_from(params)
    with stage_progress(params["quiet"], stages=4) as on_stage:
        prepared = load_with(params, read_options, on_stage)
        if params["api_url"]:
            with make_client(
                params["api_url"], params["client_id"], require_token=False
            ) as client:
                resolve_with(prepared, client, params, on_stage)
        else:
            resolve_with(prepared, None, params, on_stage)
        result = plan_prepared(prepared, options=options, on_stage=on_stage)

    json_path = params["json_path"]
    summary = render_summary(prepared, result)
    document = plan_document(prepared, result, recorded_options(read_options, options))
    if json_path == "-":
        click.echo(summary, err=True)
        dump_json(document, sys.stdout)
        return
    click.echo(summary)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as stream:
            dump_json(document, stream)
        click.echo(f"Plan written to {json_path}", err=True)
