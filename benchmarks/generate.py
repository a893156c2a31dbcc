"""Generate seeded synthetic watch-history exports for benchmarks and tests.

The history looks like a heavy tracker user's. Movies are watched once or a
few times, and shows with many episodes are watched in order. Some shows get
whole rewatch passes, and the last pass is sometimes abandoned. The file also
has repeated plays less than 48 hours apart, undated plays, and a few items
watched often enough to pass Simkl's cap of 50 rewatch sessions. Every date
lies between 2010-01-01 and 2025-06-30 UTC.

Two formats are written:

- ``trakt``: the Trakt API history shape (``/sync/history``), a JSON array,
  newest first, one entry per line. An undated play has ``"watched_at": null``.
- ``csv``: the generic CSV layout of ``mappings/README.md`` with the columns
  in ``CSV_COLUMNS``, oldest first, undated plays last with an empty
  ``watched_at``.

The same viewing count and seed always produce a byte-identical file.

    python benchmarks/generate.py --format trakt --viewings 100000 --seed 1 \\
        --out benchmarks/data/trakt-100k.json
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

FORMATS = ("trakt", "csv")
CSV_COLUMNS = (
    "title",
    "year",
    "type",
    "imdb_id",
    "tmdb_id",
    "tvdb_id",
    "season",
    "episode",
    "watched_at",
    "rating",
    "rewatch",
)

START = int(datetime(2010, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC).timestamp())
HOUR = 3600
DAY = 24 * HOUR

# Shares of the requested viewing count. The rest are regular viewings.
DUPLICATE_SHARE = 0.02
UNDATED_SHARE = 0.005
MOVIE_SHARE = 0.2
# One item past the session cap per this many viewings (at least one from
# CAP_MIN_VIEWINGS on, so that small files still exercise the cap).
VIEWINGS_PER_CAPPED_ITEM = 50_000
CAP_MIN_VIEWINGS = 1_000
MAX_CAPPED_ITEMS = 40

FIRST_WORDS = (
    "Copper", "Glass", "Silent", "Northern", "Hollow", "Crimson", "Paper",
    "Iron", "Velvet", "Bitter", "Golden", "Lonely", "Broken", "Distant",
    "Electric", "Midnight", "Wild", "Quiet", "Burning", "Frozen", "Café",
    "Señor", "Zürich", "Noël", "Amélie's",
)  # fmt: skip
SECOND_WORDS = (
    "Tide", "Orchard", "Harbor", "Lantern", "Kingdom", "Signal", "Garden",
    "River", "Station", "Empire", "Letters", "Machine", "Summer", "Witness",
    "Frontier", "Circus", "Archive", "Island", "Protocol", "Waltz",
)  # fmt: skip


@dataclass(frozen=True)
class Item:
    """A movie or show of the synthetic catalog with its external ids."""

    index: int
    media_type: str
    title: str
    year: int
    trakt: int
    slug: str
    imdb: str
    tmdb: int
    tvdb: int | None
    # Episode count per season, empty for a movie.
    seasons: tuple[int, ...] = ()
    # Serial of the show's first episode, from which episode ids derive.
    first_episode: int = 0


@dataclass
class Viewing:
    """One play of an item at a UTC instant. Season and episode are 0 for a movie."""

    item: int
    season: int
    episode: int
    # Seconds since the epoch, or None for a play without a date.
    watched_at: int | None
    action: str = "watch"


@dataclass
class Summary:
    """Counts of what a generated file contains, by feature."""

    format: str
    viewings: int
    seed: int
    movies: int = 0
    shows: int = 0
    episode_viewings: int = 0
    movie_viewings: int = 0
    rewatch_passes: int = 0
    duplicates_within_48h: int = 0
    undated: int = 0
    capped_items: int = 0
    capped_item_viewings: int = 0


class HistoryBuilder:
    """Build a catalog and its viewings from one seeded random generator."""

    def __init__(self, viewings: int, seed: int) -> None:
        self.target = viewings
        self.rng = random.Random(seed)
        self.items: list[Item] = []
        self.viewings: list[Viewing] = []
        self.episode_serial = 0
        # Slugs handed out so far, with how often each base was used.
        self.slugs: dict[str, int] = {}
        self.summary = Summary(format="", viewings=viewings, seed=seed)

    # Catalog.

    def _title(self) -> str:
        rng = self.rng
        first = rng.choice(FIRST_WORDS)
        second = rng.choice(SECOND_WORDS)
        roll = rng.random()
        if roll < 0.03:
            return f"{first}, {second}"
        if roll < 0.05:
            return f'The "{first}" {second}'
        if roll < 0.5:
            return f"The {first} {second}"
        return f"{first} {second}"

    def _new_item(
        self, media_type: str, first_play: int | None, seasons: tuple[int, ...] = ()
    ) -> Item:
        """Add an item released no later than the year of its first play."""
        index = len(self.items)
        title = self._title()
        latest = 2024 if first_play is None else time.gmtime(first_play).tm_year
        year = self.rng.randint(1960, latest)
        base = 1 if media_type == "movie" else 2
        item = Item(
            index=index,
            media_type=media_type,
            title=title,
            year=year,
            trakt=base * 10_000_000 + index,
            slug=self._unique_slug(f"{_slug(title)}-{year}"),
            imdb=f"tt{base * 10_000_000 + index}",
            tmdb=base * 1_000_000 + index,
            tvdb=300_000 + index if media_type == "show" else None,
            seasons=seasons,
            first_episode=self.episode_serial,
        )
        self.episode_serial += sum(seasons)
        self.items.append(item)
        if media_type == "movie":
            self.summary.movies += 1
        else:
            self.summary.shows += 1
        return item

    def _unique_slug(self, base: str) -> str:
        """Return `base`, or `base-2`, `base-3`... when taken, so slugs are unique."""
        count = self.slugs.get(base, 0) + 1
        self.slugs[base] = count
        return base if count == 1 else f"{base}-{count}"

    def _new_show(self, first_play: int) -> Item:
        rng = self.rng
        season_count = min(1 + int(rng.expovariate(0.5)), 12)
        seasons = tuple(rng.randint(6, 24) for _ in range(season_count))
        return self._new_item("show", first_play, seasons)

    # Time.

    def _episode_gap(self) -> int:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.randint(25 * 60, 60 * 60)
        if roll < 0.85:
            return self.rng.randint(18 * HOUR, 36 * HOUR)
        return self.rng.randint(3 * DAY, 14 * DAY)

    # Viewings.

    def _add(self, viewings: list[Viewing], budget: int) -> int:
        kept = viewings[:budget]
        self.viewings.extend(kept)
        return len(kept)

    def _movie_viewings(self, budget: int) -> None:
        rng = self.rng
        while budget > 0:
            count = rng.choices((1, 2, 3, 4, 5, 6), (80, 12, 4, 2, 1, 1))[0]
            moment = rng.randint(START, END - 3 * 365 * DAY)
            item = self._new_item("movie", moment)
            plays = []
            for _ in range(count):
                if moment > END:
                    break
                plays.append(Viewing(item.index, 0, 0, moment))
                moment += rng.randint(60 * DAY, 900 * DAY)
            added = self._add(plays, budget)
            self.summary.movie_viewings += added
            budget -= added

    def _show_pass(self, item: Item, start: int, episodes: int) -> list[Viewing]:
        plays = []
        moment = start
        for season, size in enumerate(item.seasons, start=1):
            for number in range(1, size + 1):
                if len(plays) == episodes or moment > END:
                    return plays
                plays.append(Viewing(item.index, season, number, moment))
                moment += self._episode_gap()
        return plays

    def _show_viewings(self, budget: int) -> None:
        rng = self.rng
        while budget > 0:
            start = rng.randint(START, START + 11 * 365 * DAY)
            item = self._new_show(start)
            total = sum(item.seasons)
            full = rng.random() < 0.6
            watched = total if full else rng.randint(1, total)
            plays = self._show_pass(item, start, watched)
            passes = 0
            if full and rng.random() < 0.12:
                passes = rng.randint(1, 3)
            for number in range(passes):
                start = plays[-1].watched_at + rng.randint(30 * DAY, 700 * DAY)
                abandoned = number == passes - 1 and rng.random() < 0.3
                length = rng.randint(1, total) if abandoned else total
                rewatch = self._show_pass(item, start, length)
                if not rewatch:
                    break
                plays.extend(rewatch)
                self.summary.rewatch_passes += 1
            added = self._add(plays, budget)
            self.summary.episode_viewings += added
            budget -= added

    def _capped_viewings(self, count: int) -> list[Viewing]:
        """Return plays of `count` items with 52 to 60 sessions each."""
        rng = self.rng
        plays: list[Viewing] = []
        for number in range(count):
            moment = rng.randint(START, START + 2 * 365 * DAY)
            if number % 2 == 0:
                item = self._new_item("movie", moment)
                units = [(0, 0)]
            else:
                item = self._new_item("show", moment, (3,))
                units = [(1, 1), (1, 2), (1, 3)]
            for _ in range(rng.randint(53, 61)):
                for season, episode in units:
                    plays.append(Viewing(item.index, season, episode, moment))
                    moment += rng.randint(2 * HOUR, 6 * HOUR)
                moment += rng.randint(3 * DAY, 40 * DAY)
        return plays

    def _duplicates(self, count: int) -> list[Viewing]:
        """Return repeats of random dated plays, seconds to 47 hours later."""
        rng = self.rng
        dated = [viewing for viewing in self.viewings if viewing.watched_at]
        plays = []
        for _ in range(count if dated else 0):
            original = rng.choice(dated)
            if rng.random() < 0.5:
                offset = rng.randint(1, 120)
            else:
                offset = rng.randint(HOUR, 47 * HOUR)
            plays.append(
                Viewing(
                    original.item,
                    original.season,
                    original.episode,
                    original.watched_at + offset,
                    action=rng.choice(("scrobble", "checkin")),
                )
            )
        return plays

    def _undated(self, count: int) -> list[Viewing]:
        """Return plays without a date of watched units and of unseen movies."""
        rng = self.rng
        dated = list(self.viewings)
        plays: list[Viewing] = []
        for _ in range(count):
            roll = rng.random()
            if plays and roll < 0.25:
                previous = rng.choice(plays)
                plays.append(
                    Viewing(previous.item, previous.season, previous.episode, None)
                )
            elif dated and roll < 0.6:
                original = rng.choice(dated)
                plays.append(
                    Viewing(original.item, original.season, original.episode, None)
                )
            else:
                item = self._new_item("movie", None)
                plays.append(Viewing(item.index, 0, 0, None))
        return plays

    def build(self) -> list[Viewing]:
        """Return exactly `target` viewings with every feature in its share."""
        target = self.target
        capped = 0
        if target >= CAP_MIN_VIEWINGS:
            capped = min(MAX_CAPPED_ITEMS, max(1, target // VIEWINGS_PER_CAPPED_ITEM))
        cap_plays = self._capped_viewings(capped)
        duplicates = round(target * DUPLICATE_SHARE)
        undated = round(target * UNDATED_SHARE)
        regular = target - len(cap_plays) - duplicates - undated
        if regular < 1:
            # A file this small gets regular viewings only.
            cap_plays, duplicates, undated, capped = [], 0, 0, 0
            regular = target
        movies = round(regular * MOVIE_SHARE)
        self._movie_viewings(movies)
        self._show_viewings(regular - movies)
        self.viewings.extend(self._duplicates(duplicates))
        self.viewings.extend(self._undated(undated))
        self.viewings.extend(cap_plays)

        summary = self.summary
        summary.duplicates_within_48h = duplicates
        summary.undated = undated
        summary.capped_items = capped
        summary.capped_item_viewings = len(cap_plays)
        assert len(self.viewings) == target, (len(self.viewings), target)
        return self.viewings


def _slug(title: str) -> str:
    """Return a Trakt-style slug: ASCII, lower case, words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore")
    words = "".join(c if c.isalnum() else " " for c in ascii_title.decode().lower())
    return "-".join(words.split())


