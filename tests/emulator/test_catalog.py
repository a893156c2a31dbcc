"""Catalog files: valid ones load, invalid ones raise CatalogError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from importer.emulator.catalog import (
    CatalogError,
    fold_title,
    load_catalog,
    normalize_id,
)

from .support import CATALOG, DOUBLE_SHOW

BAD_CATALOGS: list[Any] = [
    {"movies": [{"title": "No Id"}]},
    {"movies": [{"title": "Bad Id", "ids": {"simkl": "x"}}]},
    {"movies": [{"ids": {"simkl": 1}}]},
    {
        "movies": [
            {"title": "A", "ids": {"simkl": 1}},
            {"title": "B", "ids": {"simkl": 1}},
        ]
    },
    {"movies": ["not an object"]},
    {"shows": [{"title": "S", "ids": {"simkl": 2}, "seasons": [{"number": "1"}]}]},
    {"shows": [{"title": "S", "ids": {"simkl": 2}, "seasons": [3]}]},
    {"shows": [{"title": "S", "ids": {"simkl": 2}, "episodes": [{"season": 1}]}]},
    {"shows": [{"title": "S", "type": "book", "ids": {"simkl": 2}}]},
    {"movies": [{"title": "T", "ids": {"simkl": 3, "tmdb": [1]}}]},
]


@pytest.mark.parametrize("raw", BAD_CATALOGS)
def test_invalid_catalog_raises(raw: Any) -> None:
    with pytest.raises(CatalogError):
        load_catalog(raw)


def test_catalog_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    listed = tmp_path / "list.json"
    listed.write_text("[]", encoding="utf-8")
    for path in (broken, listed, tmp_path / "missing.json"):
        with pytest.raises(CatalogError):
            load_catalog(path)


def test_catalog_fills_episodes_and_absolute(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(CATALOG), encoding="utf-8")
    item = load_catalog(path).items[DOUBLE_SHOW]
    assert sorted(item.episodes) == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert [item.episodes[(1, n)].absolute for n in range(1, 5)] == [1, 2, 3, 4]
    assert item.aired_count == 4


def test_sample_catalog_loads() -> None:
    catalog = load_catalog(
        Path(__file__).resolve().parents[2] / "sample_data" / "catalog.json"
    )
    assert len(catalog.items) == 12


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("imdb", "https://www.imdb.com/title/tt0133093/", "tt0133093"),
        ("letterboxd", "https://letterboxd.com/film/the-matrix/", "the-matrix"),
        ("tmdb", " 0603 ", "603"),
        ("traktslug", "The-Matrix-1999", "the-matrix-1999"),
        ("tvdb", "", None),
    ],
)
def test_ids_normalize(key: str, value: str, expected: str | None) -> None:
    assert normalize_id(key, value) == expected


def test_titles_fold_case_and_punctuation() -> None:
    assert fold_title("Amélie: the Film!") == "amélie the film"
    assert fold_title("ＳＴＡＲＦＡＬＬ") == "starfall"
