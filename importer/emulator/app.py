"""The emulator's HTTP layer: a starlette app over `Emulator`.

Every error is Simkl's envelope `{"error", "code", "message"}`; malformed
JSON, wrong shapes and unknown routes get 400 or 404, never 500.
"""

from __future__ import annotations

import html
import json
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from importer.emulator import readback
from importer.emulator.account import LIST_STATUSES, parse_time
from importer.emulator.catalog import ID_PRIORITY, normalize_ids
from importer.emulator.history import apply_history
from importer.emulator.middleware import EmulatorMiddleware, envelope_response
from importer.emulator.payload import ApiFailure, bad_request, parse_history_body
from importer.emulator.remove import remove_history
from importer.emulator.state import Emulator, EmulatorConfig

logger = logging.getLogger(__name__)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise bad_request("request body is empty; send a JSON object", "empty_field")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"request body is not valid JSON: {error}") from None


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("yes", "true", "1")


# -- sign-in ----------------------------------------------------------------


async def pin_init(request: Request) -> Response:
    return JSONResponse(_emulator(request).new_pin())


async def pin_poll(request: Request) -> Response:
    code = request.path_params["user_code"]
    return JSONResponse(_emulator(request).poll_pin(code))


PIN_PAGE = """<!doctype html><title>Simkl emulator sign-in</title>
<h1>Sign in to the Simkl emulator</h1><p>{message}</p>
<form method="post" action="/pin"><label>Code <input name="code"></label>
<button>Approve</button></form>"""


async def pin_page(request: Request) -> Response:
    """Show the approval form; `?code=X` or a form post approves code X."""
    code = request.query_params.get("code")
    if request.method == "POST":
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        code = form.get("code")
    if not code:
        return HTMLResponse(PIN_PAGE.format(message="Enter the code the app shows."))
    if _emulator(request).approve_pin(code):
        message = f"Code {html.escape(code)} approved. Return to the app."
        return HTMLResponse(PIN_PAGE.format(message=message))
    message = f"Code {html.escape(code)} is unknown or expired."
    return HTMLResponse(PIN_PAGE.format(message=message), status_code=404)


async def approve(request: Request) -> Response:
    body = await _json_body(request)
    code = body.get("user_code") if isinstance(body, dict) else None
    if not isinstance(code, str):
        raise bad_request('send {"user_code": "CODE"}', "empty_field")
    if not _emulator(request).approve_pin(code):
        raise ApiFailure(404, "not_found", f"user code {code!r} is unknown or expired")
    return JSONResponse({"result": "OK", "user_code": code})


# -- user and sync ------------------------------------------------------------


