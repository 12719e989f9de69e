"""``python -m fwbatch_async.emulator``: serve a scenario until interrupted, printing how to connect."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from fwbatch_async.emulator.clock import ScaledClock
from fwbatch_async.emulator.emulator import Emulator
from fwbatch_async.emulator.faults import Faults
from fwbatch_async.emulator.named import NAMED_SCENARIOS
from fwbatch_async.emulator.realism import Realism
from fwbatch_async.emulator.scenario import Scenario

__all__ = ["REALISM_HELP", "build", "connection_text", "main", "run", "serve"]

REALISM_HELP = (
    "wire quirks, off by default (the defaults are the live wire): omit_defaults, int64_as_strings, "
    "fraction_digits=0/3/6/9, unknown_fields, unknown_state, empty_pages_with_token=F, repeat_end_token, auth_401; "
    'comma-separated, or "all"'
)


async def serve(emulator: Emulator[Any], *, on_ready: Callable[[Emulator[Any]], None] | None = None) -> None:
    """Run ``emulator`` until cancelled (or SIGTERM), calling ``on_ready`` once it listens.

    The emulator is closed cleanly on the way out.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signal handlers off the main thread
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with emulator:
            if on_ready is not None:
                on_ready(emulator)
            await stop.wait()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def connection_text(emulator: Emulator[Any], scenario_name: str) -> str:
    """What to tell a user: the address, account and key, as text and as shell exports."""
    jobs = ", ".join(job.id for job in emulator.scenario.jobs) or "(none)"
    clock = emulator.clock
    speed = f", speed {clock.speed:g}x" if isinstance(clock, ScaledClock) else ""
    realism = emulator.realism.to_text()
    faults = emulator.faults.to_text()
    cap = emulator.account_cap
    return (
        f"Fireworks batch API emulator: scenario {scenario_name!r}{speed}\n"
        f"  quirks:     {'none: the live wire' if realism == 'none' else f'{realism} (--realism)'}\n"
        f"  faults:     {'none' if faults == 'none' else f'{faults} (--faults)'}\n"
        f"  cap:        {'none' if cap is None else f'{cap.per_minute:g} requests a minute (--account-rpm)'}\n"
        f"  base URL:   {emulator.base_url}\n"
        f"  account id: {emulator.account_id}\n"
        f"  API key:    {emulator.api_key}\n"
        f"  jobs:       {jobs}\n"
        f"export FIREWORKS_BASE_URL={emulator.base_url}\n"
        f"export FIREWORKS_ACCOUNT_ID={emulator.account_id}\n"
        f"export FIREWORKS_API_KEY={emulator.api_key}\n"
        "Press Ctrl-C to stop.\n"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fwbatch_async.emulator",
        description="Serve a local emulator of the Fireworks batch inference API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument(
        "--scenario",
        default="demo",
        help=f"a built-in scenario ({', '.join(sorted(NAMED_SCENARIOS))}) or a JSON file (default: %(default)s)",
    )
    parser.add_argument("--speed", type=float, default=60.0, help="emulated seconds per real second")
    parser.add_argument("--faults", default="", help='fault rates, e.g. "429=0.05,503=0.02,reset=0.01"')
    parser.add_argument("--realism", default="", help=REALISM_HELP)
    parser.add_argument(
        "--account-rpm", type=float, default=None, help="the account's request cap, a real minute's (default: none)"
    )
    parser.add_argument("--api-key", default="emulator-key", help="the API key to accept (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    return parser


def build(
    scenario: str = "demo",
    *,
    speed: float = 60.0,
    faults: str = "",
    realism: str = "",
    account_rpm: float | None = None,
    api_key: str = "emulator-key",
    seed: int | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
) -> Emulator[Any]:
    """An emulator of a built-in scenario or a JSON file, on a clock ``speed`` times real time (not yet started).

    Raises:
        ValueError: an unknown scenario, or malformed fault or realism settings.
        OSError: the scenario file cannot be read.
    """
    loaded = Scenario.load(scenario)
    if seed is not None:
        loaded = Scenario(account=loaded.account, seed=seed, jobs=loaded.jobs)
    return Emulator(
        loaded,
        clock=ScaledClock(speed=speed),
        api_key=api_key,
        faults=Faults.parse(faults, seed=loaded.seed),
        realism=Realism.parse(realism),
        account_rpm=account_rpm,
        host=host,
        port=port,
    )


def run(emulator: Emulator[Any], scenario_name: str, out: TextIO) -> int:
    """Serve until Ctrl-C or SIGTERM, telling ``out`` how to connect; 0, or 1 if it cannot listen."""

    def ready(emu: Emulator[Any]) -> None:
        out.write(connection_text(emu, scenario_name))
        out.flush()

    try:
        asyncio.run(serve(emulator, on_ready=ready))
    except KeyboardInterrupt:
        return 0
    except OSError as error:  # e.g. the port is taken
        sys.stderr.write(f"error: {error}\n")
        return 1
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Parse arguments, serve until Ctrl-C, and return the exit status."""
    args = _parser().parse_args(argv)
    try:
        emulator = build(
            args.scenario,
            speed=args.speed,
            faults=args.faults,
            realism=args.realism,
            account_rpm=args.account_rpm,
            api_key=args.api_key,
            seed=args.seed,
            host=args.host,
            port=args.port,
        )
    except (OSError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    return run(emulator, str(args.scenario), sys.stdout if out is None else out)
