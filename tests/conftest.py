"""Fixtures for every suite."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from testkit import RecordingClock

# No property test may depend on how fast the machine is: a loaded CI machine makes examples slow, not wrong.
settings.register_profile("fwbatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fwbatch")


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture(autouse=True)
def _no_fireworks_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real credentials or endpoint."""
    for name in ("FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID", "FIREWORKS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
