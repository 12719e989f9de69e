"""The listing of a stream's running jobs: when it is worth it, how it pages, what it says went missing (issue 19)."""

from __future__ import annotations

import pytest

import fwbatch_async as fw
from fwbatch_async._core.actions import Wait
from fwbatch_async._core.listing import LIST_PERIOD, StateLister
from fwbatch_async._core.models import JobListPage
from fwbatch_async._core.requests import Request


def lister() -> StateLister:
    return StateLister("acct", "state,jobProgress", retry=fw.RetryPolicy(base_delay=1.0).patient(), random=lambda: 1.0)


def running(job_id: str, state: str = "RUNNING", account: str = "acct") -> fw.BatchInferenceJob:
    return fw.BatchInferenceJob(
        name=f"accounts/{account}/batchInferenceJobs/{job_id}", state=fw.JobState(f"JOB_STATE_{state}")
    )


def page(*job_ids: str, token: str | None = None) -> JobListPage:
    return JobListPage(jobs=tuple(running(job_id) for job_id in job_ids), next_page_token=token)


def covering(*job_ids: str) -> StateLister:
    states = lister()
    for job_id in job_ids:
        states.cover(job_id)
    return states


def request(states: StateLister, now: float) -> Request:
    action = states.next_request(now)
    assert isinstance(action, Request), action
    return action


def test_it_lists_the_running_jobs_with_the_fields_a_watch_reads() -> None:
    action = request(covering("a"), 0.0)
    assert action.target == (
        "/v1/accounts/acct/batchInferenceJobs?pageSize=200&filter=state%20%3D%20%22JOB_STATE_RUNNING%22"
        "&readMask=state%2CjobProgress"
    )


@pytest.mark.parametrize(("covered", "worth_it"), [(3, False), (4, True)])
def test_it_is_worth_it_for_four_jobs_or_more(covered: int, worth_it: bool) -> None:
    assert covering(*(f"j{i}" for i in range(covered))).worth_it is worth_it


def test_a_listing_of_many_pages_must_cover_twice_as_many_jobs() -> None:
    states = covering(*(f"j{i}" for i in range(5)))
    request(states, 0.0)
    states.on_page(page("j0", token="t1"), 0.1)
    assert "pageToken=t1" in request(states, 0.1).query  # the next page at once
    states.on_page(page("j1", token="t2"), 0.2)
    request(states, 0.2)
    states.on_page(page("j2", "j3", "j4"), 0.3)
    assert not states.worth_it  # three pages a listing: only six jobs or more are cheaper to list
    states.cover("j5")
    assert states.worth_it


def test_the_covered_jobs_a_whole_listing_missed_have_left_running() -> None:
    states = covering("a", "b", "c", "d")
    request(states, 0.0)
    listed, missed = states.on_page(page("a", "x", token="t"), 0.1)
    assert ([job.job_id for job in listed], missed) == (["a"], set())  # not before the listing is whole
    request(states, 0.1)
    states.cover("e")  # covered during the listing: not judged by it
    listed, missed = states.on_page(page("c"), 0.2)
    assert ([job.job_id for job in listed], missed) == (["c"], {"b", "d"})
    assert states.covered == {"a", "c", "e"}
    wait = states.next_request(0.2)
    assert isinstance(wait, Wait)
    assert wait.until == pytest.approx(0.2 + LIST_PERIOD)


def test_a_token_that_comes_back_unchanged_ends_the_listing() -> None:
    states = covering("a", "b", "c", "d")
    request(states, 0.0)
    states.on_page(page("a", token="t"), 0.1)
    request(states, 0.1)
    _, missed = states.on_page(page("b", token="t"), 0.2)
    assert missed == {"c", "d"}


def test_a_failure_retrying_fixes_is_waited_out_and_the_page_asked_again() -> None:
    states = covering("a", "b", "c", "d")
    request(states, 0.0)
    states.on_page(page("a", token="t"), 0.1)
    request(states, 0.1)
    states.on_failure(fw.ServerError("unavailable", status=503), 0.2)
    assert isinstance(states.next_request(0.2), Wait)
    assert "pageToken=t" in request(states, 5.0).query
    assert states.refused is None


def test_a_listing_the_server_refuses_turns_listing_off() -> None:
    states = covering("a", "b", "c", "d")
    request(states, 0.0)
    refusal = fw.BadRequestError("unsupported filter", status=400)
    states.on_failure(refusal, 0.1)
    assert states.refused is refusal
    assert not states.worth_it
    assert states.covered == frozenset()


@pytest.mark.parametrize(
    ("job", "coverable"),
    [
        (running("a"), True),
        (running("a", "PENDING"), False),
        (running("a", "COMPLETED"), False),
        (running("a", account="other"), False),  # a job of another account, followed by its full name
    ],
)
def test_only_running_jobs_of_the_account_listed_can_be_covered(job: fw.BatchInferenceJob, coverable: bool) -> None:
    assert lister().can_cover(job) is coverable


def test_a_request_out_must_be_answered_first() -> None:
    states = covering("a")
    request(states, 0.0)
    with pytest.raises(RuntimeError, match="a request is out"):
        states.next_request(0.0)
    states.on_page(page(), 0.1)
    with pytest.raises(RuntimeError, match="no request is out"):
        states.on_page(page(), 0.1)
