"""Injected faults, scripted from tests and drawn from a seeded spec."""

from __future__ import annotations

import time

import httpx
import pytest

from importer.emulator.faults import Fault, FaultPlan, FaultSpecError, parse_fault
from importer.emulator.testing import running_emulator

from .support import CATALOG, MOVIE, Api, at, movie


def test_status_fault_applies_nothing(api: Api) -> None:
    api.emu.faults.script([Fault.respond(503)])
    response = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    assert response.status_code == 503
    assert response.json() == {
        "error": "injected_fault",
        "code": 503,
        "message": "fault injected by the emulator",
    }
    assert api.all_items() == {}


def test_status_429_fault_sends_retry_after(api: Api) -> None:
    api.emu.faults.script([Fault.respond(429, retry_after=3), "status=429"])
    first = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    second = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    assert first.headers["Retry-After"] == "3"
    assert second.headers["Retry-After"] == "1"
    assert api.all_items() == {}


def test_apply_then_error_applies_write(api: Api) -> None:
    api.emu.faults.script(["apply-then-500"])
    response = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    assert response.status_code == 500
    with pytest.raises(ValueError):
        response.json()
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)


def test_apply_then_drop_breaks_transport(api: Api) -> None:
    api.emu.faults.script([Fault.apply_then_drop()])
    with pytest.raises(httpx.TransportError):
        api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)


def test_latency_fault_delays_answer(api: Api) -> None:
    api.emu.faults.script([Fault.delay(0.3)])
    started = time.monotonic()
    response = api.client.get("/sync/activities")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_script_runs_in_order_with_filters(api: Api) -> None:
    api.emu.faults.script(
        [None, Fault.respond(502, method="POST", path="/sync/history"), "status=504"]
    )
    body = {"movies": [movie(at(0))]}
    statuses = [
        api.client.post("/sync/history", json=body).status_code,
        api.client.get("/sync/activities").status_code,
        api.client.post("/sync/history", json=body).status_code,
        api.client.get("/sync/activities").status_code,
        api.client.get("/sync/activities").status_code,
    ]
    assert statuses == [201, 200, 502, 504, 200]
    assert api.emu.faults.pending == 0


def test_control_routes_never_get_faults(api: Api) -> None:
    api.emu.faults.script(["status=500"])
    assert api.client.get("/pin").status_code == 200
    assert api.emu.faults.pending == 1


def test_spec_draws_are_seeded() -> None:
    spec = "status=503@0.3,apply-then-502@0.3,latency=0.1@0.5,seed=11"
    draws = []
    for _ in range(2):
        plan = FaultPlan(spec)
        draws.append([plan.next_fault("POST", "/sync/history") for _ in range(40)])
    kinds = {fault.kind for fault in draws[0] if fault is not None}
    assert draws[0] == draws[1]
    assert kinds == {"status", "apply-then-error", "pass"}
    assert any(fault is None for fault in draws[0])


def test_spec_without_probability_always_fires() -> None:
    plan = FaultPlan("status=503,latency=0.2")
    fault = plan.next_fault("GET", "/sync/activities")
    assert fault == Fault("status", status=503, latency=0.2)


@pytest.mark.parametrize(
    "spec",
    ["status=abc", "explode", "status=503@2", "latency=x", "seed=q", "status=503@x"],
)
def test_bad_spec_is_rejected(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        FaultPlan(spec)


def test_parse_fault_kinds() -> None:
    assert parse_fault("apply-then-503") == Fault.apply_then_error(503)
    assert parse_fault("apply-then-drop") == Fault.apply_then_drop()
    assert parse_fault("pass") == Fault.none()


def test_emulator_applies_spec_faults(http_client: httpx.Client) -> None:
    with running_emulator(CATALOG, faults="status=503@1") as emu:
        api = Api(emu, emu.issue_token(), http_client)
        assert api.client.get("/sync/activities").status_code == 503
        assert api.client.get("/pin").status_code == 200
