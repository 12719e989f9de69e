"""Pytest plugin (entry point ``fwbatch_emulator``): a running emulator as the ``fwbatch_emulator`` fixture.

The fixture starts an :class:`~fwbatch_async.emulator.Emulator` on 127.0.0.1 with a
:class:`~fwbatch_async.emulator.ManualClock`, serving the scenario of the ``fwbatch_emulator_scenario``
fixture (one small job by default); override that fixture to serve your own jobs::

    @pytest.fixture
    def fwbatch_emulator_scenario():
        return Scenario(account="acme", jobs=[JobSpec(id="nightly", outcome="FAILED")])

Extra keyword arguments for the emulator (faults, realism, api_key) come from ``fwbatch_emulator_options``.

Importing this module costs nothing beyond pytest: the emulator is imported when the fixture is first used.
The fixture needs pytest-asyncio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from fwbatch_async.emulator import Emulator, ManualClock, Scenario

_F = TypeVar("_F", bound=Callable[..., Any])

try:
    import pytest_asyncio

    _async_fixture = cast("Callable[[_F], _F]", pytest_asyncio.fixture)
except ImportError:  # without pytest-asyncio the fixture cannot run, but the plugin must not break pytest
    _async_fixture = cast("Callable[[_F], _F]", pytest.fixture)


@pytest.fixture
def fwbatch_emulator_scenario() -> Scenario:
    """The scenario ``fwbatch_emulator`` serves: account ``test-account``, one 600 s job ``job-1``."""
    from fwbatch_async.emulator import Scenario  # noqa: PLC0415 - imported on use, to keep the plugin cheap

    return Scenario.named("small")


@pytest.fixture
def fwbatch_emulator_options() -> dict[str, Any]:
    """Extra keyword arguments for :class:`~fwbatch_async.emulator.Emulator` (``faults``, ``realism``, ...)."""
    return {}


@_async_fixture
async def fwbatch_emulator(
    fwbatch_emulator_scenario: Scenario, fwbatch_emulator_options: dict[str, Any]
) -> AsyncIterator[Emulator[ManualClock]]:
    """A running emulator with a manual clock; advance time with ``fwbatch_emulator.clock.advance(seconds)``."""
    from fwbatch_async.emulator import Emulator, ManualClock  # noqa: PLC0415 - imported on use

    async with Emulator(fwbatch_emulator_scenario, clock=ManualClock(), **fwbatch_emulator_options) as emulator:
        yield emulator
