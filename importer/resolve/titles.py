"""Title comparison and Letterboxd link parsing."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
# A film link, https://letterboxd.com/film/<slug>/, or a diary link of the
# 2019-era exports, https://letterboxd.com/<user>/film/<slug>/[<n>/].
_LETTERBOXD_FILM = re.compile(r"letterboxd\.com/(?:[^/]+/)?film/([^/?#]+)", re.I)


def normalize_title(text: str | None) -> str:
    """Return `text` folded for comparison: no accents, case or punctuation.

    Letters of every script survive, so "千と千尋の神隠し" compares with
    itself, and "Amélie" equals "Amelie".
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold().replace("&", " and ")
    return " ".join(_WORD.findall(folded))


def letterboxd_slug(link: str | None) -> str | None:
    """Return the film slug of a long Letterboxd link, or None.

    Short boxd.it links carry no slug and return None.
    """
    if not link:
        return None
    found = _LETTERBOXD_FILM.search(link)
    return found.group(1) if found else None


def letterboxd_film_url(slug: str) -> str:
    """Return the film page URL that Simkl's text search accepts as a query."""
    return f"https://letterboxd.com/film/{slug}/"
