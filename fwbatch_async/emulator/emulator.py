"""The emulator: a simulation served over HTTP on a local port, with a Python API for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from aiohttp import web

from fwbatch_async.emulator.accountcap import AccountCap
from fwbatch_async.emulator.clock import Clock, ScaledClock
from fwbatch_async.emulator.faults import Faults
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.scenario import JobSpec, Scenario
from fwbatch_async.emulator.server import EmulatorServer
from fwbatch_async.emulator.simulation import Simulation
from fwbatch_async.emulator.stats import Stats

__all__ = ["Emulator"]

ClockT = TypeVar("ClockT", bound=Clock)


class Emulator(Generic[ClockT]):
    """A local Fireworks batch API serving a scenario's simulated jobs.

    Use it as an async context manager (or call :meth:`start` and :meth:`close`)::

        async with Emulator(scenario, clock=ManualClock()) as emu:
            ...  # point a client at emu.base_url with emu.api_key and emu.account_id

    The Python methods (:meth:`job`, :meth:`logs`, ...) work whether or not the server is started.

    Args:
        scenario: the account and jobs to serve (default: an empty account).
        clock: the emulated time source (default: real time, :class:`ScaledClock` at speed 1).
        api_key: the one key accepted in ``Authorization: Bearer <key>``.
        faults: fault injection (default: none).
        realism: wire quirks to show (default: none, which is the live wire).
        account_rpm: the account's request cap, requests a minute over every endpoint (default: none); over it,
            429, half of them with ``Retry-After``. Counted in real time whatever the clock's speed, as clients
            send. Change it while running with :attr:`account_cap`.
        host: address to listen on.
        port: port to listen on; 0 picks a free one.
        shutdown_timeout: seconds :meth:`close` lets requests in flight finish.
    """

    @overload
    def __init__(
        self: Emulator[ScaledClock],
        scenario: Scenario | None = None,
        *,
        clock: None = None,
        api_key: str = ...,
        faults: Faults | None = None,
        realism: Realism | None = None,
        account_rpm: float | None = None,
        host: str = ...,
        port: int = ...,
        shutdown_timeout: float = ...,
    ) -> None: ...
    @overload
    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        clock: ClockT,
        api_key: str = ...,
        faults: Faults | None = None,
        realism: Realism | None = None,
        account_rpm: float | None = None,
        host: str = ...,
        port: int = ...,
        shutdown_timeout: float = ...,
    ) -> None: ...
    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        clock: ClockT | None = None,
        api_key: str = "test-key",
        faults: Faults | None = None,
        realism: Realism | None = None,
        account_rpm: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.scenario = scenario if scenario is not None else Scenario()
        # Without a clock, the first overload makes ClockT ScaledClock.
        self.clock: ClockT = clock if clock is not None else ScaledClock(speed=1.0)  # type: ignore[assignment]
        self.api_key = api_key
        self.faults = faults if faults is not None else Faults()
        self.realism = realism if realism is not None else Realism()
        self.stats = Stats()
        self.host = host
        self._port = port
        self._shutdown_timeout = shutdown_timeout
        self._simulation = Simulation(self.scenario, self.clock, self.realism)
        self.account_cap = None if account_rpm is None else AccountCap(account_rpm, seed=self.scenario.seed)
        """The account's request cap (its ``per_minute`` can be changed while it runs), or ``None``."""
        self._server = EmulatorServer(
            self._simulation, api_key=api_key, faults=self.faults, stats=self.stats, cap=self.account_cap
        )
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening.

        Raises:
            RuntimeError: if already started.
        """
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        self._server.closing = asyncio.Event()  # a fresh one, in case an earlier close() set it
        runner = web.AppRunner(
            self._server.app(), access_log=None, handle_signals=False, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening, end slow responses at once, and close every connection; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            self._server.closing.set()
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        """The port listened on (known once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port``, the value for ``FIREWORKS_BASE_URL``.

        Raises:
            RuntimeError: if the server is not started.
        """
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def account_id(self) -> str:
        """The account served."""
        return self.scenario.account

    # ------------------------------------------------------------------------------------------------ test API

    def job(self, job_id: str) -> dict[str, Any]:
        """The job resource exactly as GET would serve it now (without a read mask).

        Raises:
            KeyError: for a job not in the scenario.
            ValueError: for a job not created yet, or deleted and gone.
        """
        now = self.clock.time_ns()
        return self._simulation.resource(self._simulation.current(job_id, now), now)

    def batch_job(self, job_id: str) -> dict[str, Any]:
        """The job's batch job resource exactly as ``GET .../batchJobs/{id}`` would serve it now.

        Its ``name`` carries the batch job id the emulator gave it (see :mod:`.batchjob`).

        Args:
            job_id: inference job id or batch job id.

        Raises:
            KeyError: for a job not in the scenario.
            ValueError: for a job not created yet, or deleted and gone.
        """
        now = self.clock.time_ns()
        return self._simulation.batch_resource(self._simulation.current(job_id, now), now)

    def logs(self, job_id: str, *, include_pending: bool = False) -> list[tuple[str, int, str]]:
        """Ground truth: every entry visible now as ``(logTime text, rank, message)``, oldest first.

        Args:
            job_id: inference job id or batch job id.
            include_pending: also entries not visible yet (late entries still in ingestion).

        Raises:
            KeyError: for a job not in the scenario.
        """
        return self._simulation.entries(job_id, include_pending=include_pending)

    def append_logs(self, job_id: str, entries: Iterable[tuple[int, int, str]], visible_after: float = 0.0) -> None:
        """Add ``(time_ns, rank, message)`` lines to a job's log, visible ``visible_after`` seconds after their time.

        Raises:
            KeyError: for a job not in the scenario.
            ValueError: for a negative time or delay.
        """
        self._simulation.append(job_id, entries, visible_after)

    def add_job(self, spec: JobSpec) -> None:
        """Add a job while running; it is created ``spec.start_after`` seconds from now.

        Raises:
            ValueError: if its id or batch job id is taken.
        """
        self._simulation.add_job(spec)

    def set_outcome_now(self, job_id: str, outcome: str, message: str | None = None) -> None:
        """End a job now as ``outcome`` (``"COMPLETED"``, ``"FAILED"``, ...), or freeze it with ``"STUCK"``.

        Its ending log lines are written at the current time, if its workers had started.

        Raises:
            KeyError: for a job not in the scenario.
            ValueError: for an unknown outcome (``"NO_CAPACITY"`` too: only a plan can have it), a job not created
                yet, one already finished, or one deleted.
        """
        self._simulation.end(job_id, outcome, message)

    def delete_job(self, job_id: str) -> None:
        """Delete a job now, as ``DELETE .../batchInferenceJobs/{id}`` does.

        It shows ``JOB_STATE_DELETING_CLEANING_UP`` for 5 emulated seconds, its workers stop without another log
        line, and then it is gone: GET, getLogs and the batch job answer 404 and the list leaves it out.

        Raises:
            KeyError: for a job not in the scenario.
            ValueError: for a job not created yet, or deleted and gone.
        """
        now = self.clock.time_ns()
        self._simulation.delete(self._simulation.current(job_id, now), now)
