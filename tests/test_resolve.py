"""Resolver tests against an in-process fake of Simkl's search endpoints.

The fake responds the way the Simkl API documents it: `/search/id` returns
null when a title names more than one item, text search returns `ids.simkl_id`
and `all_titles`, and episode lists carry per-episode ids. It counts every
request, so tests can check what was, and was not, asked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from importer.errors import InputError, ResolveError
from importer.events import conform
from importer.resolve import ResolveOptions, load_overrides, resolve_events
from importer.resolve.cache import ResolveCache
from importer.resolve.titles import normalize_title

SERIES_TYPES = ("tv", "anime")


def movie(simkl: int, title: str, year: int, **ids: Any) -> dict[str, Any]:
    return {"simkl": simkl, "type": "movie", "title": title, "year": year, "ids": ids}


def show(simkl: int, title: str, year: int, episodes=(), kind="tv", **ids) -> dict:
    return {
        "simkl": simkl,
        "type": kind,
        "title": title,
        "year": year,
        "ids": ids,
        "episodes": list(episodes),
    }


def ep(season: int, number: int, absolute: int | None = None, **ids: Any) -> dict:
    return {"season": season, "episode": number, "abs": absolute, "ids": ids}


class FakeSimkl:
    """Search, id lookup and episode lists over a list of catalog items."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, params: dict[str, Any]) -> Any:
        self.requests.append((path, dict(params)))
        if path == "/search/id":
            return self.search_id(params)
        found = re.fullmatch(r"/search/(movie|tv|anime)", path)
        if found:
            return self.search_text(found.group(1), str(params["q"]))
        found = re.fullmatch(r"/(tv|anime)/episodes/(\d+)", path)
        if found:
            return self.episodes(int(found.group(2)))
        raise AssertionError(f"unexpected request {path}")

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    @staticmethod
    def summary(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": item["type"],
            "title": item["title"],
            "year": item["year"],
            "ids": {"simkl": item["simkl"], "slug": item["title"].lower()},
        }

    def search_id(self, params: dict[str, Any]) -> Any:
        if "title" in params:
            return self.search_title(params)
        (key, value), *rest = [(k, v) for k, v in params.items() if k != "type"]
        found_episodes = []
        for item in self.items:
            for episode in item.get("episodes", ()):
                if str(episode["ids"].get(key)) == str(value):
                    found_episodes += [
                        {
                            "type": "episode",
                            "episode": {
                                "season": episode["season"],
                                "episode": episode["episode"],
                            },
                            "show": self.summary(item),
                        }
                    ]
        if found_episodes:
            return found_episodes
        wanted_type = params.get("type")
        hits = []
        for item in self.items:
            if str(item["ids"].get(key)) != str(value):
                continue
            if key == "tmdb":
                group = "movie" if item["type"] == "movie" else "show"
                if wanted_type != group:
                    continue
            hits.append(self.summary(item))
        return hits or None

    def search_title(self, params: dict[str, Any]) -> Any:
        kinds = {"movie": ("movie",), "show": SERIES_TYPES, "anime": ("anime",)}
        hits = [
            self.summary(item)
            for item in self.items
            if item["type"] in kinds[params["type"]]
            and item["year"] == params["year"]
            and normalize_title(params["title"]) in self.titles(item)
        ]
        return hits if len(hits) == 1 else None

    def titles(self, item: dict[str, Any]) -> set[str]:
        return {
            normalize_title(t) for t in (item["title"], *item.get("all_titles", ()))
        }

    def search_text(self, kind: str, query: str) -> list[dict[str, Any]]:
        slug = re.search(r"letterboxd\.com/film/([^/]+)/", query)
        out = []
        for item in self.items:
            if slug:
                if item["ids"].get("letterboxd") != slug.group(1):
                    continue
            elif item["type"] != kind or not any(
                normalize_title(query) in t for t in self.titles(item)
            ):
                continue
            out.append(
                {
                    "title": item["title"],
                    "year": item["year"],
                    "endpoint_type": {"movie": "movies", "tv": "tv", "anime": "anime"}[
                        item["type"]
                    ],
                    "all_titles": item.get("all_titles", []),
                    "ids": {"simkl_id": item["simkl"], "slug": item["title"].lower()},
                }
            )
        return out

    def episodes(self, simkl: int) -> list[dict[str, Any]]:
        item = next(i for i in self.items if i["simkl"] == simkl)
        return [
            {
                "season": e["season"],
                "episode": e["episode"],
                "type": "special" if e["season"] == 0 else "episode",
                "ids": {"simkl_id": simkl * 1000 + i, **e["ids"]},
                **({"abs": e["abs"]} if e["abs"] else {}),
            }
            for i, e in enumerate(item["episodes"])
        ]


