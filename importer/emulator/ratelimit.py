"""Per-token request rate limits, as Simkl applies them.

Simkl allows 1 POST and 10 GET requests per second for each user token, or
for each client id on calls without a token. Past that the emulator responds
with 429 and `Retry-After` in whole seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """A sliding one-second window per (key, method kind)."""

    def __init__(
        self,
        *,
        post_rate: float = 1.0,
        get_rate: float = 10.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"POST": post_rate, "GET": get_rate}
        self.enabled = enabled
        self._clock = clock
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, method: str) -> int | None:
        """Count one request; return seconds to wait when it is over the limit."""
        if not self.enabled:
            return None
        kind = "GET" if method.upper() in ("GET", "HEAD") else "POST"
        limit = self.limits[kind]
        # A rate under one per second still allows one request per window of
        # 1/rate seconds.
        window = max(1.0, 1.0 / limit) if limit > 0 else 1.0
        allowed = max(1, int(limit * window))
        now = self._clock()
        with self._lock:
            stamps = self._windows.setdefault((key, kind), deque())
            while stamps and now - stamps[0] >= window:
                stamps.popleft()
            if len(stamps) >= allowed:
                return max(1, math.ceil(stamps[0] + window - now))
            stamps.append(now)
        return None
