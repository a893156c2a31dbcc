"""Post a plan to Simkl: read the account, diff, journal, post, settle.

The loop of `apply_import`:

1. read the account once and plan against it, so viewings already on Simkl
   are reported present and never written;
2. settle what the journal left unsettled by that same read-back: a write
   that is now on the account is confirmed, and one that is missing is sent
   again (or reported, when its request got a 2xx response without storing
   it);
3. post the remaining writes round by round, recording every write as
   pending before its request is sent and its outcome after;
4. when a request's outcome is unknown (5xx, timeout, dropped connection,
   an unconfirmed response), go back to 1. Nothing is ever resent blindly.

Writes whose final outcome is not found, rejected or capped are recorded
in the journal and not sent again, so a second apply of a finished import
sends zero POSTs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import polars as pl

from importer.batch import (
    DEFAULT_BATCH_SIZE,
    Entry,
    MissingRewatchId,
    Request,
    build_requests,
    min_requests,
    render_body,
)
from importer.client import SimklClient, tier_from_settings
from importer.errors import ApiError, AuthError
from importer.journal import (
    CAPPED,
    CONFIRMED,
    FINAL_FAILURES,
    NOT_FOUND,
    PENDING,
    REJECTED,
    SENT,
    UNKNOWN,
    Journal,
    Outcome,
    WriteRecord,
)
from importer.pipeline import Prepared, plan_prepared
from importer.plan import Plan, PlanOptions
from importer.remote import read_account

logger = logging.getLogger(__name__)

# Read-backs one run may make after unknown outcomes before it gives up.
# Each one is a full /sync/all-items read, so the bound keeps a flaky
# server from turning one run into a polling loop.
MAX_READ_BACKS = 5

# `not_added` reasons (HTTP 201 with the write listed) -> journal status.
# An unknown rewatch_id means the pinned session is not what we think:
# that is settled by reading back, like any other unknown outcome.
NOT_ADDED_STATUS = {
    "rewatch_limit": CAPPED,
    "canonical_date": REJECTED,
    "not_in_history": REJECTED,
    "rewatch_id_not_found": UNKNOWN,
}


@dataclass(frozen=True)
class ApplyOptions:
    """How to post: batch size, a cap on requests, read-back bound."""

    batch_size: int = DEFAULT_BATCH_SIZE
    # Stop after this many requests (None: no cap); the rest waits for the
    # next run of the same command.
    limit: int | None = None
    max_read_backs: int = MAX_READ_BACKS


@dataclass(frozen=True)
class Progress:
    """Requests done and in total after each request, and POSTs sent so far.

    `posts` counts every POST /sync/history attempt, including those the
    client resent after a 429.
    """

    done: int
    total: int
    posts: int


ProgressCallback = Callable[[Progress], None]


@dataclass
class ApplyResult:
    """Counts and failures of one apply run, for the summary and the JSON report."""

    account: str
    tier: str
    plan: Plan
    confirmed: int = 0
    settled_from_earlier: int = 0
    posts: int = 0
    requests: int = 0
    min_posts: int = 0
    settled_by_read_back: int = 0
    read_backs: int = 0
    remaining: int = 0
    stopped: str | None = None
    failures: dict[str, list[WriteRecord]] = field(default_factory=dict)

    @property
    def already_present(self) -> int:
        return int(self.plan.summary.get("skipped", {}).get("already_present", 0))

    @property
    def finished(self) -> bool:
        return self.stopped is None and self.remaining == 0


class _ReadBackNeeded(Exception):
    """A request's outcome is unknown; read the account back before going on.

    `failed` is false when the request got a 2xx response that did not
    confirm every write. Such a read-back settles those writes for good,
    so it does not count toward the limit on read-backs after failures.
    """

    def __init__(self, failed: bool = True) -> None:
        super().__init__()
        self.failed = failed


def account_identity(client: SimklClient, settings: Mapping[str, Any]) -> str:
    """Return "<account id>@<API host>", the owner recorded in the journal."""
    account = settings.get("account") or {}
    user = settings.get("user") or {}
    owner = account.get("id") or user.get("id") or user.get("name") or "unknown"
    url = httpx.URL(client.api_url)
    host = url.host if url.port is None else f"{url.host}:{url.port}"
    return f"{owner}@{host}"


def apply_import(
    prepared: Prepared,
    client: SimklClient,
    journal: Journal,
    *,
    plan_options: PlanOptions | None = None,
    options: ApplyOptions | None = None,
    tier: str | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Bring the account to the plan of `prepared`, as one journaled run.

    `tier` is the account tier from /users/settings ("free" plans canonical
    history only). `should_stop` is checked between requests (Ctrl-C).
    Raises ApiError when the API fails in a way a retry cannot fix; the
    journal then keeps everything needed to resume with the same command.
    """
    options = options or ApplyOptions()
    plan_options = plan_options or PlanOptions()
    if tier is None:
        tier = tier_from_settings(client.settings())
    if tier == "free":
        plan_options = replace(plan_options, rewatches=False)

    run = _Run(
        prepared, client, journal, plan_options, options, on_progress, should_stop
    )
    journal.start_run()
    try:
        result = run.execute(tier)
    except BaseException:
        journal.finish_run("failed")
        raise
    journal.finish_run("finished" if result.finished else result.stopped or "stopped")
    return result


