"""Options shared by every command that reads exports and plans them."""

from __future__ import annotations

import functools
import sys
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from tqdm import tqdm

from importer.dates import local_zone_name
from importer.errors import InputError
from importer.events import utc_now
from importer.pipeline import Prepared, load_events, resolve_prepared
from importer.plan import PlanOptions
from importer.readers.base import ReadOptions


def plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the export arguments and the read and plan options to `command`."""
    decorators = [
        click.argument("exports", nargs=-1, required=True, metavar="EXPORT..."),
        click.option(
            "--format",
            "format_",
            metavar="F",
            help="Read every EXPORT as this format instead of detecting it.",
        ),
        click.option(
            "--mapping",
            metavar="M",
            help="Mapping file (TOML) or built-in mapping name for CSV/JSON exports.",
        ),
        click.option(
            "--timezone",
            metavar="TZ",
            help="IANA zone of dates that have a time but no zone "
            "(default: this machine's zone).",
        ),
        click.option(
            "--date-anchor",
            type=click.Choice(["utc-noon", "local-noon"]),
            default="utc-noon",
            show_default=True,
            help="Where a date without a time lands: 12:00 UTC, "
            "or 12:00 in --timezone.",
        ),
        click.option(
            "--undated",
            type=click.Choice(["sentinel", "skip"]),
            default="sentinel",
            show_default=True,
            help="Undated viewings: one at Simkl's unknown-date instant "
            "per movie or episode, or none.",
        ),
        click.option(
            "--rewatch-without-earlier",
            type=click.Choice(["sentinel", "ignore"]),
            default="sentinel",
            show_default=True,
            help="A row marked rewatch with no earlier viewing: add an "
            "unknown-date first viewing, or ignore the mark.",
        ),
        click.option(
            "--rated-as-watched",
            is_flag=True,
            help="Treat rating rows (IMDb) as viewings dated by the rating date.",
        ),
        click.option(
            "--hold-before-release-days",
            type=click.IntRange(min=0),
            default=365,
            show_default=True,
            help="Hold viewings more than this many days before release "
            "as probable wrong matches.",
        ),
        click.option(
            "--bulk-threshold",
            type=click.IntRange(min=2),
            default=20,
            show_default=True,
            help="Episodes sharing one timestamp above this count are bulk marks "
            "with unknown dates.",
        ),
        click.option(
            "--overrides",
            type=click.Path(dir_okay=False),
            help="Review CSV from `resolve` with simkl_id, imdb, tmdb or tvdb "
            "filled in; its matches win over every search.",
        ),
        click.option(
            "--match-cache",
            type=click.Path(dir_okay=False),
            help="SQLite file of cached search results "
            "(default: in the user's cache folder).",
        ),
        click.option(
            "--refresh-matches",
            is_flag=True,
            help="Search again instead of using cached results.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Hide progress on stderr."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def load_with(
    params: dict[str, Any], read_options: ReadOptions, on_stage: Callable[[str], None]
) -> Prepared:
    """Read and validate the exports named by the command's options."""
    return load_events(
        params["exports"],
        format=params["format_"],
        mapping=params["mapping"],
        read_options=read_options,
        on_stage=on_stage,
    )


def resolve_with(
    prepared: Prepared,
    api: object | None,
    params: dict[str, Any],
    on_stage: Callable[[str], None],
) -> Prepared:
    """Match the prepared events through `api` (None: offline) per the options."""
    return resolve_prepared(
        prepared,
        api,
        cache_path=params.get("match_cache"),
        overrides=params.get("overrides"),
        refresh=params.get("refresh_matches", False),
        on_stage=on_stage,
    )


def check_timezone(name: str | None) -> str:
    """Return a valid IANA zone name: `name`, or this machine's zone."""
    if name is None:
        return local_zone_name()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}",
            hint="Pass an IANA name such as Europe/Berlin or America/New_York "
            "to --timezone.",
        ) from None
    return name


def read_options_from(params: dict[str, Any]) -> ReadOptions:
    """Build ReadOptions from the parsed command options."""
    return ReadOptions(
        timezone=check_timezone(params.get("timezone")),
        date_anchor=params.get("date_anchor", "utc-noon"),
        rated_as_watched=params.get("rated_as_watched", False),
        bulk_threshold=params.get("bulk_threshold", 20),
        now=utc_now(),
    )


def plan_options_from(params: dict[str, Any], *, rewatches: bool = True) -> PlanOptions:
    """Build PlanOptions from the parsed command options."""
    return PlanOptions(
        undated=params.get("undated", "sentinel"),
        rewatch_without_earlier=params.get("rewatch_without_earlier", "sentinel"),
        rewatches=rewatches,
        hold_before_release_days=params.get("hold_before_release_days", 365),
    )


def recorded_options(read: ReadOptions, plan: PlanOptions) -> dict[str, Any]:
    """Return the options a plan was made with, as stored in its JSON."""
    return {
        "timezone": read.timezone,
        "date_anchor": read.date_anchor,
        "rated_as_watched": read.rated_as_watched,
        "bulk_threshold": read.bulk_threshold,
        "now": read.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "undated": plan.undated,
        "rewatch_without_earlier": plan.rewatch_without_earlier,
        "rewatches": plan.rewatches,
        "hold_before_release_days": plan.hold_before_release_days,
    }


@contextmanager
def stage_progress(quiet: bool, stages: int = 3) -> Iterator[Callable[[str], None]]:
    """Yield a stage callback that shows a progress bar on a terminal's stderr."""
    bar = tqdm(
        total=stages,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        bar_format="{desc:<10} {bar} {n_fmt}/{total_fmt} stages [{elapsed}]",
        leave=False,
    )
    started = False

    def on_stage(name: str) -> None:
        nonlocal started
        if started:
            bar.update(1)
        started = True
        bar.set_description(name)

    try:
        yield on_stage
        bar.update(1)
    finally:
        bar.close()


def with_params(command: Callable[..., Any]) -> Callable[..., Any]:
    """Pass every option to `command` as one dict named `params`."""

    @functools.wraps(command)
    def wrapper(**params: Any) -> Any:
        return command(params)

    return wrapper
