"""The public surface: everything in __all__ is importable, typed, documented in docstrings and in the API page."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import fwbatch_async as fw

API_PAGE = Path(__file__).parents[2] / "docs" / "api.md"
PUBLIC = sorted(name for name in fw.__all__ if name != "__version__")


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_importable_and_documented(name: str) -> None:
    obj = getattr(fw, name)
    assert inspect.getdoc(obj), f"{name} has no docstring"
    if API_PAGE.exists():  # the docs are not part of an installed package
        assert f"fwbatch_async.{name}" in API_PAGE.read_text(), f"{name} is missing from docs/api.md"


def test_the_package_is_marked_typed() -> None:
    assert (Path(fw.__file__).parent / "py.typed").exists()


def test_importing_the_package_does_not_import_aiohttp() -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = "import sys, fwbatch_async; print('aiohttp' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
