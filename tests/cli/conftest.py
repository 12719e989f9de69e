"""Fixtures: the emulator serving the CLI scenario, and the command pointed at it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fwbatch_async.emulator import Emulator, ManualClock, Scenario

from .clikit import ACCOUNT, API_KEY, Fwbatch, scenario


@pytest.fixture
def fwbatch_emulator_scenario() -> Scenario:
    return scenario()


@pytest.fixture
def fwbatch_emulator_options() -> dict[str, Any]:
    return {"api_key": API_KEY}


@pytest.fixture
def fwbatch(fwbatch_emulator: Emulator[ManualClock], tmp_path: Path) -> Fwbatch:
    fwbatch_emulator.clock.advance(1.0)
    home = tmp_path / "home"  # no ~/.fireworks/auth.ini of this machine's user: a test writes the one it needs
    home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FIREWORKS_", "NO_COLOR", "FORCE_COLOR"))
    }
    env |= {
        "FIREWORKS_API_KEY": API_KEY,
        "FIREWORKS_ACCOUNT_ID": ACCOUNT,
        "FIREWORKS_BASE_URL": fwbatch_emulator.base_url,
        "PYTHONWARNINGS": "error",  # an unclosed session or a leaked task in the command fails its test
        "HOME": str(home),
    }
    return Fwbatch(env)