def _timestamp(seconds: int, milliseconds: bool) -> str:
    moment = time.gmtime(seconds)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", moment)
    return f"{text}.000Z" if milliseconds else f"{text}Z"


def _chronological(viewings: list[Viewing]) -> list[int]:
    """Return viewing positions oldest first, undated last, ties in build order."""
    return sorted(
        range(len(viewings)),
        key=lambda i: (viewings[i].watched_at is None, viewings[i].watched_at or 0, i),
    )


class TraktWriter:
    """Render viewings as Trakt API history entries, caching item JSON."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.item_json: dict[int, str] = {}
        self.episode_json: dict[tuple[int, int, int], str] = {}

    def _item(self, item: Item) -> str:
        cached = self.item_json.get(item.index)
        if cached is None:
            ids: dict[str, object] = {
                "trakt": item.trakt,
                "slug": item.slug,
                "imdb": item.imdb,
                "tmdb": item.tmdb,
            }
            if item.media_type == "show":
                ids = {**ids, "tvdb": item.tvdb, "tvrage": None}
            body = {"title": item.title, "year": item.year, "ids": ids}
            cached = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            self.item_json[item.index] = cached
        return cached

    def _episode(self, item: Item, season: int, number: int) -> str:
        key = (item.index, season, number)
        cached = self.episode_json.get(key)
        if cached is None:
            serial = item.first_episode + sum(item.seasons[: season - 1]) + number
            ids = {
                "trakt": 50_000_000 + serial,
                "tvdb": 10_000_000 + serial,
                "imdb": f"tt{30_000_000 + serial}",
                "tmdb": 5_000_000 + serial,
                "tvrage": None,
            }
            body = {
                "season": season,
                "number": number,
                "title": f"Episode {number}",
                "ids": ids,
            }
            cached = json.dumps(body, separators=(",", ":"))
            self.episode_json[key] = cached
        return cached

    def entry(self, history_id: int, viewing: Viewing) -> str:
        """Return one history entry as compact JSON."""
        item = self.items[viewing.item]
        watched_at = "null"
        if viewing.watched_at is not None:
            watched_at = f'"{_timestamp(viewing.watched_at, milliseconds=True)}"'
        head = (
            f'{{"id":{history_id},"watched_at":{watched_at},"action":"{viewing.action}"'
        )
        if item.media_type == "movie":
            return f'{head},"type":"movie","movie":{self._item(item)}}}'
        episode = self._episode(item, viewing.season, viewing.episode)
        return (
            f'{head},"type":"episode","episode":{episode},"show":{self._item(item)}}}'
        )


def write_trakt(path: Path, items: list[Item], viewings: list[Viewing]) -> None:
    """Write a Trakt history JSON array, newest first, undated entries last."""
    order = _chronological(viewings)
    dated = [i for i in order if viewings[i].watched_at is not None]
    undated = [i for i in order if viewings[i].watched_at is None]
    # History ids grow with time, and undated plays get the lowest ones.
    output = list(reversed(dated)) + undated
    first_id = 7_000_000_000 + len(output)
    writer = TraktWriter(items)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("[\n")
        for number, position in enumerate(output):
            out.write(writer.entry(first_id - number, viewings[position]))
            out.write(",\n" if number < len(output) - 1 else "\n")
        out.write("]\n")


def _csv_rows(
    items: list[Item], viewings: list[Viewing], rng: random.Random
) -> Iterator[list[object]]:
    seen: set[tuple[int, int, int]] = set()
    for i in _chronological(viewings):
        viewing = viewings[i]
        item = items[viewing.item]
        unit = (viewing.item, viewing.season, viewing.episode)
        rewatch = "yes" if unit in seen and viewing.watched_at is not None else ""
        if viewing.watched_at is not None:
            seen.add(unit)
        watched_at = ""
        if viewing.watched_at is not None:
            watched_at = _timestamp(viewing.watched_at, milliseconds=False)
        is_movie = item.media_type == "movie"
        rating_share = 0.3 if is_movie else 0.02
        rating = rng.randint(1, 10) if rng.random() < rating_share else ""
        yield [
            item.title,
            item.year,
            "movie" if is_movie else "episode",
            item.imdb,
            item.tmdb,
            "" if item.tvdb is None else item.tvdb,
            "" if is_movie else viewing.season,
            "" if is_movie else viewing.episode,
            watched_at,
            rating,
            rewatch,
        ]


def write_csv(
    path: Path, items: list[Item], viewings: list[Viewing], seed: int
) -> None:
    """Write the generic mapped CSV, oldest first, undated rows last."""
    # Ratings come from their own generator so that they do not shift the
    # history when the CSV layout changes.
    rng = random.Random(seed + 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_rows(items, viewings, rng))


def generate(fmt: str, viewings: int, seed: int, out: Path) -> Summary:
    """Write an export of `viewings` plays in format `fmt` to `out`."""
    if fmt not in FORMATS:
        raise ValueError(
            f"invalid format {fmt!r}: expected one of {', '.join(FORMATS)}"
        )
    if viewings < 1:
        raise ValueError(f"invalid viewing count {viewings}: expected 1 or more")
    builder = HistoryBuilder(viewings, seed)
    plays = builder.build()
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "trakt":
        write_trakt(out, builder.items, plays)
    else:
        write_csv(out, builder.items, plays, seed)
    builder.summary.format = fmt
    return builder.summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--format", choices=FORMATS, required=True, help="export format"
    )
    parser.add_argument(
        "--viewings", type=int, required=True, help="number of plays (rows) to write"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument(
        "--summary", action="store_true", help="print feature counts as JSON on stdout"
    )
    args = parser.parse_args(argv)
    if args.viewings < 1:
        parser.error(f"--viewings must be 1 or more, got {args.viewings}")
    summary = generate(args.format, args.viewings, args.seed, args.out)
    if args.summary:
        json.dump(asdict(summary), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
