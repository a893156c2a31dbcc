"""The plan invariants reject plans that break Simkl's rules."""

from __future__ import annotations

import polars as pl
import pytest

from importer.errors import PlanError
from importer.plan.checks import check_plan

HOUR = 3600


def kept(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "item_id": pl.Int64,
            "unit_id": pl.Int64,
            "_t": pl.Int64,
            "session": pl.Int32,
            "session_status": pl.String,
        },
        orient="row",
    )


def stored(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"item_id": pl.Int64, "unit_id": pl.Int64, "_t": pl.Int64},
        orient="row",
    )


NO_ACCOUNT = stored()


def test_valid_plan_passes():
    check_plan(kept((1, 1, 0, 0, None), (1, 1, 48 * HOUR, 1, "completed")), NO_ACCOUNT)


def test_viewings_under_48_hours_rejected():
    with pytest.raises(PlanError, match="48 hours"):
        check_plan(
            kept((1, 1, 0, 0, None), (1, 1, 47 * HOUR, 1, "completed")), NO_ACCOUNT
        )


def test_viewing_close_to_account_rejected():
    with pytest.raises(PlanError, match="48 hours"):
        check_plan(kept((1, 1, 10 * HOUR, 1, "completed")), stored((1, 1, 0)))


def test_close_account_rows_alone_pass():
    check_plan(
        kept((1, 1, 500 * HOUR, 1, "completed")), stored((1, 1, 0), (1, 1, HOUR))
    )


def test_session_past_cap_rejected():
    with pytest.raises(PlanError, match="50 rewatch sessions"):
        check_plan(kept((1, 1, 0, 51, "completed")), NO_ACCOUNT)


def test_two_active_sessions_rejected():
    rows = kept((1, 1, 0, 1, "active"), (1, 2, 0, 2, "active"))
    with pytest.raises(PlanError, match="more than one active"):
        check_plan(rows, NO_ACCOUNT)


def test_one_active_session_per_item_passes():
    rows = kept((1, 1, 0, 1, "active"), (1, 2, 0, 1, "active"), (2, 3, 0, 1, "active"))
    check_plan(rows, NO_ACCOUNT)


def test_active_failure_counts_item_rows():
    rows = kept(
        (1, 1, 0, 1, "active"),
        (1, 2, 0, 2, "active"),
        (1, 3, 0, 1, "closed"),
        (2, 4, 0, 1, "active"),
    )
    with pytest.raises(PlanError, match=r"more than one active.*, 3 rows\)"):
        check_plan(rows, NO_ACCOUNT)


def test_unsorted_valid_viewings_pass():
    rows = kept(
        (1, 1, 100 * HOUR, 2, "completed"),
        (1, 1, 0, 0, None),
        (1, 1, 50 * HOUR, 1, "completed"),
    )
    check_plan(rows, NO_ACCOUNT)


def test_unsorted_close_viewings_rejected():
    rows = kept(
        (1, 1, 100 * HOUR, 2, "completed"),
        (1, 1, 0, 0, None),
        (1, 1, 47 * HOUR, 1, "completed"),
    )
    with pytest.raises(PlanError, match="48 hours"):
        check_plan(rows, NO_ACCOUNT)
