"""A follower process for the restart test: follow one job's log, committing each entry with its cursor.

Usage: ``python restart_follower.py BASE_URL ACCOUNT API_KEY JOB STATE_FILE``. Each entry is printed as a JSON line
with its sequence number, then the state file is replaced atomically with the cursor after that entry and the
number: an entry counts as delivered once that write lands. Starts from the state file's cursor if there is one,
else from the first entry; exits after the entry whose message is ``END``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import fwbatch_async as fw

END = "END"


def commit(state: Path, cursor: str, seq: int) -> None:
    """Replace ``state`` in one step: a kill leaves the old state or the new one, never half of either."""
    scratch = state.with_suffix(".tmp")
    scratch.write_text(json.dumps({"cursor": cursor, "seq": seq}))
    os.replace(scratch, state)


async def follow(
    base_url: str, account: str, api_key: str, job: str, state: Path, saved: dict[str, Any] | None
) -> None:
    seq = saved["seq"] if saved else 0
    start: dict[str, object] = {"cursor": saved["cursor"]} if saved else {"from_start": True}
    poll = fw.PollPolicy(min_interval=0.05, max_interval=0.2)  # real seconds: keep the test quick
    async with (
        fw.AsyncClient(api_key=api_key, account_id=account, base_url=base_url) as client,
        client.follow_logs(job, poll=poll, **start) as logs,  # type: ignore[arg-type]
    ):
        async for entry in logs:
            seq += 1
            line = {"seq": seq, "time": entry.log_time.ns, "rank": entry.rank, "message": entry.message}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            commit(state, logs.cursor.to_json(), seq)
            if entry.message == END:
                return


if __name__ == "__main__":
    base_url, account, api_key, job, state = sys.argv[1:]
    path = Path(state)
    asyncio.run(follow(base_url, account, api_key, job, path, json.loads(path.read_text()) if path.exists() else None))
