"""What a wheel of the package contains, checked from pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importer.readers.mapping import MAPPINGS, builtin_mappings

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"
]["setuptools"]


def test_every_package_is_listed():
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "importer").rglob("__init__.py")
    }
    assert found <= set(SETUPTOOLS["packages"])


def test_mappings_install_as_data_package():
    assert MAPPINGS in SETUPTOOLS["packages"]
    folder = ROOT / SETUPTOOLS["package-dir"][MAPPINGS]
    assert folder == ROOT / "mappings"
    assert "*.toml" in SETUPTOOLS["package-data"][MAPPINGS]


def test_every_mapping_file_is_loaded():
    files = sorted((ROOT / "mappings").glob("*.toml"))
    assert len(builtin_mappings()) == len(files) > 0