async def settings(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.check_token(request.headers.get("authorization"))
    return JSONResponse(
        {
            "user": {
                "name": "Emulator User",
                "joined_at": "2020-01-01T00:00:00Z",
                "gender": None,
                "avatar": None,
                "bio": "",
                "loc": "",
                "age": "",
            },
            "account": {"id": 1, "timezone": "UTC", "type": emulator.account.tier},
            "connections": {"facebook": False},
        }
    )


async def history(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.check_token(request.headers.get("authorization"))
    writes = parse_history_body(await _json_body(request))
    allow_rewatch = _flag(request, "allow_rewatch")
    with emulator.lock:
        result = apply_history(
            emulator.account,
            emulator.catalog,
            writes,
            allow_rewatch=allow_rewatch,
            now=emulator.now(),
        )
        emulator.save()
    # Free accounts get rewatch writes as a silent 200 OK, and a request
    # whose every write hit the session cap gets 200 with nothing added.
    free_rewatch = allow_rewatch and emulator.account.tier == "free"
    created = not (free_rewatch or result.only_capped())
    return JSONResponse(result.body(), status_code=201 if created else 200)


async def history_remove(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.check_token(request.headers.get("authorization"))
    writes = parse_history_body(await _json_body(request))
    with emulator.lock:
        body = remove_history(
            emulator.account, emulator.catalog, writes, now=emulator.now()
        )
        emulator.save()
    return JSONResponse(body)


async def sync_activities(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.check_token(request.headers.get("authorization"))
    with emulator.lock:
        return JSONResponse(readback.activities(emulator.account))


def _read_options(request: Request) -> readback.ReadOptions:
    kind_path = request.path_params.get("type")
    status = request.path_params.get("status")
    if (
        kind_path is not None
        and kind_path not in readback.TYPE_PATHS
        and kind_path != "all"
    ):
        raise bad_request(f"type must be shows, movies or anime, got {kind_path!r}")
    if status is not None and status not in LIST_STATUSES:
        raise bad_request(
            f"status must be one of {', '.join(LIST_STATUSES)}, got {status!r}"
        )
    date_from = request.query_params.get("date_from")
    try:
        since = parse_time(date_from) if date_from else None
    except ValueError:
        raise bad_request(
            f"date_from is not an ISO-8601 date-time: {date_from!r}"
        ) from None
    return readback.ReadOptions(
        kind=readback.TYPE_PATHS.get(kind_path or ""),
        status=status,
        date_from=since,
        extended=request.query_params.get("extended"),
        episode_watched_at=_flag(request, "episode_watched_at"),
        allow_rewatch=_flag(request, "allow_rewatch"),
    )


async def all_items(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.check_token(request.headers.get("authorization"))
    options = _read_options(request)
    with emulator.lock:
        return JSONResponse(
            readback.all_items(emulator.account, emulator.catalog, options)
        )


# -- catalog ------------------------------------------------------------------

LOOKUP_TYPES = {
    "movie": ("movie",),
    "show": ("show", "anime"),
    "tv": ("show", "anime"),
    "anime": ("anime",),
}


def _kinds_for_lookup(request: Request, ids: dict[str, str]) -> tuple[str, ...]:
    requested_type = request.query_params.get("type")
    if requested_type is not None:
        if requested_type not in LOOKUP_TYPES:
            message = f"type must be movie, show or anime, got {requested_type!r}"
            raise bad_request(message)
        return LOOKUP_TYPES[requested_type]
    if "tmdb" in ids:
        # TMDB movie and TV ids overlap, so Simkl needs the type with them.
        return ("movie",)
    return ("movie", "show", "anime")


async def search_id(request: Request) -> Response:
    emulator = _emulator(request)
    keys = ("simkl", *ID_PRIORITY, "crunchyroll", "hulu")
    try:
        ids = normalize_ids(
            {k: v for k, v in request.query_params.items() if k in keys}
        )
    except ValueError as error:
        raise bad_request(str(error)) from None
    kinds = _kinds_for_lookup(request, ids)
    with emulator.lock:
        if ids:
            item = emulator.catalog.resolve(kinds, ids)
            if item is not None:
                return JSONResponse([readback.lookup_result(item)])
            if kinds == ("movie",):
                return JSONResponse([])
            return JSONResponse(_episode_hits(emulator.catalog.episodes_by_id(ids)))
        title = request.query_params.get("title")
        if not title:
            raise bad_request(
                "give an id parameter (imdb, tmdb, ...) or a title", "empty_field"
            )
        year_text = request.query_params.get("year")
        year = int(year_text) if year_text and year_text.isdigit() else None
        found = readback.titles_matching(emulator.catalog, title, year, kinds)
    if len(found) > 1:
        return JSONResponse(None)
    return JSONResponse([readback.lookup_result(item) for item in found])


def _episode_hits(found: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Describe episodes found by an episode-level id, with their show."""
    return [
        {
            "type": "episode",
            "show": readback.lookup_result(item),
            "episode": {"season": episode.season, "episode": episode.number},
        }
        for item, episode in found
    ]


def _page_numbers(request: Request) -> tuple[int, int]:
    def number(name: str, default: int, maximum: int) -> int:
        text = request.query_params.get(name, "")
        value = int(text) if text.isdigit() else default
        return min(max(value, 1), maximum)

    return number("page", 1, 20), number("limit", 10, 50)


async def search_text(request: Request) -> Response:
    emulator = _emulator(request)
    kind = request.path_params["type"]
    if kind not in readback.SEARCH_TYPES:
        raise ApiFailure(
            404, "not_found", f"no search for type {kind!r}; use movie, tv or anime"
        )
    query = request.query_params.get("q", "").strip()
    if not query:
        raise bad_request("q is missing; give a title or a film URL", "empty_field")
    with emulator.lock:
        found = _search(emulator, readback.SEARCH_TYPES[kind], query)
    page, limit = _page_numbers(request)
    chunk = found[(page - 1) * limit : page * limit]
    extended = request.query_params.get("extended") == "full"
    pages = max(1, -(-len(found) // limit))
    headers = {
        "X-Pagination-Page": str(page),
        "X-Pagination-Limit": str(limit),
        "X-Pagination-Page-Count": str(pages),
        "X-Pagination-Item-Count": str(len(found)),
    }
    body = [readback.search_result(item, extended) for item in chunk]
    return JSONResponse(body, headers=headers)


def _search(emulator: Emulator, kinds: tuple[str, ...], query: str) -> list[Any]:
    lowered = query.lower()
    # A URL finds its item whatever type the route names.
    if "letterboxd.com/film/" in lowered:
        item = emulator.catalog.lookup(("movie",), normalize_ids({"letterboxd": query}))
        return [item] if item else []
    if "imdb.com/title/" in lowered:
        ids = normalize_ids({"imdb": query})
        item = emulator.catalog.lookup(("movie", "show", "anime"), ids)
        return [item] if item else []
    return emulator.catalog.search_title(kinds, query)


async def episodes(request: Request) -> Response:
    emulator = _emulator(request)
    family = request.url.path.split("/")[1]
    text = request.path_params["simkl_id"]
    item = emulator.catalog.by_simkl(int(text)) if text.isdigit() else None
    kinds = ("movie",) if family == "movies" else ("show", "anime")
    if item is None or item.kind not in kinds:
        raise ApiFailure(404, "not_found", f"no {family} item with simkl id {text}")
    return JSONResponse(readback.episode_list(item))


ROUTES = [
    Route("/oauth/pin", pin_init, methods=["GET"]),
    Route("/oauth/pin/{user_code}", pin_poll, methods=["GET"]),
    Route("/pin", pin_page, methods=["GET", "POST"]),
    Route("/emulator/approve", approve, methods=["POST"]),
    Route("/users/settings", settings, methods=["GET", "POST"]),
    Route("/sync/history", history, methods=["POST"]),
    Route("/sync/history/remove", history_remove, methods=["POST"]),
    Route("/sync/activities", sync_activities, methods=["GET", "POST"]),
    Route("/sync/all-items", all_items, methods=["GET"]),
    Route("/sync/all-items/{type}", all_items, methods=["GET"]),
    Route("/sync/all-items/{type}/{status}", all_items, methods=["GET"]),
    Route("/search/id", search_id, methods=["GET"]),
    Route("/search/{type}", search_text, methods=["GET"]),
    Route("/tv/episodes/{simkl_id}", episodes, methods=["GET"]),
    Route("/anime/episodes/{simkl_id}", episodes, methods=["GET"]),
]


async def _api_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiFailure)
    return JSONResponse(exc.envelope(), status_code=exc.status)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return envelope_response(
            405, "method_not_allowed", f"{request.method} is not allowed here"
        )
    if exc.status_code == 404:
        return envelope_response(404, "not_found", f"no route {request.url.path}")
    return envelope_response(exc.status_code, "http_error", str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception(
        "emulator bug while handling %s %s", request.method, request.url.path
    )
    return envelope_response(500, "server_error", "the emulator failed; see its log")


def create_app(config: EmulatorConfig | Emulator | None = None) -> EmulatorMiddleware:
    """Build the emulator's ASGI app; its `emulator` attribute is the state."""
    emulator = (
        config if isinstance(config, Emulator) else Emulator(config or EmulatorConfig())
    )
    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            ApiFailure: _api_failure,
            HTTPException: _http_exception,
            Exception: _server_error,
        },
    )
    app.state.emulator = emulator
    return EmulatorMiddleware(app, emulator)
