"""Realistic log line texts of a batch inference worker: startup, progress, warnings, bursts, failures, summaries."""

from __future__ import annotations

import random
from typing import Final

import attrs

from fwbatch_async.emulator.jobview import JobProfile
from fwbatch_async.emulator.scenario import JobSpec

__all__ = ["JobText"]

_BATCH_SIZE: Final = 64
_WARNINGS: Final = (
    "WARNING: request {req} hit max_tokens={max_tokens}; output truncated",
    "WARNING: retrying request {req} after upstream timeout (attempt {attempt}/3)",
    "WARNING: KV cache usage at {pct}%; reducing batch size to {batch}",
    "WARNING: request {req} has an empty 'messages' list; recorded as failed",
)
_FINISH_REASONS: Final = ("stop", "stop", "stop", "length")
TRACEBACK: Final = """Traceback (most recent call last):
  File "/app/batch/worker.py", line 412, in run
    outputs = self.engine.generate(batch)
  File "/app/batch/engine.py", line 188, in generate
    return self._step(requests)
  File "/app/batch/engine.py", line 241, in _step
    logits = self.model.forward(tokens, cache)
RuntimeError: CUDA error: an illegal memory access was encountered"""


@attrs.frozen(kw_only=True)
class JobText:
    """Writes the lines of one job; every method is a pure function of its arguments and the rng."""

    spec: JobSpec
    profile: JobProfile
    account: str

    @property
    def output_dataset(self) -> str:
        """The output dataset's resource name."""
        return f"accounts/{self.account}/datasets/{self.spec.id}-output"

    def share(self) -> int:
        """Requests per rank."""
        return -(-self.spec.requests // self.spec.ranks)

    def startup(self, rank: int, rng: random.Random) -> list[str]:
        """A rank's startup lines: process start, model load, readiness (rank 0 also reads the dataset)."""
        spec = self.spec
        lines = [
            (
                f"Starting batch inference worker rank {rank}/{spec.ranks} (pid {rng.randrange(100, 65000)}) "
                f"on host gpu-node-{rng.randrange(1000):03d}"
            ),
            f"Loading model {spec.model} with precision {spec.precision}",
            f"Loaded model weights in {rng.uniform(8, 90):.1f}s ({rng.uniform(14, 140):.1f} GiB)",
        ]
        if rank == 0:
            lines.append(
                f"Reading input dataset accounts/{self.account}/datasets/{spec.id}-input "
                f"({spec.requests} requests, {max(1, spec.requests // 5000)} shards)"
            )
        lines.append(f"Worker rank {rank} ready: max_batch_size={_BATCH_SIZE}, max_concurrency=256")
        return lines

    def progress(self, rank: int, processed: int, rng: random.Random) -> str:
        """One running line: mostly a finished batch, sometimes a warning or a heartbeat."""
        roll = rng.random()
        if roll < 0.05:  # noqa: PLR2004 - share of warnings
            return rng.choice(_WARNINGS).format(
                req=f"req-{rng.randrange(self.spec.requests or 1):07d}",
                max_tokens=1024,
                attempt=rng.randrange(1, 4),
                pct=rng.randrange(90, 100),
                batch=rng.choice((16, 32, 48)),
            )
        if roll < 0.10:  # noqa: PLR2004 - share of heartbeats
            return (
                f"Heartbeat rank {rank}: gpu_util={rng.randrange(60, 100)}% "
                f"mem_used={rng.uniform(30, 78):.1f}GiB queue_depth={rng.randrange(300)}"
            )
        share = self.share()
        done = min(share, processed // self.spec.ranks)
        count = rng.randrange(8, _BATCH_SIZE + 1)
        seconds = rng.uniform(0.4, 6.0)
        speed = count * self.profile.output_tokens_per_request / seconds
        return (
            f"Processed batch {done // _BATCH_SIZE + 1} on rank {rank}: {count} requests in {seconds:.2f}s, "
            f"{speed:.1f} output tokens/s ({done}/{share} requests on this rank)"
        )

    def burst(self, rank: int, index: int, rng: random.Random) -> str:
        """One line of a burst: a per-request completion record, flushed together with many others."""
        return (
            f"Request req-{rng.randrange(self.spec.requests or 1):07d}-{index:04d} finished on rank {rank}: "
            f"{rng.randrange(20, 2000)} input tokens, {rng.randrange(1, 1024)} output tokens, "
            f"finish_reason={rng.choice(_FINISH_REASONS)}"
        )

    def stalled(self, rank: int, rng: random.Random) -> str:
        """A line of a stuck job: no progress, waiting."""
        return (
            f"WARNING: no batch completed on rank {rank} in the last {rng.randrange(30, 600)}s; "
            f"waiting for the inference engine (queue_depth={rng.randrange(1, 300)})"
        )

    def rank_finished(self, rank: int, processed: int) -> str:
        """A rank's last line after a normal end of the run."""
        done = min(self.share(), processed // self.spec.ranks)
        return f"Rank {rank} finished: {done} requests processed"

    def expired(self, rank: int) -> str:
        """A rank's line when the job reaches its maximum duration."""
        return f"WARNING: job reached its maximum duration; stopping worker rank {rank} after the current batch"

    def cancelled(self, rank: int) -> str:
        """A rank's line when the job is cancelled."""
        return f"Received cancellation request; stopping worker rank {rank}"

    def aborted(self, rank: int) -> str:
        """A rank's line when another rank crashed."""
        return f"ERROR: coordinator requested shutdown after a failure on another rank; aborting rank {rank}"

    def crash(self, rank: int) -> list[str]:
        """The crashing rank's lines: an error and a multi-line Python traceback."""
        return [f"ERROR: unhandled exception in worker rank {rank}", TRACEBACK]

    def writing(self) -> str:
        """First line of the WRITING_RESULTS phase."""
        return f"Writing results to {self.output_dataset}"

    def shard(self, index: int, shards: int, rows: int) -> str:
        """One uploaded results shard."""
        return f"Uploaded results shard {index + 1}/{shards} ({rows} rows)"

    def summary(self, outcome: str, processed: int, message: str | None) -> str:
        """The job's final line, from rank 0."""
        failed = processed * self.profile.failed_ppm // 1_000_000
        total = self.spec.requests
        if outcome == "COMPLETED":
            return (
                f"Batch inference job completed: {processed} requests ({processed - failed} succeeded, "
                f"{failed} failed), {processed * self.profile.input_tokens_per_request} input tokens, "
                f"{(processed - failed) * self.profile.output_tokens_per_request} output tokens"
            )
        if outcome == "EXPIRED":
            return (
                f"Batch inference job expired after {processed}/{total} requests; "
                f"partial results saved to {self.output_dataset}"
            )
        if outcome == "CANCELLED":
            return f"Batch inference job cancelled after {processed}/{total} requests"
        return f"Batch inference job failed after {processed}/{total} requests: {message}"
