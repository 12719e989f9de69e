"""Built-in scenarios, by name.

- ``demo``: a few jobs over about an hour of emulated time (a minute at speed 60); one fails, one starts late.
- ``small``: one short job, the pytest fixture's default.
- ``bench``: one finished job with 240,000 log lines, for serving benchmarks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fwbatch_async.emulator.scenario import JobSpec, LateLines, Scenario

__all__ = ["NAMED_SCENARIOS"]


def demo() -> Scenario:
    """A few jobs, one of which fails, lasting about an hour of emulated time."""
    return Scenario(
        account="demo-account",
        seed=2026,
        jobs=[
            JobSpec(id="demo-summaries", requests=25_000, ranks=4, duration=3000.0, lines_per_second=8.0),
            JobSpec(
                id="demo-translations",
                model="accounts/fireworks/models/qwen3-235b-a22b",
                requests=60_000,
                ranks=8,
                duration=3400.0,
                lines_per_second=20.0,
                burst_every=600.0,
                burst_size=150,
                late=LateLines(fraction=0.05, max_delay=4.0),
            ),
            JobSpec(
                id="demo-embeddings-eval",
                requests=12_000,
                ranks=2,
                duration=2400.0,
                outcome="FAILED",
                status_message="worker rank 1 exited with code 1: CUDA error: an illegal memory access was encountered",
            ),
            JobSpec(id="demo-late-start", requests=5_000, ranks=2, duration=1800.0, start_after=900.0),
        ],
    )


def small() -> Scenario:
    """One short job with two ranks: ten emulated minutes, a few thousand log lines."""
    return Scenario(account="test-account", seed=1, jobs=[JobSpec(id="job-1", requests=1000, ranks=2)])


def bench() -> Scenario:
    """One job that finished before the emulator started, with 240,000 log lines and no late lines."""
    return Scenario(
        account="bench-account",
        seed=7,
        jobs=[
            JobSpec(
                id="bench-job",
                requests=1_000_000,
                ranks=8,
                duration=600.0,
                start_after=-700.0,
                lines_per_second=500.0,
                late=LateLines(fraction=0.0, max_delay=0.0),
            )
        ],
    )


NAMED_SCENARIOS: Final[dict[str, Callable[[], Scenario]]] = {"demo": demo, "small": small, "bench": bench}
