"""Fixtures for every suite."""

from __future__ import annotations

import pytest
from testkit import RecordingClock


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture(autouse=True)
def _no_fireworks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real credentials or endpoint."""
    for name in ("FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID", "FIREWORKS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
