"""`simkl-import resolve`: match every row to a Simkl item and list the rest.

It reads the exports, matches rows through Simkl's search endpoints (no
sign-in needed) and writes a review CSV of the items it could not match or
matched only at low confidence. Fill in `simkl_id` (or imdb, tmdb, tvdb)
on the lines to fix and pass the file back with `--overrides`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from importer.client import SimklClient
from importer.commands.common import checked_output
from importer.pipeline import load_events
from importer.readers.base import ReadOptions
from importer.resolve import (
    Resolution,
    ResolveOptions,
    default_cache_path,
    load_overrides,
    resolve_events,
    write_review_csv,
)

# Unresolved items printed when no --output file is given.
MAX_PRINTED_LINES = 20


@click.command()
@click.argument("exports", nargs=-1, required=True, metavar="EXPORT...")
@click.option(
    "--format",
    "format_",
    metavar="F",
    help="Read every EXPORT as this format instead of detecting it.",
)
@click.option(
    "--mapping",
    metavar="M",
    help="Mapping file (TOML) or built-in mapping name for CSV/JSON exports.",
)
@click.option(
    "--api-url",
    envvar="SIMKL_API_URL",
    show_envvar=True,
    required=True,
    help="Simkl API base URL to search, e.g. http://127.0.0.1:PORT for the "
    "emulator; plain http:// only for 127.0.0.1 or localhost.",
)
@click.option(
    "--client-id",
    envvar="SIMKL_CLIENT_ID",
    show_envvar=True,
    help="Simkl app client id (default on a loopback URL: the emulator's).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    callback=checked_output,
    help="Write the review CSV (unmatched, ambiguous and low-confidence items) "
    "to this file.",
)
@click.option(
    "--overrides",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A filled-in review CSV whose simkl_id, imdb, tmdb or tvdb values win "
    "over every search.",
)
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file of cached search results (default: in the user's cache folder).",
)
@click.option("-q", "--quiet", is_flag=True, help="Hide progress on stderr.")
@click.option(
    "--refresh",
    is_flag=True,
    help="Send the searches again instead of using cached results.",
)
def resolve(**params: Any) -> None:
    """Match the rows of EXPORT... to Simkl items and report the rest."""
    overrides = load_overrides(params["overrides"]) if params["overrides"] else None
    prepared = load_events(
        params["exports"],
        format=params["format_"],
        mapping=params["mapping"],
        read_options=ReadOptions(),
    )
    cache_path = params["cache_path"] or default_cache_path()
    with (
        SimklClient(params["api_url"], params["client_id"]) as client,
        tqdm(
            desc="items",
            unit="item",
            file=sys.stderr,
            disable=params["quiet"] or not sys.stderr.isatty(),
            leave=False,
        ) as bar,
    ):

        def on_progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        options = ResolveOptions(cache_scope=client.api_url, refresh=params["refresh"])
        resolution = resolve_events(
            prepared.events,
            client,
            cache_path=cache_path,
            overrides=overrides,
            options=options,
            on_progress=on_progress,
        )
        requests = sum(client.request_counts.values())

    click.echo(render_summary(resolution, requests))
    output = params["output"]
    if output is not None:
        write_review_csv(resolution.review, output)
        click.echo(
            f"Review file: {output} ({resolution.review.height} lines). Fill in "
            "simkl_id, imdb, tmdb or tvdb and pass it back with --overrides."
        )
    elif resolution.review.height:
        click.echo(render_review(resolution))


def render_summary(resolution: Resolution, requests: int) -> str:
    """Return the per-source counts as text lines."""
    lines = []
    for source, counts in sorted(resolution.summary.items()):
        lines.append(
            f"{source}: {counts['matched']} matched, {counts['ambiguous']} ambiguous, "
            f"{counts['unmatched']} not found, "
            f"{counts['unplaced_episodes']} episode rows not placed"
        )
    low = resolution.matches.filter(resolution.matches["confidence"] == "low").height
    lines.append(f"{low} low-confidence matches; {requests} requests sent to Simkl")
    return "\n".join(lines)


def render_review(resolution: Resolution) -> str:
    """Return the first review lines as text, and how to get all of them."""
    lines = []
    for line in resolution.review.head(MAX_PRINTED_LINES).iter_rows(named=True):
        year = "" if line["year"] is None else f" ({line['year']})"
        where = f"{line['source_file']}, row {line['source_row']}"
        lines.append(
            f"{line['reason']}: {line['title']}{year} [{where}]: {line['detail']}"
        )
    hidden = resolution.review.height - MAX_PRINTED_LINES
    if hidden > 0:
        lines.append(f"... and {hidden} more; pass --output FILE to write them all")
    return "\n".join(lines)
