"""`resolve_events`: give every events row a Simkl item, or report why not."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from importer.errors import ApiError, AuthError, ResolveError
from importer.events import EVENT_SCHEMA, SKIP_SCHEMA, conform, empty_events
from importer.resolve.api import (
    Params,
    SearchApi,
    as_search_api,
    get_or_empty,
    parse_episode_list,
)
from importer.resolve.cache import ResolveCache, default_cache_path
from importer.resolve.episodes import (
    VIA_EPISODE_ID,
    EpisodeIndex,
    Placement,
    place_episode,
    season_offsets,
)
from importer.resolve.items import (
    KIND_IDS,
    SEARCH_ID_KEYS,
    Item,
    Row,
    correct_media_type,
    fill_letterboxd_slugs,
    item_for_row,
)
from importer.resolve.model import (
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONFIDENCE_USER,
    HOW_OVERRIDE,
    MATCH_SCHEMA,
    PLACEMENT_SCHEMA,
    REASON_LOW_CONFIDENCE,
    REASON_NOT_FOUND,
    REVIEW_SCHEMA,
    STATUS_AMBIGUOUS,
    STATUS_MATCHED,
    Decision,
    Resolution,
    ResolveOptions,
)
from importer.resolve.overrides import (
    Override,
    Overrides,
    load_overrides,
)
from importer.resolve.search import Searcher

log = logging.getLogger(__name__)

# Called with the number of items decided so far and the number of items.
ProgressCallback = Callable[[int, int], None]

# Columns an override replaces with its own ids: every item id a write could
# carry, so a wrong source id cannot reach Simkl beside the corrected one.
OVERRIDDEN_ID_COLUMNS = (*SEARCH_ID_KEYS, "letterboxd", "trakt_slug")


def resolve_events(
    events: pl.DataFrame,
    api: SearchApi | Callable[[str, Params], Any],
    *,
    cache_path: Path | str | None = None,
    overrides: Overrides | Path | str | None = None,
    options: ResolveOptions | None = None,
    on_progress: ProgressCallback | None = None,
) -> Resolution:
    """Match every row of `events` to a Simkl item through search, cached.

    `api` is a `SimklClient` or any object or callable with
    `get(path, params) -> JSON`. `cache_path` defaults to the user's cache
    directory, and cached results are kept apart per `options.cache_scope`
    (by default the client's `api_url`). `overrides` is an `Overrides` or
    the path of an overrides CSV. `on_progress(done, total)` is called
    after each item is decided. Rows of unmatched items and unplaceable episodes go to
    `Resolution.unresolved`; every other row comes back in `events`.
    """
    options = options or ResolveOptions()
    if isinstance(overrides, (str, Path)):
        overrides = load_overrides(overrides)
    rows = _prepare_rows(events)
    path = cache_path if cache_path is not None else default_cache_path()
    # Results of the emulator and of Simkl must not mix in one cache file.
    scope = options.cache_scope or str(getattr(api, "api_url", ""))
    with ResolveCache(path, scope) as cache:
        run = _Run(as_search_api(api), cache, options, overrides or Overrides())
        return run.resolve(rows, on_progress or (lambda _done, _total: None))


def _prepare_rows(events: pl.DataFrame) -> list[Row]:
    rows = conform(events).to_dicts() if events.height else []
    for row in rows:
        correct_media_type(row)
    fill_letterboxd_slugs(rows)
    return rows


class _Run:
    """One resolve pass: decisions per item, then rows placed and split."""

    def __init__(
        self,
        api: SearchApi,
        cache: ResolveCache,
        options: ResolveOptions,
        overrides: Overrides,
    ) -> None:
        self.api = api
        self.cache = cache
        self.options = options
        self.overrides = overrides
        self.searcher = Searcher(api, options)
        self.kept: list[Row] = []
        self.unresolved: list[dict[str, Any]] = []
        self.placements: list[dict[str, Any]] = []
        self.review: list[dict[str, Any]] = []
        self.unplaced: Counter[str] = Counter()

    def resolve(self, rows: list[Row], on_progress: ProgressCallback) -> Resolution:
        items: dict[str, Item] = {}
        groups: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            item = item_for_row(row)
            items.setdefault(item.key, item)
            groups[item.key].append(row)

        decisions: dict[str, Decision] = {}
        for key, item in items.items():
            decisions[key] = self.decide(item)
            on_progress(len(decisions), len(items))
        for key, item in items.items():
            self.apply(item, decisions[key], groups[key])

        return Resolution(
            events=_frame(self.kept, EVENT_SCHEMA) if self.kept else empty_events(),
            matches=_matches_frame(items, decisions, groups),
            unresolved=_frame(self.unresolved, SKIP_SCHEMA),
            placements=_frame(self.placements, PLACEMENT_SCHEMA),
            summary=_summary(items, decisions, self.unplaced),
            review=_frame(self.review, REVIEW_SCHEMA),
        )

    # Decisions -----------------------------------------------------------

    def decide(self, item: Item) -> Decision:
        override = self.overrides.find(item)
        if override is not None:
            return self.decide_override(item, override)
        return self.cached_decision(item)

    def cached_decision(self, item: Item) -> Decision:
        if not self.options.refresh:
            cached = self.cache.get_decision(item.key)
            if cached is not None:
                return cached
        with _resumable(f"search for {_item_label(item)}"):
            decision = self.searcher.decide(item)
        log.debug(
            "item %s: %s %s %s",
            item.key,
            decision.status,
            decision.how,
            decision.detail,
        )
        self.cache.put_decision(item.key, decision)
        return decision

    def decide_override(self, item: Item, override: Override) -> Decision:
        simkl, simkl_type = override.simkl, None
        if simkl is None and override.ids:
            lookup = Item(
                key=f"ids|{item.media_type}|"
                + ",".join(f"{k}={v}" for k, v in override.ids),
                kind=KIND_IDS,
                source=item.source,
                media_type=item.media_type,
                title=item.title,
                year=item.year,
                ids=override.ids,
            )
            found = self.cached_decision(lookup)
            if found.matched:
                simkl, simkl_type = found.simkl, found.simkl_type
        return Decision(
            how=HOW_OVERRIDE,
            status=STATUS_MATCHED,
            simkl=simkl,
            simkl_type=simkl_type,
            confidence=CONFIDENCE_USER,
            detail=override.label(),
            ids=override.ids,
        )

    # Rows ----------------------------------------------------------------

    def apply(self, item: Item, decision: Decision, rows: list[Row]) -> None:
        if not decision.matched:
            self.report_item(item, decision, rows)
            return
        for row in rows:
            _set_match(row, decision)
        if decision.confidence == CONFIDENCE_LOW:
            line = _review_line(item, rows[0], REASON_LOW_CONFIDENCE, decision.detail)
            line.update(rows=len(rows), season=None, episode=None)
            line["candidates"] = f"matched simkl={decision.simkl}"
            self.review.append(line)

        if decision.episodes:
            found = Placement(decision.episodes, VIA_EPISODE_ID, CONFIDENCE_HIGH)
            for row in rows:
                self.place(row, found, item)
            return

        needs_list = decision.simkl is not None
        episode_rows = [r for r in rows if _is_episode_row(r)] if needs_list else []
        episode_row_ids = {id(r) for r in episode_rows}
        if not episode_rows:
            self.kept.extend(rows)
            return
        index = self.episode_index(decision, item)
        offsets = season_offsets(episode_rows)
        show = _show_label(item, decision)
        for row in rows:
            if id(row) in episode_row_ids:
                self.place(row, place_episode(row, index, offsets, show), item)
            else:
                self.kept.append(row)

    def place(self, row: Row, placement: Placement, item: Item) -> None:
        if placement.problem is not None:
            self.unplaced[row.get("source") or ""] += 1
            self.unresolved.append(_skip(row, REASON_NOT_FOUND, placement.problem))
            self.review.append(
                _review_line(item, row, REASON_NOT_FOUND, placement.problem)
            )
            return
        if placement.unchanged:
            self.kept.append(row)
            return
        for season, episode in placement.targets:
            self.kept.append({**row, "season": season, "episode": episode})
            self.placements.append(
                {
                    "source_file": row.get("source_file"),
                    "source_row": row.get("source_row"),
                    "title": row.get("title"),
                    "source_season": row.get("season"),
                    "source_episode": row.get("episode"),
                    "season": season,
                    "episode": episode,
                    "via": placement.via,
                    "confidence": placement.confidence,
                }
            )

    def report_item(self, item: Item, decision: Decision, rows: list[Row]) -> None:
        reason = decision.status
        detail = decision.detail
        if decision.candidates:
            detail = f"{detail}; candidates: {decision.candidates_text()}"
        for row in rows:
            self.unresolved.append(_skip(row, reason, detail))
        line = _review_line(item, rows[0], reason, decision.detail)
        line["rows"] = len(rows)
        line["season"] = line["episode"] = None
        line["candidates"] = decision.candidates_text()
        self.review.append(line)

    def episode_index(self, decision: Decision, item: Item) -> EpisodeIndex:
        kind = "anime" if (decision.simkl_type or item.media_type) == "anime" else "tv"
        path = f"/{kind}/episodes/{decision.simkl}"
        payload = None if self.options.refresh else self.cache.get_episode_list(path)
        if payload is None:
            with _resumable(f"episode list {path}"):
                payload = get_or_empty(self.api, path, {"extended": "full"}) or []
            self.cache.put_episode_list(path, payload)
        return EpisodeIndex.build(parse_episode_list(payload))


@contextmanager
def _resumable(what: str) -> Iterator[None]:
    """Turn an API failure into a ResolveError that names the next step."""
    try:
        yield
    except AuthError:
        raise
    except ApiError as error:
        raise ResolveError(
            f"{what} failed: {error}. Matches found so far are cached; "
            "run the same command again to continue."
        ) from error


def _item_label(item: Item) -> str:
    if item.title:
        year = "" if item.year is None else f" ({item.year})"
        return f'"{item.title}"{year}'
    return ", ".join(f"{key} {value}" for key, value in item.ids) or item.key


def _set_match(row: Row, decision: Decision) -> None:
    if decision.ids:
        for column in OVERRIDDEN_ID_COLUMNS:
            row[column] = None
        row.update(dict(decision.ids))
    if decision.simkl is not None:
        row["simkl"] = decision.simkl
    if decision.episodes:
        row["media_type"] = "anime" if decision.simkl_type == "anime" else "show"


def _is_episode_row(row: Row) -> bool:
    return row.get("media_type") in ("show", "anime") and (
        row.get("episode") is not None
        or any(
            row.get(c) not in (None, "", 0) for c in ("ep_tvdb", "ep_imdb", "ep_tmdb")
        )
    )


def _show_label(item: Item, decision: Decision) -> str:
    title = item.title or "the show"
    return f"{title} (simkl={decision.simkl})"


def _skip(row: Row, reason: str, detail: str) -> dict[str, Any]:
    out = {name: row.get(name) for name in SKIP_SCHEMA}
    out["reason"] = reason
    out["detail"] = detail
    return out


def _review_line(item: Item, row: Row, reason: str, detail: str) -> dict[str, Any]:
    return {
        "item_key": item.key,
        "reason": reason,
        "source_file": row.get("source_file"),
        "source_row": row.get("source_row"),
        "rows": 1,
        "title": row.get("title"),
        "year": row.get("year"),
        "type": row.get("media_type"),
        "season": row.get("season"),
        "episode": row.get("episode"),
        "candidates": None,
        "detail": detail,
    }


def _frame(
    records: list[dict[str, Any]], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    if not records:
        return pl.DataFrame(schema=schema)
    return pl.from_dicts(records, schema=schema)


def _matches_frame(
    items: dict[str, Item], decisions: dict[str, Decision], groups: dict[str, list[Row]]
) -> pl.DataFrame:
    records = []
    for key, item in items.items():
        decision, first = decisions[key], groups[key][0]
        records.append(
            {
                "item_key": key,
                "source": item.source,
                "source_file": first.get("source_file"),
                "source_row": first.get("source_row"),
                "rows": len(groups[key]),
                "media_type": first.get("media_type"),
                "title": item.title,
                "year": item.year,
                "how": decision.how,
                "status": decision.status,
                "confidence": decision.confidence,
                "simkl": decision.simkl,
                "simkl_type": decision.simkl_type,
                "candidates": decision.candidates_text(),
                "detail": decision.detail,
            }
        )
    return _frame(records, MATCH_SCHEMA)


def _summary(
    items: dict[str, Item], decisions: dict[str, Decision], unplaced: Counter[str]
) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {}
    for key, item in items.items():
        counts = summary.setdefault(
            item.source or "",
            {"matched": 0, "ambiguous": 0, "unmatched": 0, "unplaced_episodes": 0},
        )
        status = decisions[key].status
        if status == STATUS_MATCHED:
            counts["matched"] += 1
        elif status == STATUS_AMBIGUOUS:
            counts["ambiguous"] += 1
        else:
            counts["unmatched"] += 1
    for source, count in unplaced.items():
        summary.setdefault(
            source,
            {"matched": 0, "ambiguous": 0, "unmatched": 0, "unplaced_episodes": 0},
        )["unplaced_episodes"] = count
    return summary