def events(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"source": "test", "source_file": "export.csv", "record": "watch"}
    numbered = [{**base, "source_row": n, **row} for n, row in enumerate(rows, start=2)]
    return conform(pl.DataFrame(numbered, infer_schema_length=None))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "resolve.sqlite3"


def run(fake: FakeSimkl, frame: pl.DataFrame, cache: Path, **kwargs: Any):
    return resolve_events(frame, fake, cache_path=cache, **kwargs)


def match_of(resolution, title: str) -> dict[str, Any]:
    rows = resolution.matches.filter(pl.col("title") == title).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# Movies: remakes, years, shared titles, scripts ------------------------------

REMAKES = [
    movie(101, "The Thing", 1982),
    movie(102, "The Thing", 2011),
    movie(103, "Copper Tide", 2011, imdb="tt9900603"),
    show(201, "Copper Tide", 2011),
]


def test_remake_matched_by_year(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    res = run(
        fake, events({"media_type": "movie", "title": "The Thing", "year": 2011}), cache
    )
    found = match_of(res, "The Thing")
    assert found["simkl"] == 102
    assert found["how"] == "title_year"
    assert res.events["simkl"].to_list() == [102]


def test_year_off_by_one_single_candidate_low(cache: Path) -> None:
    fake = FakeSimkl([movie(301, "Glass Orchard", 2019)])
    res = run(
        fake,
        events({"media_type": "movie", "title": "Glass Orchard", "year": 2018}),
        cache,
    )
    found = match_of(res, "Glass Orchard")
    assert found["simkl"] == 301
    assert found["how"] == "text"
    assert found["confidence"] == "low"


def test_year_off_by_one_with_remake_ambiguous(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    res = run(
        fake, events({"media_type": "movie", "title": "The Thing", "year": 1983}), cache
    )
    assert res.events.height == 0
    assert res.unresolved["reason"].to_list() == ["ambiguous"]
    detail = res.unresolved["detail"][0]
    assert "simkl=101" in detail
    assert "simkl=102" in detail


def test_title_without_year_two_candidates(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    res = run(fake, events({"media_type": "movie", "title": "The Thing"}), cache)
    found = match_of(res, "The Thing")
    assert found["status"] == "ambiguous"
    assert found["simkl"] is None
    assert res.review["reason"].to_list() == ["ambiguous"]


def test_shared_title_follows_row_type(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    frame = events(
        {"media_type": "movie", "title": "Copper Tide", "year": 2011},
        {
            "media_type": "show",
            "title": "Copper Tide",
            "year": 2011,
            "season": 1,
            "episode": 1,
        },
    )
    res = run(fake, frame, cache)
    assert res.matches.sort("media_type")["simkl"].to_list() == [103, 201]


def test_non_latin_title_through_alternatives(cache: Path) -> None:
    spirited = movie(401, "Spirited Away", 2001)
    spirited["all_titles"] = ["千と千尋の神隠し", "Sen to Chihiro no kamikakushi"]
    fake = FakeSimkl([spirited, movie(402, "Spirit", 2001)])
    res = run(
        fake,
        events({"media_type": "movie", "title": "千と千尋の神隠し", "year": 2001}),
        cache,
    )
    assert match_of(res, "千と千尋の神隠し")["simkl"] == 401


def test_unknown_title_not_found(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    res = run(
        fake,
        events({"media_type": "movie", "title": "Nowhere Film", "year": 1999}),
        cache,
    )
    assert res.unresolved["reason"].to_list() == ["not_found"]
    assert res.summary["test"]["unmatched"] == 1


# Letterboxd -------------------------------------------------------------------


def test_letterboxd_slug_from_watched_row(cache: Path) -> None:
    fake = FakeSimkl(
        [movie(501, "Solaris", 1972, letterboxd="solaris"), movie(502, "Solaris", 2002)]
    )
    frame = events(
        {
            "source_file": "watched.csv",
            "media_type": "movie",
            "title": "Solaris",
            "year": 1972,
            "link": "https://letterboxd.com/film/solaris/",
        },
        {
            "source_file": "diary.csv",
            "media_type": "movie",
            "title": "Solaris",
            "year": 1972,
            "link": "https://boxd.it/abc1",
        },
    )
    res = run(fake, frame.with_columns(source=pl.lit("letterboxd")), cache)
    assert res.events["simkl"].to_list() == [501, 501]
    assert res.events["letterboxd"].to_list() == ["solaris", "solaris"]
    assert match_of(res, "Solaris")["how"] == "url"
    assert fake.paths() == ["/search/movie"]


def test_letterboxd_diary_long_link_slug(cache: Path) -> None:
    fake = FakeSimkl([movie(501, "Solaris", 1972, letterboxd="solaris")])
    frame = events(
        {
            "source_file": "diary.csv",
            "media_type": "movie",
            "title": "Solaris",
            "year": 1972,
            "link": "https://letterboxd.com/someone/film/solaris/1/",
        },
    )
    res = run(fake, frame, cache)
    assert res.events["simkl"].to_list() == [501]
    assert fake.requests[0][1]["q"] == "https://letterboxd.com/film/solaris/"


# Ids: namespace and media type ---------------------------------------------

NAMESPACES = [
    movie(601, "Ember Clock", 2018, imdb="tt9800111", tmdb=81234),
    show(
        602,
        "Harbor Patrol Weekly",
        2015,
        tvdb=81234,
        episodes=[ep(2023, 18, tvdb=9811001)],
    ),
    show(603, "Unrelated Show", 2010, tmdb=81234),
]


def test_tvdb_id_stays_in_namespace(cache: Path) -> None:
    fake = FakeSimkl(NAMESPACES)
    frame = events(
        {
            "media_type": "show",
            "title": "Harbor Patrol Weekly",
            "tvdb": 81234,
            "season": 2023,
            "episode": 18,
            "ep_tvdb": 9811001,
        },
        {
            "media_type": "movie",
            "title": "Ember Clock",
            "tmdb": 81234,
            "imdb": "tt9800111",
        },
    )
    res = run(fake, frame, cache)
    by_title = {m["title"]: m["simkl"] for m in res.matches.to_dicts()}
    assert by_title == {"Harbor Patrol Weekly": 602, "Ember Clock": 601}
    sent = [params for path, params in fake.requests if path == "/search/id"]
    assert {"tvdb": 81234} in sent
    assert all(p.get("tmdb") != 81234 or p.get("type") == "movie" for p in sent)
    assert res.events.filter(pl.col("simkl") == 602)["tmdb"].to_list() == [None]


def test_tmdb_needs_row_type(cache: Path) -> None:
    fake = FakeSimkl(NAMESPACES)
    res = run(
        fake,
        events({"media_type": "show", "title": "Unrelated Show", "tmdb": 81234}),
        cache,
    )
    assert res.events["simkl"].to_list() == [603]
    assert fake.requests == [("/search/id", {"tmdb": 81234, "type": "show"})]


def test_unknown_id_never_title_searched(cache: Path) -> None:
    fake = FakeSimkl(NAMESPACES)
    res = run(
        fake,
        events({"media_type": "movie", "title": "Ember Clock", "imdb": "tt0000001"}),
        cache,
    )
    assert res.unresolved["reason"].to_list() == ["not_found"]
    assert fake.paths() == ["/search/id"]


def test_id_of_other_type_not_used(cache: Path) -> None:
    fake = FakeSimkl(NAMESPACES)
    res = run(
        fake,
        events({"media_type": "show", "title": "Ember Clock", "imdb": "tt9800111"}),
        cache,
    )
    assert res.events.height == 0
    assert "is a movie on Simkl" in res.unresolved["detail"][0]


# IMDb episodes and series ----------------------------------------------------

IMDB = [
    show(
        701,
        "Lantern Street Precinct",
        2016,
        imdb="tt9900700",
        episodes=[ep(1, 5, imdb="tt9900601")],
    ),
    movie(702, "Homecoming", 2016),
    movie(703, "Pilot", 2005),
]


def test_imdb_episode_placed_by_episode_id(cache: Path) -> None:
    fake = FakeSimkl(IMDB)
    res = run(
        fake,
        events(
            {
                "media_type": "show",
                "title": "Homecoming",
                "year": 2016,
                "ep_imdb": "tt9900601",
            }
        ),
        cache,
    )
    row = res.events.to_dicts()[0]
    assert (row["simkl"], row["season"], row["episode"]) == (701, 1, 5)
    assert "/search/movie" not in fake.paths()


def test_imdb_episode_split_in_two(cache: Path) -> None:
    double = show(
        704,
        "Deep Orbit Nine",
        1993,
        imdb="tt9900710",
        episodes=[ep(1, 1, imdb="tt9900711"), ep(1, 2, imdb="tt9900711")],
    )
    res = run(
        FakeSimkl([double]),
        events({"media_type": "show", "title": "Emissary", "ep_imdb": "tt9900711"}),
        cache,
    )
    assert res.events.select("simkl", "season", "episode").rows() == [
        (704, 1, 1),
        (704, 1, 2),
    ]
    assert res.placements["via"].to_list() == ["episode_id", "episode_id"]


def test_imdb_episode_unknown_not_movie_searched(cache: Path) -> None:
    fake = FakeSimkl(IMDB)
    res = run(
        fake,
        events(
            {
                "media_type": "show",
                "title": "Pilot",
                "year": 2005,
                "ep_imdb": "tt9900604",
            }
        ),
        cache,
    )
    assert res.events.height == 0
    assert res.unresolved["reason"].to_list() == ["not_found"]
    assert "not searched as a movie title" in res.unresolved["detail"][0]
    assert fake.paths() == ["/search/id"]


def test_movie_row_with_episode_becomes_show(cache: Path) -> None:
    fake = FakeSimkl(IMDB)
    res = run(
        fake,
        events(
            {
                "media_type": "movie",
                "title": "Lantern Street Precinct",
                "imdb": "tt9900700",
                "season": 1,
                "episode": 5,
            }
        ),
        cache,
    )
    assert res.events["media_type"].to_list() == ["show"]
    assert res.events["simkl"].to_list() == [701]


# Episode numbering -----------------------------------------------------------

TVTIME = [
    show(
        801,
        "Kitchen Lab Myths",
        2003,
        tvdb=990001,
        episodes=[ep(1, 1, tvdb=9900101), ep(1, 2, tvdb=9900102)],
    ),
    show(
        802,
        "Office Hours US",
        2005,
        tvdb=990002,
        episodes=[ep(0, 3, tvdb=9900201), ep(0, 7, tvdb=9900202), ep(1, 1, tvdb=1)],
    ),
    show(
        803,
        "Deep Orbit Nine",
        1993,
        tvdb=990003,
        episodes=[ep(1, 1, tvdb=9900301), ep(1, 2, tvdb=9900301)],
    ),
]


def tvtime_row(show_id: int, season: int, number: int, episode_id: int | None) -> dict:
    return {
        "media_type": "show",
        "tvdb": show_id,
        "season": season,
        "episode": number,
        "ep_tvdb": episode_id,
    }


def positions(res, simkl: int) -> list[tuple[int, int]]:
    frame = res.events.filter(pl.col("simkl") == simkl)
    return list(zip(frame["season"].to_list(), frame["episode"].to_list(), strict=True))


def test_episode_id_beats_season_number(cache: Path) -> None:
    frame = events(
        tvtime_row(990001, 2003, 1, 9900101), tvtime_row(990001, 2003, 2, 9900102)
    )
    res = run(FakeSimkl(TVTIME), frame, cache)
    assert positions(res, 801) == [(1, 1), (1, 2)]
    assert res.placements["via"].to_list() == ["episode_id", "episode_id"]


def test_two_specials_stay_two(cache: Path) -> None:
    frame = events(tvtime_row(990002, 0, 0, 9900201), tvtime_row(990002, 0, 0, 9900202))
    res = run(FakeSimkl(TVTIME), frame, cache)
    assert positions(res, 802) == [(0, 3), (0, 7)]


def test_split_episode_writes_both_halves(cache: Path) -> None:
    frame = events(tvtime_row(990003, 1, 1, 9900301))
    res = run(FakeSimkl(TVTIME), frame, cache)
    assert positions(res, 803) == [(1, 1), (1, 2)]
    assert res.events["source_row"].to_list() == [2, 2]


def test_unknown_episode_id_reported_raw(cache: Path) -> None:
    frame = events(tvtime_row(990001, 2003, 7, 123456))
    res = run(FakeSimkl(TVTIME), frame, cache)
    assert res.events.height == 0
    skip = res.unresolved.to_dicts()[0]
    assert (skip["season"], skip["episode"], skip["reason"]) == (2003, 7, "not_found")
    assert "123456" in skip["detail"]
    assert res.summary["test"]["unplaced_episodes"] == 1


def test_unknown_episode_id_kept_where_unchecked(cache: Path) -> None:
    partial = show(
        804,
        "Harbor Patrol Weekly",
        2015,
        tvdb=81234,
        episodes=[ep(1, 1), ep(1, 2, tvdb=9811002)],
    )
    frame = events(tvtime_row(81234, 1, 1, 9811001), tvtime_row(81234, 1, 2, 9811009))
    res = run(FakeSimkl([partial]), frame, cache)
    assert positions(res, 804) == [(1, 1)]
    assert res.unresolved["episode"].to_list() == [2]


def test_special_without_id_reported(cache: Path) -> None:
    res = run(FakeSimkl(TVTIME), events(tvtime_row(990002, 0, 0, None)), cache)
    assert res.unresolved["reason"].to_list() == ["not_found"]


# Absolute numbering ----------------------------------------------------------

STARLIT = [
    show(
        901,
        "Starlit Courier",
        2021,
        kind="anime",
        tvdb=66001,
        episodes=[ep(1, n, absolute=n) for n in range(1, 51)],
    ),
]


def starlit(season: int, number: int, absolute: int | None) -> dict:
    return {
        "media_type": "show",
        "title": "Starlit Courier",
        "tvdb": 66001,
        "season": season,
        "episode": number,
        "episode_abs": absolute,
    }


def test_absolute_number_maps(cache: Path) -> None:
    fake = FakeSimkl(STARLIT)
    res = run(fake, events(starlit(2, 3, 27), starlit(2, 4, None)), cache)
    assert positions(res, 901) == [(1, 27), (1, 28)]
    assert res.placements["via"].to_list() == ["absolute", "computed_absolute"]
    assert res.placements["confidence"].to_list() == ["high", "low"]
    assert "/anime/episodes/901" in fake.paths()


def test_unknown_episode_id_falls_back_absolute(cache: Path) -> None:
    numbered = [ep(1, n, absolute=n, tvdb=70000 + n) for n in range(1, 51)]
    fake = FakeSimkl(
        [
            show(
                902,
                "Starlit Courier",
                2021,
                kind="anime",
                tvdb=66001,
                episodes=numbered,
            )
        ]
    )
    frame = events(
        {**starlit(2, 3, 27), "ep_tvdb": 1}, {**starlit(2, 4, None), "ep_tvdb": 2}
    )
    res = run(fake, frame, cache)
    assert positions(res, 902) == [(1, 27)]
    assert res.unresolved["season"].to_list() == [2]
    assert res.unresolved["episode"].to_list() == [4]


def test_absolute_unknown_sizes_reported(cache: Path) -> None:
    res = run(FakeSimkl(STARLIT), events(starlit(2, 4, None)), cache)
    assert res.events.height == 0
    assert "S02E04" in res.unresolved["detail"][0]


# Cache and re-runs -------------------------------------------------------------


def test_rerun_sends_no_request(cache: Path) -> None:
    fake = FakeSimkl(REMAKES + TVTIME)
    frame = events(
        {"media_type": "movie", "title": "The Thing", "year": 1982},
        {"media_type": "movie", "title": "The Thing"},
        {"media_type": "movie", "title": "Nowhere Film", "year": 1999},
        tvtime_row(990003, 1, 1, 9900301),
    )
    first = run(fake, frame, cache)
    count = len(fake.requests)
    assert count > 0
    second = run(fake, frame, cache)
    assert len(fake.requests) == count
    assert second.matches.equals(first.matches)
    assert second.events.equals(first.events)


def test_refresh_asks_again(cache: Path) -> None:
    fake = FakeSimkl(REMAKES)
    frame = events({"media_type": "movie", "title": "The Thing", "year": 1982})
    run(fake, frame, cache)
    run(fake, frame, cache, options=ResolveOptions(refresh=True))
    assert len(fake.requests) == 2


def test_cache_kept_apart_per_server(cache: Path) -> None:
    first = FakeSimkl(REMAKES)
    first.api_url = "http://127.0.0.1:1"
    second = FakeSimkl([movie(109, "The Thing", 1982)])
    second.api_url = "http://127.0.0.1:2"
    frame = events({"media_type": "movie", "title": "The Thing", "year": 1982})
    assert run(first, frame, cache).events["simkl"].to_list() == [101]
    assert run(second, frame, cache).events["simkl"].to_list() == [109]
    assert len(second.requests) == 1


def test_progress_counts_items(cache: Path) -> None:
    calls: list[tuple[int, int]] = []
    frame = events(
        {"media_type": "movie", "title": "The Thing", "year": 1982},
        {"media_type": "movie", "title": "The Thing", "year": 1982},
        {"media_type": "movie", "title": "Copper Tide", "year": 2011},
    )
    resolve_events(
        frame,
        FakeSimkl(REMAKES),
        cache_path=cache,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 2), (2, 2)]


def test_api_failure_keeps_earlier_matches(cache: Path) -> None:
    from importer.errors import ApiError, ResolveError

    class FailingOnce(FakeSimkl):
        def get(self, path: str, params: dict[str, Any]) -> Any:
            if params.get("title") == "Copper Tide" and not self.failed:
                self.failed = True
                raise ApiError("server error", status=503, retryable=True)
            return super().get(path, params)

    fake = FailingOnce(REMAKES)
    fake.failed = False
    frame = events(
        {"media_type": "movie", "title": "The Thing", "year": 1982},
        {"media_type": "movie", "title": "Copper Tide", "year": 2011},
    )
    with pytest.raises(ResolveError, match="run the same command again"):
        run(fake, frame, cache)
    before = len(fake.requests)
    res = run(fake, frame, cache)
    assert res.events["simkl"].to_list() == [101, 103]
    assert all(
        params.get("title") != "The Thing" for _, params in fake.requests[before:]
    )


# Overrides -------------------------------------------------------------------


def test_review_then_override(cache: Path, tmp_path: Path) -> None:
    from importer.resolve import write_review_csv

    fake = FakeSimkl(REMAKES)
    frame = events(
        {"media_type": "movie", "title": "The Thing"},
        {"media_type": "movie", "title": "The Thing"},
    )
    first = run(fake, frame, cache)
    review = tmp_path / "review.csv"
    write_review_csv(first.review, review)
    filled = pl.read_csv(review).with_columns(simkl_id=pl.lit(101))
    filled.write_csv(review)
    second = run(fake, frame, cache, overrides=review)
    assert second.events["simkl"].to_list() == [101, 101]
    assert match_of(second, "The Thing")["how"] == "override"
    third = run(fake, frame, cache)
    assert third.events.height == 0


def test_override_ids_replace_source_ids(cache: Path, tmp_path: Path) -> None:
    fake = FakeSimkl(NAMESPACES)
    path = tmp_path / "overrides.csv"
    path.write_text(
        "title,year,type,simkl_id,imdb,tmdb,tvdb\nEmber Clock,2018,movie,,tt9800111,,\n"
    )
    frame = events(
        {"media_type": "movie", "title": "Ember Clock", "year": 2018, "tmdb": 5}
    )
    res = run(fake, frame, cache, overrides=load_overrides(path))
    row = res.events.to_dicts()[0]
    assert (row["simkl"], row["imdb"], row["tmdb"]) == (601, "tt9800111", None)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("k1,abc,,,", "abc"),
        ("k1,,nm123,,", "nm123"),
        ("k1,,,-4,", "-4"),
        ("k1,,,,1.5", "1.5"),
    ],
)
def test_bad_override_names_row_and_value(
    tmp_path: Path, line: str, value: str
) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text(f"item_key,simkl_id,imdb,tmdb,tvdb\nk0,,,,\n{line}\n")
    with pytest.raises(InputError) as caught:
        load_overrides(path)
    assert caught.value.row == 3
    assert caught.value.value == value
    assert str(path) in str(caught.value)


def test_override_header_without_ids(tmp_path: Path) -> None:
    path = tmp_path / "overrides.csv"
    path.write_text("title,year\nThe Thing,1982\n")
    with pytest.raises(InputError, match="header"):
        load_overrides(path)


# Command line ----------------------------------------------------------------


def fake_client_factory(fake: FakeSimkl):
    import httpx

    from importer.client import SimklClient

    identity = ("client_id", "app-name", "app-version")

    def handler(request: httpx.Request) -> httpx.Response:
        params = {k: v for k, v in request.url.params.items() if k not in identity}
        if "year" in params:
            params["year"] = int(params["year"])
        return httpx.Response(200, json=fake.get(request.url.path, params))

    def factory(api_url: str, client_id: str | None) -> SimklClient:
        return SimklClient(api_url, client_id, transport=httpx.MockTransport(handler))

    return factory


def test_cli_writes_review_and_takes_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from importer.cli import cli

    fake = FakeSimkl([*REMAKES, movie(104, "Solaris", 1972)])
    monkeypatch.setattr(
        "importer.commands.resolve.SimklClient", fake_client_factory(fake)
    )
    diary = tmp_path / "diary.csv"
    diary.write_text(
        "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
        "2024-01-03,The Thing,,https://boxd.it/b1,4,,,2024-01-03\n"
        "2024-01-04,Solaris,1972,https://boxd.it/b2,,,,2024-01-04\n"
    )
    review = tmp_path / "review.csv"
    common = [
        str(diary),
        "--api-url",
        "http://127.0.0.1:9",
        "--cache",
        str(tmp_path / "c.db"),
    ]

    first = CliRunner().invoke(cli, ["resolve", *common, "--output", str(review)])
    assert first.exit_code == 0, first.output
    assert "letterboxd: 1 matched, 1 ambiguous, 0 not found" in first.output
    lines = pl.read_csv(review)
    assert lines["reason"].to_list() == ["ambiguous"]
    assert lines["source_row"].to_list() == [2]

    lines.with_columns(simkl_id=pl.lit(102)).write_csv(review)
    count = len(fake.requests)
    second = CliRunner().invoke(cli, ["resolve", *common, "--overrides", str(review)])
    assert second.exit_code == 0, second.output
    assert "letterboxd: 2 matched, 0 ambiguous" in second.output
    assert "0 requests sent" in second.output
    assert len(fake.requests) == count


def test_cli_bad_override_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from importer.cli import cli

    overrides = tmp_path / "overrides.csv"
    overrides.write_text("item_key,simkl_id\nk1,twelve\n")
    result = CliRunner().invoke(
        cli,
        [
            "resolve",
            str(tmp_path),
            "--api-url",
            "http://127.0.0.1:9",
            "--overrides",
            str(overrides),
        ],
    )
    assert result.exit_code == 2
    assert f"{overrides}, row 2: invalid simkl_id 'twelve'" in result.output


def test_cache_under_a_file_is_one_error(tmp_path: Path):
    blocker = tmp_path / "cache"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ResolveError) as caught:
        ResolveCache(blocker / "resolve.sqlite3")
    assert "cannot open the resolver cache" in str(caught.value)
