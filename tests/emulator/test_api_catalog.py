"""Catalog endpoints: id lookup, text search and episode lists."""

from __future__ import annotations

import pytest

from .support import ANIME, DOUBLE_SHOW, MOVIE, SHOW, Api


def _lookup(api: Api, **params: str) -> object:
    response = api.client.get("/search/id", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("params", "simkl"),
    [
        ({"simkl": "101"}, MOVIE),
        ({"imdb": "tt0000101"}, MOVIE),
        ({"imdb": "https://www.imdb.com/title/tt0000101/"}, MOVIE),
        ({"tmdb": "901", "type": "movie"}, MOVIE),
        ({"tmdb": "901", "type": "show"}, SHOW),
        ({"tvdb": "7001"}, SHOW),
        ({"mal": "5001"}, ANIME),
        ({"anidb": "6001"}, ANIME),
        ({"title": "Copper Tide", "year": "2011", "type": "movie"}, MOVIE),
        ({"title": "星降り", "type": "anime"}, ANIME),
    ],
)
def test_search_id_finds_item(api: Api, params: dict[str, str], simkl: int) -> None:
    [result] = _lookup(api, **params)
    assert result["ids"]["simkl"] == simkl


def test_search_id_result_shape(api: Api) -> None:
    [result] = _lookup(api, tvdb="7001")
    assert result == {
        "type": "tv",
        "title": "Tiny Town",
        "poster": None,
        "year": 2020,
        "status": None,
        "ids": {"simkl": SHOW, "slug": "tiny-town"},
        "total_episodes": 3,
    }


def test_search_id_ambiguous_title_is_null(api: Api) -> None:
    assert _lookup(api, title="Twin Gates", year="2010", type="movie") is None


def test_search_id_unknown_is_empty(api: Api) -> None:
    assert _lookup(api, imdb="tt9999999") == []
    assert _lookup(api, title="No Such Film") == []


def test_search_text_matches_alternative_titles(api: Api) -> None:
    for query in ("copper tide", "Marea de cobre", "銅の潮", "copper tide 2011"):
        response = api.client.get("/search/movie", params={"q": query})
        [result] = response.json()
        assert result["ids"]["simkl_id"] == MOVIE, query
        assert result["endpoint_type"] == "movies"


def test_search_text_letterboxd_url(api: Api) -> None:
    url = "https://letterboxd.com/film/copper-tide/"
    for kind in ("movie", "tv"):
        [result] = api.client.get(f"/search/{kind}", params={"q": url}).json()
        assert result["ids"]["simkl_id"] == MOVIE


def test_search_text_pages(api: Api) -> None:
    first = api.client.get("/search/movie", params={"q": "twin", "limit": "1"})
    second = api.client.get(
        "/search/movie", params={"q": "twin", "limit": "1", "page": "2"}
    )
    assert first.headers["X-Pagination-Item-Count"] == "2"
    assert first.headers["X-Pagination-Page-Count"] == "2"
    ids = {first.json()[0]["ids"]["simkl_id"], second.json()[0]["ids"]["simkl_id"]}
    assert ids == {103, 104}


def test_search_text_extended_full(api: Api) -> None:
    params = {"q": "starfall", "extended": "full"}
    [result] = api.client.get("/search/anime", params=params).json()
    assert result["all_titles"] == ["星降り"]
    assert result["ep_count"] == 2


def test_episode_list_gives_ids_and_absolute(api: Api) -> None:
    episodes = api.client.get(f"/tv/episodes/{DOUBLE_SHOW}").json()
    assert [(e["season"], e["episode"], e["absolute"]) for e in episodes] == [
        (1, 1, 1),
        (1, 2, 2),
        (1, 3, 3),
        (1, 4, 4),
    ]
    assert episodes[1]["ids"] == {"tvdb": "74099"}
    assert episodes[2]["ids"] == {"tvdb": "74099"}
    assert all(e["aired"] for e in episodes)


def test_anime_episode_list(api: Api) -> None:
    episodes = api.client.get(f"/anime/episodes/{ANIME}").json()
    assert [e["episode"] for e in episodes] == [1, 2]


def test_episode_list_of_unknown_item_is_404(api: Api) -> None:
    for path in (f"/tv/episodes/{MOVIE}", "/tv/episodes/abc", "/anime/episodes/1"):
        response = api.client.get(path)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
