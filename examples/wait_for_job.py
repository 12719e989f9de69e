"""Wait for one batch inference job to finish and print how it ended.

Usage::

    python examples/wait_for_job.py JOB_ID [--timeout SECONDS]

The connection comes from ``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID`` and ``FIREWORKS_BASE_URL`` (try it with
``python -m fwbatch_async.emulator``, which prints them). Exits 0 when the job succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import fwbatch_async as fw


async def wait(job_id: str, give_up_after: float | None) -> int:
    """Wait for ``job_id``, print its final state and progress, and return the exit status."""
    async with fw.AsyncClient() as client:
        try:
            job = await client.wait_for_job(job_id, timeout=give_up_after)
        except fw.JobError as error:  # failed, stalled or timed out: the last job seen is attached
            last = error.job
            print(f"{job_id}: {error}")
            if last is not None:
                print(f"last state: {last.state.short_name}")
            return 1
    progress = job.job_progress
    done = progress.successfully_processed_requests if progress else None
    print(f"{job_id}: {job.state.short_name}, {done} requests processed")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and wait."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("job_id")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    args = parser.parse_args(argv)
    return asyncio.run(wait(args.job_id, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
