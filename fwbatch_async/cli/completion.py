"""Shell completion: the script ``fwbatch completion SHELL`` prints, and job ids completed from the account's list.

A Tab must never hang the prompt nor print into it: the list is read once, without retries, for at most
``_SECONDS``; what came by then is offered, and anything that goes wrong (no key, no network, a refusal) offers
nothing, silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import click
from click.shell_completion import CompletionItem, get_completion_class

import fwbatch_async as fw

from .listing import PAGE_SIZE
from .options import NEWEST_FIRST

__all__ = ["complete_job_ids", "completion_script"]

_SECONDS: Final = 2.0
_MOST: Final = 200
"""Ids offered at most: more than a screen already."""


def completion_script(command: click.Command, shell: str) -> str:
    """The completion script of ``shell`` (bash, zsh or fish) for ``fwbatch``, as ``_FWBATCH_COMPLETE=bash_source``.

    Raises:
        ValueError: a shell click has no completion for.
    """
    completion = get_completion_class(shell)
    if completion is None:
        raise ValueError(f"no completion for the shell {shell!r}")
    return completion(command, {}, "fwbatch", "_FWBATCH_COMPLETE").source()


def complete_job_ids(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """The account's job ids that start with ``incomplete``, newest first; none when they cannot be read at once.

    The key, account and address are the command line's, or the environment's, as for a command.
    """
    options = ctx.find_root().params
    api_key, account, base_url = options.get("api_key"), options.get("account"), options.get("base_url")
    if not api_key or not account:
        return []
    logging.getLogger("fwbatch_async").addHandler(logging.NullHandler())  # no warning may print over the prompt
    try:
        ids = asyncio.run(_job_ids(api_key, account, base_url, incomplete))
    except Exception:  # a Tab that offers nothing says enough
        return []
    return [CompletionItem(job_id) for job_id in ids]


async def _job_ids(api_key: str, account: str, base_url: str | None, prefix: str) -> list[str]:
    """The ids that start with ``prefix``, as many as come within ``_SECONDS``."""
    ids: list[str] = []
    async with fw.AsyncClient(
        api_key=api_key, account_id=account, base_url=base_url, timeout=_SECONDS, retry=fw.RetryPolicy.never()
    ) as client:
        try:
            async with asyncio.timeout(_SECONDS):
                async for job in client.list_batch_inference_jobs(order_by=NEWEST_FIRST, page_size=PAGE_SIZE):
                    if job.job_id.startswith(prefix):
                        ids.append(job.job_id)
                    if len(ids) == _MOST:
                        break
        except TimeoutError:  # the ids read so far
            pass
    return ids
