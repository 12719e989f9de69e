"""How ``fwbatch`` reports what goes wrong: one short line on stderr in the command's words, unknown ids at once."""

from __future__ import annotations

import pytest

from .clikit import Fwbatch

pytestmark = pytest.mark.timeout(120)

NOT_FOUND = "fwbatch: error: nope: HTTP 404 NOT_FOUND: resource not found\n"


@pytest.mark.parametrize(
    "command",
    [
        ["watch", "done-job", "running-job", "nope"],
        ["follow", "running-job", "nope", "--tail", "0"],
        ["logs", "-f", "nope"],
    ],
)
async def test_an_unknown_id_anywhere_in_the_list_fails_at_once_before_anything_is_followed(
    fwbatch: Fwbatch, command: list[str]
) -> None:
    # running-job never finishes on the test's stopped clock: reaching the end at all means nothing was followed.
    result = await fwbatch.run(*command)
    assert (result.code, result.out, result.err) == (3, "", NOT_FOUND)


async def test_an_unknown_id_is_reported_once_on_stderr_even_when_stdout_is_a_file(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("watch", "nope")
    assert (result.code, result.out, result.err) == (3, "", NOT_FOUND)


async def test_an_error_while_following_is_reported_once_without_a_library_warning(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("logs", "-f", "done-job", "--batch-job-id", "missing")
    assert result.code == 3
    assert result.err == "fwbatch: error: done-job: HTTP 404 NOT_FOUND: resource not found\n"


async def test_the_url_and_request_id_are_shown_only_with_verbose(fwbatch: Fwbatch) -> None:
    quiet = await fwbatch.run("status", "nope")
    assert quiet.err == NOT_FOUND
    verbose = await fwbatch.run("-v", "status", "nope")
    assert verbose.code == 3
    (line,) = verbose.err.splitlines()
    assert line.startswith(NOT_FOUND.rstrip("\n") + " [")
    assert "/batchInferenceJobs/nope" in line


@pytest.mark.parametrize(
    ("args", "env", "advice"),
    [
        (["status", "done-job"], {"FIREWORKS_ACCOUNT_ID": ""}, "pass --account, set FIREWORKS_ACCOUNT_ID"),
        (["--base-url", "http://example.com", "status", "done-job"], {}, "give an https:// address"),
    ],
)
async def test_setup_mistakes_name_the_flags_not_the_python_arguments(
    fwbatch: Fwbatch, args: list[str], env: dict[str, str], advice: str
) -> None:
    result = await fwbatch.run(*args, **env)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert result.err.startswith("fwbatch: error: ")
    assert advice in result.err
    assert "=" not in result.err.replace("--", "")  # no account_id=, allow_insecure_http=True, api_key=


@pytest.mark.parametrize(
    "command", [["status", "done-job"], ["logs", "done-job"], ["logs", "done-job", "--since", "1m"]]
)
async def test_a_one_shot_command_fails_at_once_on_a_refused_connection(
    fwbatch: Fwbatch, unused_tcp_port: int, command: list[str]
) -> None:
    result = await fwbatch.run("-v", "--base-url", f"http://127.0.0.1:{unused_tcp_port}", *command)
    assert result.code == 3
    assert "retrying" not in result.err  # -v would log every retry: there is none
    assert result.err.splitlines()[-1].startswith("fwbatch: error: ")
    assert f"connection refused by 127.0.0.1:{unused_tcp_port}" in result.err


@pytest.mark.parametrize("command", [["logs", "-f", "done-job"], ["watch", "done-job"], ["follow", "done-job"]])
async def test_retries_before_a_long_command_starts_are_said_one_line_each(
    fwbatch: Fwbatch, unused_tcp_port: int, command: list[str]
) -> None:
    result = await fwbatch.run("--base-url", f"http://127.0.0.1:{unused_tcp_port}", "--retries", "3", *command)
    assert result.code == 3
    refused = f"connection refused by 127.0.0.1:{unused_tcp_port}"
    lines = result.err.splitlines()
    assert [line for line in lines if "retrying (" in line] == [
        f"fwbatch: {refused}; retrying (2/3)…",
        f"fwbatch: {refused}; retrying (3/3)…",
    ]
    assert lines[-1] == f"fwbatch: error: {refused} (check --base-url or FIREWORKS_BASE_URL)"
    assert all(len(line) < 160 for line in lines)  # no URL without -v
