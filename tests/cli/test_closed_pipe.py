"""``fwbatch`` into a reader that goes away: the command ends quietly, and the log read is closed where it stopped."""

from __future__ import annotations

import asyncio
import gc
import inspect
import io
import os

import pytest

from fwbatch_async.cli.context import Settings
from fwbatch_async.cli.lines import LineWriter
from fwbatch_async.cli.logs import LogSelection, show_logs
from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import ACCOUNT, API_KEY, DEADLINE, FWBATCH, Fwbatch


class ClosedAfter(io.StringIO):
    """A stream whose reader leaves after ``lines`` lines."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left == 0:
            raise BrokenPipeError
        self.left -= text.count("\n")
        return super().write(text)


def suspended_log_reads() -> list[str]:
    """The package's async generators still alive with a frame: neither finished nor closed."""
    gc.collect()
    return [
        generator.ag_code.co_qualname
        for generator in gc.get_objects()
        if inspect.isasyncgen(generator)
        and generator.ag_frame is not None
        and "fwbatch_async" in generator.ag_code.co_filename
        and "emulator" not in generator.ag_code.co_filename  # the fixture serving this test
    ]


async def test_a_closed_pipe_closes_the_log_read_it_interrupted(fwbatch_emulator: Emulator[ManualClock]) -> None:
    fwbatch_emulator.clock.advance(1.0)
    settings = Settings(
        api_key=API_KEY, account_id=ACCOUNT, base_url=fwbatch_emulator.base_url, timeout=5.0, attempts=1
    )
    writer = LineWriter(ClosedAfter(5), colour=False)
    with pytest.raises(BrokenPipeError):
        await show_logs(settings, "done-job", LogSelection(), writer, follow=False, batch_job_id=None)
    assert suspended_log_reads() == []


async def test_watch_into_a_reader_that_went_away_ends_quietly(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    # Its lines are written from the task that watches the job: the closed pipe comes out of a task group.
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        str(FWBATCH), "watch", "running-job", stdout=write_end, stderr=asyncio.subprocess.PIPE, env=fwbatch.env
    )
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        assert (await asyncio.to_thread(reader.readline)).startswith("running-job ")
    fwbatch_emulator.clock.advance(700)  # finished: the next line has no reader
    _, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    assert (process.returncode, err) == (0, b"")
