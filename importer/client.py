"""The Simkl HTTP client: identification, pacing, retries and error mapping.

One `SimklClient` wraps one `httpx.Client`. Every request carries the app's
identification (query `client_id`, `app-name`, `app-version`, header
`simkl-api-key`, `User-Agent`) and the Bearer token when there is one.

Retry policy, which the batcher relies on:

- GET (and reads sent as POST, such as `/users/settings`) are retried on 429,
  5xx and transport errors, with Retry-After honoured and bounded attempts.
- A write POST is retried only on 429, because Simkl did not apply it. A 5xx,
  a timeout after the request was sent or a dropped connection raises
  `OutcomeUnknownError`: the write may or may not have landed, and the caller
  settles it by reading the account back instead of sending it again.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from importer import __version__
from importer.errors import ApiError, AuthError, InputError

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.simkl.com"
APP_NAME = "simkl-import"

# The client id the bundled emulator accepts when none is configured. It must
# equal `importer.emulator.DEFAULT_CLIENT_ID`.
LOCAL_CLIENT_ID = "simkl-import-local"

ACCOUNT_TIERS = ("free", "pro", "vip")

# Maximum Retry-After wait in seconds. Simkl's API documentation does not
# mention Retry-After, so this cap is our own choice, not a documented limit.
MAX_RETRY_AFTER = 120.0

# Called after each attempt with the method, the path and the HTTP status
# (None when no response arrived).
RequestHook = Callable[[str, str, int | None], None]


class OutcomeUnknownError(ApiError):
    """A write whose result is unknown: it may or may not have been applied.

    Raised for a 5xx response to a write POST, a 2xx response whose body is
    not JSON, a timeout after the request was sent and a connection dropped
    mid-request. Settle it by reading back.
    """


def is_loopback_host(host: str) -> bool:
    """Return True for localhost, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(api_url: str) -> httpx.URL:
    """Parse `api_url`, allowing plain http only for a loopback host."""
    try:
        url = httpx.URL(api_url)
    except (httpx.InvalidURL, TypeError) as error:
        raise InputError(
            f"invalid API URL {api_url!r}: {error}",
            value=api_url,
            hint="Pass an https:// URL, e.g. --api-url https://api.simkl.com.",
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InputError(
            f"invalid API URL {api_url!r}: expected http:// or https:// and a host.",
            value=api_url,
            hint="Pass an https:// URL, e.g. --api-url https://api.simkl.com.",
        )
    if url.scheme == "http" and not is_loopback_host(url.host):
        raise InputError(
            f"plain http:// is allowed only for a local emulator, not {url.host}.",
            value=api_url,
            hint="Use https:// for a remote API, or 127.0.0.1 for the emulator.",
        )
    return url


def resolve_client_id(api_url: str, client_id: str | None) -> str:
    """Return the client id to send, defaulting to the emulator's on loopback."""
    if client_id:
        return client_id
    if is_loopback_host(check_api_url(api_url).host):
        return LOCAL_CLIENT_ID
    raise InputError(
        "missing Simkl client id.",
        hint="Set SIMKL_CLIENT_ID or pass --client-id (create an app at "
        "https://simkl.com/settings/developer).",
    )


class RateLimiter:
    """Space calls at least 1/rate seconds apart on a monotonic clock."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the next call is allowed, then reserve that slot."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_at)
            self._next_at = start + self.interval
        if start > now:
            self._sleep(start - now)

    def restart(self) -> None:
        """Start the interval again from now, e.g. when a request completes."""
        with self._lock:
            self._next_at = max(self._next_at, self._clock() + self.interval)


class SimklClient:
    """A paced, retrying client for the Simkl API.

    `transport` replaces the network (tests pass `httpx.MockTransport`);
    `sleep` replaces `time.sleep` for both pacing and retry waits.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        client_id: str | None = None,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        max_post_rate: float = 1.0,
        max_get_rate: float = 10.0,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        on_request: RequestHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = check_api_url(api_url)
        self.api_url = str(url).rstrip("/")
        self.client_id = resolve_client_id(api_url, client_id)
        self._token = token or None
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.on_request = on_request
        self.request_counts: Counter[str] = Counter()
        self._sleep = sleep
        self._limiters = {
            "GET": RateLimiter(max_get_rate, sleep=sleep),
            "POST": RateLimiter(max_post_rate, sleep=sleep),
        }
        self._http = httpx.Client(
            base_url=self.api_url,
            params={
                "client_id": self.client_id,
                "app-name": APP_NAME,
                "app-version": __version__,
            },
            headers=self._headers(),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def _headers(self) -> dict[str, str]:
        headers = {
            "simkl-api-key": self.client_id,
            "User-Agent": f"{APP_NAME}/{__version__}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return (
            f"SimklClient(api_url={self.api_url!r}, "
            f"client_id={self.client_id!r}, token=<{token}>)"
        )

    def __enter__(self) -> SimklClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    @property
    def has_token(self) -> bool:
        """Whether requests carry an access token."""
        return self._token is not None

    @property
    def is_loopback(self) -> bool:
        """Whether the API URL points at this machine (the emulator)."""
        return is_loopback_host(httpx.URL(self.api_url).host)

    # -- generic requests -------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Send a GET and return the decoded JSON body (None when empty)."""
        return self._request("GET", path, params=params, read_only=True)

    def post(
        self,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        *,
        read_only: bool = False,
    ) -> Any:
        """Send a POST and return the decoded JSON body (None when empty).

        A write (`read_only=False`) is resent only after a 429. Other
        failures raise; `OutcomeUnknownError` means it may have been applied.
        """
        return self._request(
            "POST", path, json=json, params=params, read_only=read_only
        )

    # -- endpoints ----------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Return the signed-in user's settings (`user`, `account`, ...)."""
        body = self.post("/users/settings", read_only=True)
        if not isinstance(body, dict):
            raise ApiError(f"unexpected /users/settings response: {body!r}")
        return body

    def account_tier(self) -> str:
        """Return the account tier: "free", "pro" or "vip"."""
        return tier_from_settings(self.settings())

    def add_history(self, payload: Mapping[str, Any], allow_rewatch: bool) -> Any:
        """POST a /sync/history body and return Simkl's response."""
        params = {"allow_rewatch": "yes"} if allow_rewatch else None
        return self.post("/sync/history", json=dict(payload), params=params)

    def all_items(
        self,
        type: str | None = None,
        date_from: str | None = None,
        extended: str | None = "full",
        episode_watched_at: bool = True,
        allow_rewatch: bool = True,
    ) -> dict[str, Any]:
        """GET /sync/all-items[/type]; an empty library (null or {}) gives {}."""
        path = "/sync/all-items" if type is None else f"/sync/all-items/{type}"
        params: dict[str, str] = {}
        if extended:
            params["extended"] = extended
        if episode_watched_at:
            params["episode_watched_at"] = "yes"
        if allow_rewatch:
            params["allow_rewatch"] = "yes"
        if date_from:
            params["date_from"] = date_from
        body = self.get(path, params)
        if body is None:
            return {}
        if not isinstance(body, dict):
            kind = body.__class__.__name__
            raise ApiError(f"unexpected {path} response: a {kind}")
        return body

    def activities(self) -> dict[str, Any]:
        """GET /sync/activities: the last-change timestamps of the account."""
        return self.get("/sync/activities") or {}

    def search_id(self, **params: Any) -> list[dict[str, Any]]:
        """GET /search/id with external id keys; no match gives []."""
        body = self.get("/search/id", params)
        return body if isinstance(body, list) else []

    def search_text(
        self, kind: str, q: str, page: int = 1, limit: int = 50
    ) -> list[dict[str, Any]]:
        """GET /search/{movie|tv|anime} for a text or URL query."""
        if kind not in ("movie", "tv", "anime"):
            raise ValueError(f"search kind must be movie, tv or anime, got {kind!r}")
        body = self.get(f"/search/{kind}", {"q": q, "page": page, "limit": limit})
        return body if isinstance(body, list) else []

    # -- machinery ----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        read_only: bool,
    ) -> Any:
        def should_retry(error: BaseException) -> bool:
            if not isinstance(error, ApiError) or isinstance(error, AuthError):
                return False
            if read_only:
                return error.retryable
            return error.status == 429

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._retry_wait,
            retry=retry_if_exception(should_retry),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._send_once, method, path, json, params, read_only)

    def _retry_wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return retry_after
        return wait_exponential(multiplier=self.backoff, max=30)(state)

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.info(
            "retrying after attempt %d: %s", state.attempt_number, self._redact(error)
        )

    def _send_once(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None,
        read_only: bool,
    ) -> Any:
        self._limiters[method].acquire()
        self.request_counts[method] += 1
        started = time.monotonic()
        try:
            response = self._http.request(
                method, path, json=json, params=dict(params) if params else None
            )
        except httpx.TransportError as error:
            self._notify(method, path, None)
            raise self._transport_error(method, path, error, read_only) from None
        finally:
            if method == "POST":
                # Simkl counts a POST when it arrives, which is only known to
                # be before its response, so the next one waits a full
                # interval after this one completes.
                self._limiters["POST"].restart()
        elapsed = time.monotonic() - started
        logger.debug(
            "%s %s -> %d (%.2f s)", method, path, response.status_code, elapsed
        )
        self._notify(method, path, response.status_code)
        return self._decode(method, path, response, read_only)

    def _notify(self, method: str, path: str, status: int | None) -> None:
        if self.on_request is not None:
            self.on_request(method, path, status)

    def _transport_error(
        self, method: str, path: str, error: httpx.TransportError, read_only: bool
    ) -> ApiError:
        # A request that never left (no connection, pool exhausted) was not
        # applied; anything later may have reached the server.
        not_sent = isinstance(
            error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
        )
        kind = type(error).__name__
        message = self._redact(f"{method} {path} failed: {kind}: {error}")
        if method == "POST" and not read_only and not not_sent:
            return _api_error(
                OutcomeUnknownError,
                message + " (the write may have been applied)",
                retryable=True,
                outcome_unknown=True,
            )
        return _api_error(ApiError, message, retryable=True)

    def _decode(
        self, method: str, path: str, response: httpx.Response, read_only: bool
    ) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                message = f"{method} {path} returned invalid JSON (HTTP {status})"
                if method == "POST" and not read_only:
                    # The server accepted the write but its result is unreadable.
                    raise _api_error(
                        OutcomeUnknownError,
                        message + "; the write may have been applied.",
                        status=status,
                        retryable=True,
                        outcome_unknown=True,
                    ) from None
                raise _api_error(ApiError, message + ".", status=status) from None
        raise self._status_error(method, path, response, read_only)

    def _status_error(
        self, method: str, path: str, response: httpx.Response, read_only: bool
    ) -> ApiError:
        status = response.status_code
        error_id, detail = _read_envelope(response)
        text = f"{method} {path} failed: HTTP {status}"
        if error_id:
            text += f" {error_id}"
        if detail:
            text += f": {detail}"
        text = self._redact(text)
        if status == 401:
            return _api_error(
                AuthError,
                text + ". Run `simkl-import login` to sign in again.",
                status=status,
                error=error_id,
            )
        if status == 412:
            return _api_error(
                ApiError,
                text + ". Check --client-id or SIMKL_CLIENT_ID.",
                status=status,
                error=error_id,
            )
        if status == 429:
            error = _api_error(ApiError, text, status=status, error=error_id)
            error.retryable = True
            error.retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            return error
        if status >= 500:
            if method == "POST" and not read_only:
                return _api_error(
                    OutcomeUnknownError,
                    text + " (the write may have been applied)",
                    status=status,
                    error=error_id,
                    retryable=True,
                    outcome_unknown=True,
                )
            return _api_error(
                ApiError, text, status=status, error=error_id, retryable=True
            )
        return _api_error(ApiError, text, status=status, error=error_id)

    def _redact(self, value: object) -> str:
        text = str(value)
        if self._token:
            text = text.replace(self._token, "<token>")
        return text


