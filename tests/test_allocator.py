"""The allocator settings that importing the package gives polars."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="polars uses jemalloc on Linux"
)

_PRINT = "import os; print(os.environ.get('_RJEM_MALLOC_CONF', ''))"
# A child process that imports the package and polars again.
_CHILD = f"import importer, polars; {_PRINT}"


def _settings(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_one_arena_per_core():
    cores = len(os.sched_getaffinity(0))
    settings = _settings(f"import importer, polars; {_PRINT}")
    assert f"narenas:{cores}" in settings.split(",")


def test_other_user_settings_kept():
    settings = _settings(
        f"import importer, polars; {_PRINT}", _RJEM_MALLOC_CONF="background_thread:true"
    ).split(",")
    assert "background_thread:true" in settings
    assert f"narenas:{len(os.sched_getaffinity(0))}" in settings


def test_user_arena_count_wins():
    settings = _settings(
        f"import importer, polars; {_PRINT}", _RJEM_MALLOC_CONF="narenas:7"
    ).split(",")
    assert [s for s in settings if s.startswith("narenas:")] == ["narenas:7"]


def test_child_process_keeps_one_setting():
    child = (
        f"import subprocess, sys; subprocess.run([sys.executable, '-c', {_CHILD!r}])"
    )
    settings = _settings(f"import importer, polars; {child}").split(",")
    assert len([s for s in settings if s.startswith("narenas:")]) == 1


def test_polars_imported_first_is_left_alone():
    settings = _settings(f"import polars, importer; {_PRINT}")
    assert "narenas" not in settings
