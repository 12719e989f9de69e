"""``fwbatch completion``: the scripts, and job ids completed from the emulator's list, or nothing, quietly, at once."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator

import pytest

from .clikit import FWBATCH, Fwbatch, Result

pytestmark = pytest.mark.timeout(120)

# The command reads the list for 2 s at most; its defaults (30 s a request, 6 attempts) would take minutes.
PROMPT_DEADLINE = 10.0


async def complete(fwbatch: Fwbatch, words: str, **env: str) -> Result:
    """What bash's Tab offers after ``words`` (the last word is the one being completed)."""
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    return await fwbatch.run(_FWBATCH_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword, **env)


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("fwbatch status d", ["done-job"]),
        ("fwbatch status ", ["running-job", "failed-job", "done-job"]),  # newest first
        ("fwbatch logs -f f", ["failed-job"]),
        ("fwbatch watch r", ["running-job"]),
        ("fwbatch follow done-job r", ["running-job"]),
        ("fwbatch status x", []),
    ],
)
async def test_job_ids_are_completed_from_the_accounts_list(fwbatch: Fwbatch, words: str, offered: list[str]) -> None:
    result = await complete(fwbatch, words)
    assert (result.code, result.err) == (0, "")
    assert result.out.split() == [f"plain,{job_id}" for job_id in offered]


async def test_the_command_lines_key_and_account_are_used(fwbatch: Fwbatch) -> None:
    no_environment = {"FIREWORKS_API_KEY": "", "FIREWORKS_ACCOUNT_ID": ""}
    key, account = fwbatch.env["FIREWORKS_API_KEY"], fwbatch.env["FIREWORKS_ACCOUNT_ID"]
    result = await complete(fwbatch, f"fwbatch --api-key {key} --account {account} status d", **no_environment)
    assert result.out.split() == ["plain,done-job"]


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """The address of a server that takes connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client leaves
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("problem", ["no key", "no account", "wrong key", "nothing listens", "no answer"])
async def test_without_a_list_nothing_is_offered_nothing_is_printed_and_the_prompt_is_back_at_once(
    fwbatch: Fwbatch, unused_tcp_port: int, silent_server: str, problem: str
) -> None:
    env = {
        "no key": {"FIREWORKS_API_KEY": ""},
        "no account": {"FIREWORKS_ACCOUNT_ID": ""},
        "wrong key": {"FIREWORKS_API_KEY": "fw-wrong"},
        "nothing listens": {"FIREWORKS_BASE_URL": f"http://127.0.0.1:{unused_tcp_port}"},
        "no answer": {"FIREWORKS_BASE_URL": silent_server},
    }[problem]
    started = time.monotonic()
    result = await complete(fwbatch, "fwbatch status d", **env)
    assert (result.code, result.out.strip(), result.err) == (0, "", "")
    assert time.monotonic() - started < PROMPT_DEADLINE


@pytest.mark.parametrize(
    ("shell", "marks"),
    [
        ("bash", ["_FWBATCH_COMPLETE=bash_complete", "complete -o nosort -F _fwbatch_completion fwbatch"]),
        ("zsh", ["_FWBATCH_COMPLETE=zsh_complete", "compdef _fwbatch_completion fwbatch"]),
        ("fish", ["_FWBATCH_COMPLETE=fish_complete", "complete --no-files --command fwbatch"]),
    ],
)
async def test_completion_prints_the_shells_script(fwbatch: Fwbatch, shell: str, marks: list[str]) -> None:
    result = await fwbatch.run("completion", shell)
    assert (result.code, result.err) == (0, "")
    for mark in marks:
        assert mark in result.out


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
async def test_bash_takes_the_script_and_completes_with_it(fwbatch: Fwbatch) -> None:
    script = await fwbatch.run("completion", "bash")
    # What the script's function does on a Tab after "fwbatch status d": the words it sets in COMPREPLY.
    check = f"""{script.out}
COMP_WORDS=(fwbatch status d); COMP_CWORD=2
_fwbatch_completion fwbatch  # bash passes the command
complete -p fwbatch
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    bash = await asyncio.create_subprocess_exec(
        "bash",
        "--norc",
        "-c",
        check,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=fwbatch.env | {"PATH": f"{FWBATCH.parent}{os.pathsep}{os.environ.get('PATH', '')}"},  # as installed
    )
    out, err = await asyncio.wait_for(bash.communicate(), PROMPT_DEADLINE * 3)
    assert (bash.returncode, err) == (0, b"")
    assert out.decode().splitlines() == ["complete -o nosort -F _fwbatch_completion fwbatch", "done-job"]


async def test_completion_of_another_shell_is_bad_usage(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("completion", "powershell")
    assert result.code == 2
    assert "'powershell' is not one of" in result.err