class _Run:
    """The state of one apply run: plans, counters and session ids."""

    def __init__(
        self,
        prepared: Prepared,
        client: SimklClient,
        journal: Journal,
        plan_options: PlanOptions,
        options: ApplyOptions,
        on_progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.prepared = prepared
        self.client = client
        self.journal = journal
        self.plan_options = plan_options
        self.options = options
        self.on_progress = on_progress or (lambda _progress: None)
        self.should_stop = should_stop or (lambda: False)
        self.done = 0
        self.posts = 0
        self.requests_sent = 0
        self.settled_by_read_back = 0
        self.confirmed = 0
        self.settled_from_earlier = 0
        self.session_ids: dict[str, int] = {}
        self.write_info: dict[str, dict[str, Any]] = {}

    def execute(self, tier: str) -> ApplyResult:
        first_plan: Plan | None = None
        min_posts = 0
        read_backs = 0
        failures = 0
        first_read = True
        while True:
            plan = self._read_and_plan()
            settled = self._settle(plan, first_read)
            writes = self._sendable(plan.writes)
            if first_plan is None:
                first_plan = plan
                min_posts = min_requests(writes, self.options.batch_size)
            first_read = False
            if settled:
                logger.info("read-back settled %d writes", settled)

            self.write_info = _write_info(plan.writes)
            # Sessions opened before this read-back are on the account now,
            # and the plan carries their rewatch_id, so ids learned from
            # earlier responses are dropped rather than trusted.
            self.session_ids.clear()
            requests = build_requests(writes, self.options.batch_size)
            stopped, sent = self._post_all(requests)
            if stopped in ("read_back", "confirm"):
                read_backs += 1
                failures += stopped == "read_back"
                if failures > self.options.max_read_backs:
                    raise ApiError(
                        f"outcomes stayed unknown after {failures - 1} read-backs; "
                        "Simkl may be failing. Run the same command later to resume."
                    )
                continue
            remaining = sum(r.size for r in requests[sent:])
            return self._result(
                tier, first_plan, min_posts, read_backs, stopped, remaining
            )

    # -- planning and settling -------------------------------------------

    def _read_and_plan(self) -> Plan:
        remote = read_account(self.client)
        return plan_prepared(self.prepared, remote=remote, options=self.plan_options)

    def _settle(self, plan: Plan, first_read: bool) -> int:
        """Settle unsettled journal writes against a plan made from a read-back.

        A write that the plan no longer contains is on the account (the
        planner reports it present). One that is still planned is missing:
        it is sent again, unless its request got a 2xx response without
        storing it, which no resend can fix.
        """
        unsettled = self.journal.unsettled()
        if not unsettled:
            return 0
        planned = set(plan.writes["write_key"].to_list())
        # NOTE: a write that is no longer planned is taken as present. If the
        # export changed between an interrupted run and its resume so that
        # the row is gone, the journal still records it as confirmed.
        outcomes: dict[str, Outcome] = {}
        for key, record in unsettled.items():
            if key not in planned:
                outcomes[key] = Outcome(
                    CONFIRMED, detail=f"{record.status}; found on the account"
                )
            elif record.status == SENT:
                outcomes[key] = Outcome(
                    REJECTED,
                    detail="Simkl responded 2xx but did not store this viewing",
                )
        self.journal.settle(outcomes)
        found = sum(1 for o in outcomes.values() if o.status == CONFIRMED)
        if first_read:
            self.settled_from_earlier += found
        else:
            self.confirmed += found
            self.settled_by_read_back += found
        return len(outcomes)

    def _sendable(self, writes: pl.DataFrame) -> pl.DataFrame:
        """Drop writes whose final failure is already in the journal."""
        final = self.journal.records(FINAL_FAILURES)
        if not final:
            return writes
        return writes.filter(~pl.col("write_key").is_in(list(final)))

    # -- posting ------------------------------------------------------------

    def _post_all(self, requests: list[Request]) -> tuple[str | None, int]:
        """Post requests in order; return why it stopped early and how many went."""
        total = self.done + len(requests)
        self.on_progress(Progress(self.done, total, self.posts))
        for sent, request in enumerate(requests):
            if self.should_stop():
                return "interrupted", sent
            limit = self.options.limit
            if limit is not None and self.requests_sent >= limit:
                return "limit", sent
            try:
                self._post(request)
            except _ReadBackNeeded as needed:
                return ("read_back" if needed.failed else "confirm"), sent
            self.done += 1
            self.on_progress(Progress(self.done, total, self.posts))
        return None, len(requests)

    def _post(self, request: Request) -> None:
        try:
            body = render_body(request, self.session_ids)
        except MissingRewatchId as missing:
            logger.warning("no rewatch_id known for session %s; reading back", missing)
            raise _ReadBackNeeded from None

        keys = request.write_keys
        request_id = self.journal.record_request(
            round_number=request.round,
            allow_rewatch=request.allow_rewatch,
            write_keys=keys,
            info=self.write_info,
        )
        self.requests_sent += 1
        posts_before = self.client.request_counts["POST"]
        try:
            response = self.client.add_history(body, request.allow_rewatch)
        except AuthError:
            raise
        except ApiError as error:
            self._record_failure(request_id, keys, error)
            raise _ReadBackNeeded from None
        finally:
            self.posts += self.client.request_counts["POST"] - posts_before

        outcomes = interpret_response(request, response)
        self._remember_sessions(request, outcomes)
        self.confirmed += sum(1 for o in outcomes.values() if o.status == CONFIRMED)
        unsettled = any(o.status in (SENT, UNKNOWN) for o in outcomes.values())
        self.journal.record_response(
            request_id,
            outcomes,
            request_outcome="unconfirmed" if unsettled else "answered",
            http_status=201,
            summary=_response_summary(response),
        )
        if unsettled:
            raise _ReadBackNeeded(failed=False)

    def _record_failure(
        self, request_id: int, keys: list[str], error: ApiError
    ) -> None:
        """Record a failed request; re-raise unless a read-back can settle it."""
        unknown = bool(getattr(error, "outcome_unknown", False)) or (
            error.status is not None and 200 <= error.status < 300
        )
        status = UNKNOWN if unknown else PENDING
        self.journal.record_response(
            request_id,
            {key: Outcome(status, detail=str(error)) for key in keys},
            request_outcome="unknown" if unknown else "failed",
            http_status=error.status,
        )
        if not unknown:
            # Not applied (429 after every retry, or a 4xx): the writes stay
            # pending, and the next run settles them by reading back.
            raise error
        logger.warning("outcome unknown, reading the account back: %s", error)

    def _remember_sessions(
        self, request: Request, outcomes: Mapping[str, Outcome]
    ) -> None:
        for entry in request.entries:
            if entry.session_key is None:
                continue
            for viewing in entry.viewings:
                outcome = outcomes.get(viewing.write_key)
                if outcome is not None and outcome.rewatch_id is not None:
                    self.session_ids[entry.session_key] = outcome.rewatch_id
                    break

    # -- result -------------------------------------------------------------

    def _result(
        self,
        tier: str,
        plan: Plan,
        min_posts: int,
        read_backs: int,
        stopped: str | None,
        remaining: int,
    ) -> ApplyResult:
        failures = self.journal.records(FINAL_FAILURES)
        by_status: dict[str, list[WriteRecord]] = {s: [] for s in FINAL_FAILURES}
        for record in failures.values():
            by_status[record.status].append(record)
        for records in by_status.values():
            records.sort(key=lambda r: (r.source_file or "", r.source_row or 0))
        return ApplyResult(
            account=self.journal.account,
            tier=tier,
            plan=plan,
            confirmed=self.confirmed,
            settled_from_earlier=self.settled_from_earlier,
            posts=self.posts,
            requests=self.requests_sent,
            min_posts=min_posts,
            settled_by_read_back=self.settled_by_read_back,
            read_backs=read_backs,
            remaining=remaining,
            stopped=stopped,
            failures=by_status,
        )


_INFO_COLUMNS = (
    "write_key",
    "title",
    "year",
    "season",
    "episode",
    "watched_at",
    "source_file",
    "source_row",
)


def _write_info(writes: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Return each write's title, year, episode, date and source row by key."""
    rows = writes.select(_INFO_COLUMNS).iter_rows(named=True)
    return {row["write_key"]: row for row in rows}


def _response_summary(response: Any) -> dict[str, Any]:
    """Return the counts of a /sync/history response, kept in the journal."""
    if not isinstance(response, dict):
        return {"body": type(response).__name__}
    added = response.get("added") or {}
    summary: dict[str, Any] = {
        key: added.get(key) for key in ("movies", "shows", "episodes") if key in added
    }
    for bucket in ("not_found", "not_added"):
        summary[bucket] = _count_listed(response.get(bucket))
    return summary


def _count_listed(section: Any) -> int:
    if isinstance(section, dict):
        return sum(len(v) for v in section.values() if isinstance(v, list))
    if isinstance(section, list):
        return len(section)
    return 0


# -- reading a /sync/history response -------------------------------------


def interpret_response(request: Request, response: Any) -> dict[str, Outcome]:
    """Return the outcome of every write of `request` from Simkl's response.

    Writes echoed under `not_found` or `not_added` get that outcome. The
    rest are confirmed only when `added` counts at least as many movies
    and episodes as there are such writes. Otherwise, including the
    "0 added and nothing listed" response, they are SENT: unconfirmed, to be
    settled by reading the account back.
    """
    outcomes: dict[str, Outcome] = {}
    if not isinstance(response, dict):
        return {
            key: Outcome(SENT, detail="no JSON object in the response")
            for key in request.write_keys
        }

    for echo, bucket in _listed(response.get("not_found")):
        for key in _matching_writes(request, echo, bucket):
            outcomes[key] = Outcome(NOT_FOUND, detail=_not_found_detail(echo))
    for echo, bucket in _listed(response.get("not_added")):
        outcomes.update(_not_added_outcomes(request, echo, bucket))

    rest = [key for key in request.write_keys if key not in outcomes]
    added = response.get("added") if isinstance(response.get("added"), dict) else {}
    if request.allow_rewatch:
        rewatch_ids = _rewatch_ids(request, added.get("statuses"))
        outcomes.update(_session_outcomes(request, rest, rewatch_ids))
    else:
        outcomes.update(_counted_outcomes(request, rest, added))
    return outcomes


def _counted_outcomes(
    request: Request, rest: list[str], added: Mapping[str, Any]
) -> dict[str, Outcome]:
    """Confirm canonical writes when `added` counts all of them, else mark SENT."""
    applied = _int(added.get("movies")) + _int(added.get("episodes"))
    if applied >= len(rest):
        return {key: Outcome(CONFIRMED) for key in rest}
    detail = f"added {applied} of {len(rest)} writes"
    return {key: Outcome(SENT, detail=detail) for key in rest}


def _session_outcomes(
    request: Request, rest: list[str], rewatch_ids: Mapping[int, int]
) -> dict[str, Outcome]:
    """Confirm rewatch writes whose item status reports the session used.

    Whether Simkl counts rewatch viewings in `added` is not documented, so
    a rewatch write is confirmed by the rewatch_id in its item's status. A
    write without one is SENT: unconfirmed, settled by reading back.
    """
    pending = set(rest)
    outcomes: dict[str, Outcome] = {}
    for entry in request.entries:
        rewatch_id = rewatch_ids.get(id(entry))
        for viewing in entry.viewings:
            if viewing.write_key not in pending:
                continue
            if rewatch_id is None:
                detail = "no rewatch session reported for this item"
                outcomes[viewing.write_key] = Outcome(SENT, detail=detail)
            else:
                outcomes[viewing.write_key] = Outcome(CONFIRMED, rewatch_id=rewatch_id)
    return outcomes


def _not_added_outcomes(
    request: Request, echo: Mapping[str, Any], bucket: str
) -> dict[str, Outcome]:
    """Return outcomes for one `not_added` object; episodes carry own reasons."""
    item_reason = _reason(echo)
    episodes = _echoed_episodes(echo)
    if not episodes:
        keys = _matching_writes(request, echo, bucket)
        return {key: _not_added(item_reason) for key in keys}
    entries = [e for e in request.entries if _entry_matches(e, echo)]
    outcomes: dict[str, Outcome] = {}
    for episode in episodes:
        reason = _reason(episode) or item_reason
        for key in _episode_writes(entries, [episode]):
            outcomes[key] = _not_added(reason)
    return outcomes


def _not_added(reason: str | None) -> Outcome:
    status = NOT_ADDED_STATUS.get(reason or "", REJECTED)
    return Outcome(status, detail=f"not added: {reason or 'no reason given'}")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _listed(section: Any) -> Iterable[tuple[dict[str, Any], str]]:
    """Yield (echoed object, bucket) from a not_found or not_added section."""
    if isinstance(section, dict):
        for bucket, items in section.items():
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict):
                        yield item, bucket
    elif isinstance(section, list):
        for item in section:
            if isinstance(item, dict):
                yield item, str(item.get("type") or "")


def _reason(echo: Mapping[str, Any]) -> str | None:
    for key in ("reason", "error"):
        value = echo.get(key)
        if isinstance(value, str):
            return value
    return None


def _not_found_detail(echo: Mapping[str, Any]) -> str:
    ids = echo.get("ids") or {}
    if ids:
        listed = ", ".join(f"{k} {v}" for k, v in ids.items())
        return f"no Simkl item matches {listed}"
    return "no Simkl item matches the title and year"


def _norm_ids(ids: Any) -> set[tuple[str, str]]:
    if not isinstance(ids, dict):
        return set()
    return {(str(k), str(v).lower()) for k, v in ids.items() if v not in (None, "")}


def _entry_matches(entry: Entry, echo: Mapping[str, Any]) -> bool:
    echo_ids = _norm_ids(echo.get("ids"))
    if echo_ids:
        return bool(echo_ids & _norm_ids(dict(entry.ids)))
    title = echo.get("title")
    if not isinstance(title, str) or entry.title is None:
        return False
    same_title = title.casefold() == entry.title.casefold()
    return same_title and echo.get("year") in (None, entry.year)


def _matching_writes(
    request: Request, echo: Mapping[str, Any], bucket: str
) -> list[str]:
    """Return the write keys of `request` that an echoed object refers to."""
    if bucket == "episodes" and not (echo.get("seasons") or echo.get("episodes")):
        return _episode_writes(request.entries, [echo])
    entries = [e for e in request.entries if _entry_matches(e, echo)]
    episodes = _echoed_episodes(echo)
    if episodes:
        return _episode_writes(entries, episodes)
    keys = [v.write_key for e in entries for v in e.viewings]
    watched_at = echo.get("watched_at")
    if isinstance(watched_at, str) and len(keys) > 1:
        keys = [
            v.write_key
            for e in entries
            for v in e.viewings
            if _same_instant(v.watched_at, watched_at)
        ]
    return keys


def _echoed_episodes(echo: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the echoed episodes with their season number filled in."""
    episodes: list[dict[str, Any]] = []
    for season in echo.get("seasons") or []:
        if not isinstance(season, dict):
            continue
        for episode in season.get("episodes") or []:
            if isinstance(episode, dict):
                episodes.append({**episode, "season": season.get("number")})
    for episode in echo.get("episodes") or []:
        if isinstance(episode, dict):
            episodes.append({**episode, "season": episode.get("season")})
    return episodes


def _episode_writes(
    entries: Iterable[Entry], episodes: list[dict[str, Any]]
) -> list[str]:
    keys: list[str] = []
    for entry in entries:
        for viewing in entry.viewings:
            if any(_episode_matches(viewing, e) for e in episodes):
                keys.append(viewing.write_key)
    return keys


def _episode_matches(viewing: Any, echo: Mapping[str, Any]) -> bool:
    echo_ids = _norm_ids(echo.get("ids"))
    if echo_ids and echo_ids & _norm_ids(dict(viewing.episode_ids)):
        return True
    number = echo.get("number", echo.get("episode"))
    if number is None or number != viewing.episode:
        return False
    return echo.get("season") in (None, viewing.season) or (
        viewing.season is None and echo.get("season") == 1
    )


def _same_instant(value: Any, text: str) -> bool:
    from importer.remote import parse_instant

    return parse_instant(text) == value


def _rewatch_ids(request: Request, statuses: Any) -> dict[int, int]:
    """Map each entry (by object id) to the rewatch_id its status reports.

    Statuses are matched to entries by the echoed request, in order, so
    that two entries of one item (never in the same request) cannot mix.
    """
    found: dict[int, int] = {}
    if not isinstance(statuses, list):
        return found
    candidates = [e for e in request.entries if e.session_key is not None]
    for status in statuses:
        if not isinstance(status, dict):
            continue
        response = status.get("response") or {}
        rewatch_id = response.get("rewatch_id") if isinstance(response, dict) else None
        if not isinstance(rewatch_id, int) or isinstance(rewatch_id, bool):
            continue
        echo = status.get("request") or {}
        for entry in candidates:
            if id(entry) not in found and _entry_matches(entry, echo):
                found[id(entry)] = rewatch_id
                break
    return found
