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


def test_user_settings_come_last():
    settings = _settings(
        f"import importer, polars; {_PRINT}", _RJEM_MALLOC_CONF="narenas:7"
    ).split(",")
    assert settings.index("narenas:7") > settings.index(
        f"narenas:{len(os.sched_getaffinity(0))}"
    )


def test_polars_imported_first_is_left_alone():
    settings = _settings(f"import polars, importer; {_PRINT}")
    assert "narenas" not in settings
