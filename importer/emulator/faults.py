"""Injected faults: scripted from tests, or random from a `--faults` spec.

Fault kinds:

- `status`: respond with that HTTP status and an error envelope, without
  applying the request (429 carries `Retry-After`);
- `apply-then-error`: apply the request, then respond with a 5xx status
  and a body that is not JSON;
- `apply-then-drop`: apply the request, start the response, send part of the
  body and abort the connection, so the client sees a transport error;
- `latency`: wait before handling the request (combines with the others);
- `pass`: handle the request normally (a placeholder in a script).

Spec syntax (comma-separated rules, each `name[=value][@probability]`):
`status=503@0.2,latency=0.3,apply-then-500@0.1,apply-then-drop@0.1,seed=7`.
A rule without `@` always fires. Requests to the emulator's control routes
(`/emulator/...` and the `/pin` page) never get faults.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

KINDS = ("pass", "status", "apply-then-error", "apply-then-drop", "latency")


class FaultSpecError(ValueError):
    """A `--faults` spec or scripted fault that cannot be parsed."""


@dataclass(frozen=True)
class Fault:
    """One injected fault; `method` and `path` restrict which requests take it."""

    kind: str = "pass"
    status: int = 0
    latency: float = 0.0
    retry_after: int | None = None
    method: str | None = None
    path: str | None = None

    @classmethod
    def respond(
        cls,
        status: int,
        *,
        retry_after: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> Fault:
        """Respond with `status` without applying the request."""
        return cls(
            "status", status=status, retry_after=retry_after, method=method, path=path
        )

    @classmethod
    def apply_then_error(
        cls, status: int = 500, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Apply the request, then respond with `status` and a non-JSON body."""
        return cls("apply-then-error", status=status, method=method, path=path)

    @classmethod
    def apply_then_drop(
        cls, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Apply the request, then abort the connection mid-response."""
        return cls("apply-then-drop", method=method, path=path)

    @classmethod
    def delay(
        cls, seconds: float, *, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Wait `seconds` before handling the request normally."""
        return cls("latency", latency=seconds, method=method, path=path)

    @classmethod
    def none(cls, *, method: str | None = None, path: str | None = None) -> Fault:
        """Handle the request normally, e.g. to let one request through a script."""
        return cls("pass", method=method, path=path)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


_RULE = re.compile(r"^(?P<name>[a-z0-9-]+)(?:=(?P<value>[^@]+))?(?:@(?P<p>[0-9.]+))?$")


def parse_fault(text: str) -> Fault:
    """Parse one rule such as `status=503`, `apply-then-502` or `latency=0.2`."""
    match = _RULE.match(text.strip())
    if not match:
        raise FaultSpecError(f"invalid fault rule {text!r}")
    name, value = match["name"], match["value"]
    try:
        if name == "status":
            return Fault.respond(int(value or "503"))
        if name == "latency":
            return Fault.delay(float(value or "0.1"))
        if name == "apply-then-drop":
            return Fault.apply_then_drop()
        if name.startswith("apply-then-") and name[11:].isdigit():
            return Fault.apply_then_error(int(name[11:]))
        if name == "pass":
            return Fault.none()
    except ValueError:
        raise FaultSpecError(f"invalid value in fault rule {text!r}") from None
    raise FaultSpecError(
        f"unknown fault {name!r}; use status=CODE, latency=SECONDS, "
        "apply-then-CODE or apply-then-drop"
    )


def _as_fault(fault: Fault | str | None) -> Fault:
    if fault is None:
        return Fault.none()
    if isinstance(fault, str):
        return parse_fault(fault)
    return fault


class FaultPlan:
    """The faults of one emulator: a script for the next requests, then chance.

    Thread-safe: tests script faults from their own thread while the server
    consumes them.
    """

    def __init__(self, spec: str | None = None, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._script: deque[Fault] = deque()
        self._random_rules: list[tuple[Fault, float]] = []
        self._random = random.Random(seed)
        if spec:
            self._parse_spec(spec)

    def _parse_spec(self, spec: str) -> None:
        for rule in filter(None, (part.strip() for part in spec.split(","))):
            if rule.startswith("seed="):
                try:
                    self._random.seed(int(rule[5:]))
                except ValueError:
                    raise FaultSpecError(f"seed must be an integer: {rule!r}") from None
                continue
            probability = 1.0
            if "@" in rule:
                rule, _, chance = rule.partition("@")
                try:
                    probability = float(chance)
                except ValueError:
                    raise FaultSpecError(f"invalid probability in {rule!r}") from None
                if not 0.0 <= probability <= 1.0:
                    raise FaultSpecError(f"probability must be in 0..1: {chance}")
            self._random_rules.append((parse_fault(rule), probability))

    def script(self, faults: Iterable[Fault | str | None]) -> None:
        """Replace the script: each matching request takes the next fault."""
        parsed = deque(_as_fault(fault) for fault in faults)
        with self._lock:
            self._script = parsed

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self._random_rules.clear()

    @property
    def pending(self) -> int:
        """Number of scripted faults not yet used."""
        with self._lock:
            return len(self._script)

    def next_fault(self, method: str, path: str) -> Fault | None:
        """Return the fault for this request, or None to handle it normally."""
        with self._lock:
            if self._script and self._script[0].matches(method, path):
                return self._script.popleft()
            return self._draw()

    def _draw(self) -> Fault | None:
        latency = 0.0
        chosen: Fault | None = None
        for fault, probability in self._random_rules:
            if self._random.random() >= probability:
                continue
            if fault.kind == "latency":
                latency += fault.latency
            elif chosen is None:
                chosen = fault
        if chosen is None and latency == 0.0:
            return None
        return replace(chosen or Fault.none(), latency=latency)
