"""Follow many batch jobs at once with one client and print a summary of each when all have finished.

Usage::

    python examples/follow_many.py JOB_ID [JOB_ID ...]
    python examples/follow_many.py --all          # every job of the account

Each job ends once it finished and ``--lookback`` seconds (10 by default) brought no late line.

One :class:`~fwbatch_async.AsyncClient` follows every job: one connection pool, and one send rate for all of them (at
most 10 requests a second, shared among the jobs, a busy log before a quiet one; lower for a while when the server
throttles). Log lines are counted, not printed. The connection comes from ``FIREWORKS_*`` environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence

import fwbatch_async as fw


async def follow(job_ids: Sequence[str] | None, lookback: float = 10.0) -> dict[str, fw.JobEnded]:
    """Follow ``job_ids`` (every job of the account if ``None``) to their ends; print a summary line per job."""
    lines: Counter[str] = Counter()
    ended: dict[str, fw.JobEnded] = {}
    async with fw.AsyncClient() as client:
        if job_ids is None:
            job_ids = [job.name.rsplit("/", 1)[-1] async for job in client.list_batch_inference_jobs()]
        async with client.follow_jobs(job_ids, from_start=True, lookback=lookback) as events:
            async for event in events:
                if isinstance(event, fw.LogLine):
                    lines[event.job_id] += 1
                elif isinstance(event, fw.JobEnded):
                    ended[event.job_id] = event
    for job_id in job_ids:
        end = ended[job_id]
        state = end.job.state.short_name if end.job else f"error: {end.error}"
        print(f"{job_id}\t{state}\t{lines[job_id]} lines")
    succeeded = sum(end.succeeded for end in ended.values())
    print(f"{len(ended)} jobs: {succeeded} succeeded, {len(ended) - succeeded} did not")
    return ended


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and follow; exit 0 only if every job succeeded."""
    parser = argparse.ArgumentParser(description="Follow many batch jobs and print a summary.")
    parser.add_argument("job_ids", nargs="*")
    parser.add_argument("--all", action="store_true", help="follow every job of the account")
    parser.add_argument("--lookback", type=float, default=10.0, help="seconds to wait for late lines at the end")
    args = parser.parse_args(argv)
    if not args.job_ids and not args.all:
        parser.error("give job ids or --all")
    ended = asyncio.run(follow(None if args.all else args.job_ids, args.lookback))
    return 0 if all(end.succeeded for end in ended.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
