from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from fwbatch_async.emulator import Emulator, Faults, ManualClock, Realism, Scenario

from .helpers import Api

Serve = Callable[..., Awaitable[Api]]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def serve(session: aiohttp.ClientSession) -> AsyncIterator[Serve]:
    """Start emulators on 127.0.0.1 with a manual clock; all are closed at teardown."""
    started: list[Emulator[Any]] = []

    async def start(
        scenario: Scenario,
        *,
        realism: Realism | None = None,
        faults: Faults | None = None,
        clock: Any = None,
        api_key: str = "test-key",
        account_rpm: float | None = None,
    ) -> Api:
        emulator = Emulator(
            scenario,
            clock=clock if clock is not None else ManualClock(),
            realism=realism,
            faults=faults,
            api_key=api_key,
            account_rpm=account_rpm,
        )
        await emulator.start()
        started.append(emulator)
        return Api(session, emulator)

    yield start
    for emulator in started:
        await emulator.close()