def tier_from_settings(settings: Mapping[str, Any]) -> str:
    """Return "free", "pro" or "vip" from a /users/settings response."""
    account = settings.get("account") or {}
    tier = str(account.get("type") or "").lower()
    if tier not in ACCOUNT_TIERS:
        # Rewatch writes are silent no-ops on free accounts, so an unknown
        # tier is treated as free: canonical history only.
        logger.warning("unknown Simkl account type %r, treating it as free", tier)
        return "free"
    return tier


def _api_error(
    cls: type[ApiError],
    message: str,
    *,
    status: int | None = None,
    error: str | None = None,
    retryable: bool = False,
    outcome_unknown: bool = False,
) -> Any:
    """Build an API error of class `cls`."""
    return cls(
        message,
        status=status,
        error=error,
        retryable=retryable,
        outcome_unknown=outcome_unknown,
    )


def _read_envelope(response: httpx.Response) -> tuple[str | None, str | None]:
    """Return the `error` id and `message` of a Simkl error body, if any."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return None, text[:200] or None
    if not isinstance(body, dict):
        return None, None
    error_id = body.get("error")
    message = body.get("message")
    return (
        str(error_id) if error_id else None,
        str(message) if message else None,
    )


def _parse_retry_after(value: str | None) -> float | None:
    """Return the Retry-After wait in seconds (delta or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
