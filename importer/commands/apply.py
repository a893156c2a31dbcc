"""`simkl-import apply`: post the plan to Simkl, journaled and resumable."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from importer.apply import (
    ApplyOptions,
    ApplyResult,
    Progress,
    account_identity,
    apply_import,
)
from importer.batch import DEFAULT_BATCH_SIZE
from importer.client import SimklClient, tier_from_settings
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
from importer.errors import ApiError, AuthError, InputError
from importer.journal import (
    CAPPED,
    NOT_FOUND,
    REJECTED,
    Journal,
    WriteRecord,
    default_journal_path,
)
from importer.pipeline import Prepared
from importer.report import skip_entries


@click.command()
@plan_options
@api_options
@click.option(
    "--journal",
    "journal_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite journal of this import (default: one per account in the "
    "user state directory).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Maximum viewings per POST /sync/history request.",
)
@click.option(
    "--max-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Maximum POST requests per second (Simkl allows 1 per token).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many /sync/history requests; run the same command "
    "to continue.",
)
@click.option(
    "--json",
    "json_path",
    metavar="PATH|-",
    callback=checked_output,
    help="Also write the machine-readable result to PATH, or to stdout with '-'.",
)
@click.option("--yes", is_flag=True, help="Post without asking for confirmation.")
@with_params
def apply(params: dict[str, Any]) -> None:
    """Import EXPORT... into the signed-in Simkl account.

    Reads the account, plans against it and posts only what is missing,
    recording every write in a journal. Running it again resumes an
    interrupted import; a finished one sends nothing.
    """
    if not params["yes"] and not sys.stdin.isatty():
        # Checked before any work, so a script learns it at once.
        raise InputError(
            "apply asks for confirmation, and there is no terminal to ask on",
            hint="Pass --yes to post without asking.",
        )
    read_options = read_options_from(params)
    client = make_client(
        params["api_url"], params["client_id"], max_post_rate=params["max_rate"]
    )
    with client:
        with stage_progress(params["quiet"], stages=3) as on_stage:
            prepared = load_with(params, read_options, on_stage)
            resolve_with(prepared, client, params, on_stage)
        settings = client.settings()
        tier = tier_from_settings(settings)
        account = account_identity(client, settings)
        _confirm(params, account, client.api_url)
        path = params["journal_path"] or default_journal_path(account)
        with Journal.open(path, account) as journal:
            result = _run(params, prepared, client, journal, tier)
    _output(params, result, path)
    if result.stopped == "interrupted":
        sys.exit(130)


def _run(
    params: dict[str, Any],
    prepared: Prepared,
    client: SimklClient,
    journal: Journal,
    tier: str,
) -> ApplyResult:
    """Call apply_import with progress and Ctrl-C handling from the options."""
    options = ApplyOptions(batch_size=params["batch_size"], limit=params["limit"])
    with _progress_bar(params) as show, _stop_on_interrupt() as should_stop:
        try:
            return apply_import(
                prepared,
                client,
                journal,
                plan_options=plan_options_from(params),
                options=options,
                tier=tier,
                on_progress=show,
                should_stop=should_stop,
            )
        except ApiError as error:
            if isinstance(error, AuthError):
                raise
            raise ApiError(
                f"{error} The journal records every write: run the same "
                f"command to resume (journal: {journal.path}).",
                status=error.status,
                error=error.error,
            ) from error


def _confirm(params: dict[str, Any], account: str, api_url: str) -> None:
    if params["yes"]:
        return
    click.confirm(
        f"Import into Simkl account {account} at {api_url}?", abort=True, err=True
    )


@contextmanager
def _progress_bar(params: dict[str, Any]) -> Iterator[Callable[[Progress], None]]:
    """Yield a progress callback drawing requests done/left on stderr."""
    bar = tqdm(
        total=0,
        unit="request",
        file=sys.stderr,
        disable=params["quiet"] or not sys.stderr.isatty(),
        leave=False,
    )

    def show(progress: Progress) -> None:
        bar.total = progress.total
        bar.n = progress.done
        bar.refresh()

    try:
        yield show
    finally:
        bar.close()


@contextmanager
def _stop_on_interrupt() -> Iterator[Callable[[], bool]]:
    """Yield a stop check: the first Ctrl-C stops between requests.

    A second Ctrl-C interrupts at once. The journal still marks every write
    of the request in flight as pending, so the next run settles them.
    """
    stop = threading.Event()

    def handle(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo(
            "Stopping after the current request (Ctrl-C again to abort).", err=True
        )

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield stop.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


def _output(params: dict[str, Any], result: ApplyResult, journal_path: Path) -> None:
    text = render_result(result, journal_path)
    json_path = params["json_path"]
    if json_path == "-":
        click.echo(text, err=True)
        json.dump(result_document(result), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    click.echo(text)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as stream:
            json.dump(result_document(result), stream, indent=2, default=str)
            stream.write("\n")


def render_result(result: ApplyResult, journal_path: Path) -> str:
    """Return the terminal summary of an apply run."""
    listed = _listed_rows(result)
    lines = [f"Simkl account {result.account} ({result.tier})"]
    lines.extend(_count_lines(result, listed))
    lines.append(
        f"POSTs used: {result.posts} for {result.requests} requests "
        f"(fewest the plan allowed: {result.min_posts})"
    )

    for label, rows in listed.items():
        if rows:
            lines.append(f"{label}:")
            lines.extend(f"  {row}" for row in rows)
    lines.extend(_ending(result, journal_path))
    return "\n".join(lines)


def _count_lines(result: ApplyResult, listed: dict[str, list[str]]) -> list[str]:
    lines = [f"  {result.confirmed:>6}  writes confirmed"]
    if result.settled_by_read_back:
        lines.append(
            f"  {result.settled_by_read_back:>6}  of them confirmed by reading "
            "back after an unknown outcome"
        )
    if result.settled_from_earlier:
        lines.append(
            f"  {result.settled_from_earlier:>6}  writes of an earlier run found "
            "on the account"
        )
    lines.append(f"  {result.already_present:>6}  viewings already on Simkl")

    for label, rows in listed.items():
        lines.append(f"  {len(rows):>6}  {label}")
    skipped = result.plan.summary.get("skipped", {})
    for reason, count in skipped.items():
        if reason not in _COUNTED_REASONS:
            lines.append(f"  {count:>6}  not written: {reason.replace('_', ' ')}")
    return lines


# Skip reasons whose rows are listed one by one, under the label of the
# journal status they join ("not_found" comes from matching the export).
_LISTED_REASONS = {
    "not_found": NOT_FOUND,
    "ambiguous": "ambiguous",
    "rewatch_cap": CAPPED,
    "rewatch_not_written_free_tier": "free_tier",
    "invalid": "invalid",
}
_COUNTED_REASONS = {"already_present", *_LISTED_REASONS}
_LABELS = {
    NOT_FOUND: "Not found on Simkl",
    "ambiguous": "Ambiguous matches (pick one with --overrides)",
    REJECTED: "Rejected by Simkl",
    CAPPED: "Capped (past 50 rewatch sessions)",
    "free_tier": "Rewatches not written (Simkl Pro or VIP needed)",
    "invalid": "Invalid rows (fix them in the export)",
}


def _listed_rows(result: ApplyResult) -> dict[str, list[str]]:
    """Return, per label, one line for each write or row not written."""
    rows: dict[str, list[tuple[str, int, str]]] = {key: [] for key in _LABELS}
    for status, records in result.failures.items():
        for record in records:
            rows[status].append(_record_line(record))
    for skip in result.plan.skipped.iter_rows(named=True):
        key = _LISTED_REASONS.get(skip["reason"])
        if key is not None:
            rows[key].append(_skip_line(skip))
    listed = {}
    for key, label in _LABELS.items():
        if key in (NOT_FOUND, REJECTED, CAPPED) or rows[key]:
            listed[label] = [line for *_, line in sorted(rows[key])]
    return listed


def _record_line(record: WriteRecord) -> tuple[str, int, str]:
    line = _row_text(
        record.source_file,
        record.source_row,
        record.title,
        record.year,
        record.season,
        record.episode,
        record.watched_at,
        record.detail,
    )
    return (record.source_file or "", record.source_row or 0, line)


def _skip_line(skip: dict[str, Any]) -> tuple[str, int, str]:
    watched_at = skip["watched_at"]
    line = _row_text(
        skip["source_file"],
        skip["source_row"],
        skip["title"],
        skip["year"],
        skip["season"],
        skip["episode"],
        watched_at.strftime("%Y-%m-%dT%H:%M:%SZ") if watched_at else None,
        skip["detail"],
    )
    return (skip["source_file"] or "", skip["source_row"] or 0, line)


def _row_text(
    source_file: str | None,
    source_row: int | None,
    title: str | None,
    year: int | None,
    season: int | None,
    episode: int | None,
    watched_at: str | None,
    detail: str | None,
) -> str:
    """Return "FILE row N: Title (Year) S01E02 watched WHEN: detail"."""
    description = title or "(no title)"
    if year:
        description += f" ({year})"
    if season is not None and episode is not None:
        description += f" S{season:02d}E{episode:02d}"
    when = f" watched {watched_at}" if watched_at else ""
    text = f"{source_file or '?'} row {source_row or '?'}: {description}{when}"
    return f"{text}: {detail}" if detail else text


def _ending(result: ApplyResult, journal_path: Path) -> list[str]:
    if result.finished:
        return [f"Import complete. Journal: {journal_path}"]
    reason = {
        "interrupted": "Interrupted",
        "limit": "Stopped at --limit",
    }.get(result.stopped or "", "Stopped")
    return [
        f"{reason} with {result.remaining} writes left. Run the same command "
        f"to resume (journal: {journal_path}).",
    ]


def result_document(result: ApplyResult) -> dict[str, Any]:
    """Return the machine-readable result of an apply run."""
    return {
        "format": "simkl-import apply",
        "version": 1,
        "account": result.account,
        "tier": result.tier,
        "finished": result.finished,
        "stopped": result.stopped,
        "confirmed": result.confirmed,
        "settled_from_earlier": result.settled_from_earlier,
        "already_present": result.already_present,
        "remaining": result.remaining,
        "posts": result.posts,
        "requests": result.requests,
        "min_posts": result.min_posts,
        "settled_by_read_back": result.settled_by_read_back,
        "read_backs": result.read_backs,
        "plan_summary": result.plan.summary,
        "failures": {
            status: [asdict(record) for record in records]
            for status, records in result.failures.items()
        },
        "skipped": skip_entries(result.plan.skipped),
    }
