from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async.emulator import JobSpec, LateLines, Scenario
from fwbatch_async.emulator.scenario import OUTCOMES


def test_json_round_trip_and_file(tmp_path: Path) -> None:
    scenario = Scenario(
        account="acme",
        seed=9,
        jobs=[
            JobSpec(id="a", batch_job_id="123", outcome="FAILED", status_message="boom", burst_every=30.0),
            JobSpec(id="b", late=LateLines(fraction=0.5, max_delay=1.0), inference_parameters={"maxTokens": 5}),
            JobSpec(
                id="c",
                outcome="NO_CAPACITY",
                capacity_wait=30.0,
                max_job_duration=3600.0,
                declared_requests=900,
                system_prompt="Be brief.",
            ),
        ],
    )
    data = scenario.to_json()
    assert data["jobs"][0]["late"] == {"fraction": 0.05, "max_delay": 3.0}
    assert Scenario.from_json(orjson.loads(orjson.dumps(data))) == scenario
    path = tmp_path / "scenario.json"
    path.write_bytes(orjson.dumps(data))
    assert Scenario.from_file(path) == scenario
    assert Scenario.load(str(path)) == scenario


def test_json_without_the_newer_keys_loads_with_their_defaults() -> None:
    old = {"id": "a", "batch_job_id": None, "outcome": "COMPLETED", "late": {"fraction": 0.05, "max_delay": 3.0}}
    job = JobSpec.from_json(old)
    assert (job.capacity_wait, job.max_job_duration, job.declared_requests, job.system_prompt) == (0.0, None, None, "")
    assert job == JobSpec(id="a")


def test_named_scenarios() -> None:
    demo = Scenario.named("demo")
    assert len(demo.jobs) >= 3
    assert any(job.outcome == "FAILED" for job in demo.jobs)
    assert max(job.start_after + job.duration for job in demo.jobs) <= 3600 * 1.1
    assert Scenario.load("demo") == demo
    assert Scenario.named("small").jobs[0].id == "job-1"
    assert Scenario.named("bench").jobs[0].start_after < 0
    with pytest.raises(ValueError, match="unknown scenario"):
        Scenario.named("nope")


@pytest.mark.parametrize(
    "job",
    [
        {"id": ""},
        {"id": "a/b"},
        {"id": "a b"},
        {"id": "x", "outcome": "DONE"},
        {"id": "x", "duplicates": 1.5},
        {"id": "x", "ranks": 0},
        {"id": "x", "duration": 0},
        {"id": "x", "lines_per_second": -1},
        {"id": "x", "burst_every": 0},
        {"id": "x", "colour": "blue"},
        {"id": "x", "late": {"fraction": 2}},
        {"id": "x", "capacity_wait": -1},
        {"id": "x", "max_job_duration": 0},
        {"id": "x", "declared_requests": -5},
    ],
)
def test_invalid_jobs_are_rejected(job: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        Scenario.from_json({"jobs": [job]})


def test_duplicate_ids_and_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        Scenario(jobs=[JobSpec(id="a"), JobSpec(id="a")])
    with pytest.raises(ValueError, match="unique"):
        Scenario(jobs=[JobSpec(id="a", batch_job_id="7"), JobSpec(id="b", batch_job_id="7")])
    with pytest.raises(ValueError, match="unknown scenario keys"):
        Scenario.from_json({"jobz": []})


jobs = st.builds(
    JobSpec,
    id=st.text(alphabet="abcdefghij-0123456789", min_size=1, max_size=12),
    requests=st.integers(0, 10**7),
    ranks=st.integers(1, 64),
    duration=st.floats(0.001, 1e6),
    start_after=st.floats(-1e5, 1e5),
    outcome=st.sampled_from(sorted(OUTCOMES)),
    status_message=st.none() | st.text(max_size=20),
    lines_per_second=st.floats(0, 10_000),
    late=st.builds(LateLines, fraction=st.floats(0, 1), max_delay=st.floats(0, 60)),
    duplicates=st.floats(0, 1),
    burst_every=st.none() | st.floats(0.5, 1000),
    burst_size=st.integers(0, 1000),
    generate_logs=st.booleans(),
    capacity_wait=st.floats(0, 1e5),
    max_job_duration=st.none() | st.floats(1, 1e6),
    declared_requests=st.none() | st.integers(0, 10**7),
    system_prompt=st.text(max_size=20),
)


@given(st.lists(jobs, max_size=4, unique_by=lambda j: j.id), st.integers(-(2**40), 2**40))
def test_any_scenario_round_trips_through_json(job_list: list[JobSpec], seed: int) -> None:
    scenario = Scenario(account="acct", seed=seed, jobs=job_list)
    assert Scenario.from_json(orjson.loads(orjson.dumps(scenario.to_json()))) == scenario
