"""Follow many jobs from several processes: job ids sharded by hash, one client per process, resumable cursors.

Usage::

    python examples/sharded.py --shards 4 --state-dir ./state JOB_ID [JOB_ID ...]

Each of the ``--shards`` worker processes follows the jobs whose id hashes to it, with its own
:class:`~fwbatch_async.AsyncClient` (its own connections, and its own ceiling of 10 requests a second: N shards may
send 10 x N together; pass ``max_rate=share / N`` to keep them within a share of the account's cap), until they have
finished. A job's lines go to ``STATE_DIR/<job>.jsonl``; every ``--checkpoint-every`` lines, and at the end, the
worker saves a checkpoint in ``STATE_DIR/<job>.checkpoint``: the follow's cursor and how many bytes of output it
covers. A worker that starts where a checkpoint exists (a restart, or the shard moved to another host sharing the
directory) truncates the output to the checkpointed length and resumes from the cursor: no line is lost and none
repeated.
Under Ray, Celery or a Kubernetes job the same ``run_shard`` is the body of an actor or task; only the launching
differs. The connection comes from ``FIREWORKS_*`` environment variables.

``--crash-after N`` makes every worker die abruptly (``os._exit``) after writing N lines, as a killed host would;
run again without it to see the shards resume.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import fwbatch_async as fw


def shard_of(job_id: str, shards: int) -> int:
    """The shard that owns ``job_id``: a stable hash (not Python's ``hash``, which differs between processes)."""
    return zlib.crc32(job_id.encode()) % shards


class Checkpointed:
    """One job's output file and its checkpoint: the cursor, and the length of output that the cursor covers."""

    def __init__(self, state_dir: Path, job_id: str) -> None:
        self.output = state_dir / f"{job_id}.jsonl"
        self.checkpoint = state_dir / f"{job_id}.checkpoint"

    def resume(self) -> str | None:
        """Cut the output back to the last checkpoint and return its cursor (``None``: start from the beginning)."""
        if not self.checkpoint.exists():
            self.output.write_bytes(b"")
            return None
        saved = json.loads(self.checkpoint.read_text())
        with self.output.open("r+b") as out:  # lines written after the checkpoint will be delivered again
            out.truncate(saved["output_bytes"])
        return str(saved["cursor"])

    def save(self, cursor: fw.FollowCursor, output_bytes: int) -> None:
        """Replace the checkpoint atomically, so a crash leaves the old one or the new one, never half of one."""
        partial = self.checkpoint.with_suffix(".partial")
        partial.write_text(json.dumps({"cursor": cursor.to_json(), "output_bytes": output_bytes}))
        partial.replace(self.checkpoint)


async def follow_to_end(
    client: fw.AsyncClient, job_id: str, state_dir: Path, options: argparse.Namespace, written: list[int]
) -> None:
    """Follow one job's log from its checkpoint until the job finished and the log drained."""
    files = Checkpointed(state_dir, job_id)
    saved = files.resume()
    lookback = options.lookback
    async with (
        client.follow_logs(job_id, cursor=saved, lookback=lookback)
        if saved is not None
        else client.follow_logs(job_id, from_start=True, lookback=lookback)
    ) as logs:

        async def finish_when_the_job_does() -> None:
            async for _update in client.watch_job(job_id):  # ends after a finished state
                pass
            logs.finish()

        watcher = asyncio.create_task(finish_when_the_job_does())
        try:
            with files.output.open("ab") as out:
                since_checkpoint = 0
                async for entry in logs:
                    line = {"time": entry.log_time.text, "rank": entry.rank, "message": entry.message}
                    out.write(json.dumps(line).encode() + b"\n")
                    written[0] += 1
                    since_checkpoint += 1
                    if written[0] == options.crash_after:
                        out.flush()
                        os._exit(1)  # the demonstration's crash: no cleanup, no final checkpoint
                    if since_checkpoint >= options.checkpoint_every:
                        out.flush()
                        files.save(logs.cursor, out.tell())
                        since_checkpoint = 0
                out.flush()
                files.save(logs.cursor, out.tell())
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)


async def run_shard(shard: int, job_ids: Sequence[str], state_dir: Path, options: argparse.Namespace) -> None:
    """One shard: its own client, following each of its jobs concurrently."""
    mine = [job_id for job_id in job_ids if shard_of(job_id, options.shards) == shard]
    written = [0]  # lines written by this process, for --crash-after
    async with fw.AsyncClient() as client, asyncio.TaskGroup() as group:
        for job_id in mine:
            group.create_task(follow_to_end(client, job_id, state_dir, options, written))
    print(f"shard {shard}: {len(mine)} jobs followed to the end", flush=True)


def shard_process(shard: int, job_ids: Sequence[str], state_dir: Path, options: argparse.Namespace) -> None:
    """The worker process's entry point."""
    asyncio.run(run_shard(shard, job_ids, state_dir, options))


def main(argv: Sequence[str] | None = None) -> int:
    """Start one process per shard and wait for them; exit 1 if any of them failed."""
    parser = argparse.ArgumentParser(description="Follow jobs from several processes, sharded by job id.")
    parser.add_argument("job_ids", nargs="+")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--checkpoint-every", type=int, default=100, help="lines between checkpoints")
    parser.add_argument("--lookback", type=float, default=10.0, help="seconds to wait for late lines at the end")
    parser.add_argument("--crash-after", type=int, default=None, help="die abruptly after this many lines")
    options = parser.parse_args(argv)
    options.state_dir.mkdir(parents=True, exist_ok=True)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter per shard: no event loop inherited
    workers = [
        spawn.Process(target=shard_process, args=(shard, options.job_ids, options.state_dir, options))
        for shard in range(options.shards)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return 0 if all(worker.exitcode == 0 for worker in workers) else 1


if __name__ == "__main__":
    sys.exit(main())
