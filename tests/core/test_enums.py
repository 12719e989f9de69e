from __future__ import annotations

import pickle

import pytest

from fwbatch_async import JobState, Precision, StateCategory

# fireworks-api.md §2: the 20 current values and the 6 of older protos.
DOCUMENTED_STATES = [
    "UNSPECIFIED",
    "CREATING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "DELETING",
    "WRITING_RESULTS",
    "VALIDATING",
    "DELETING_CLEANING_UP",
    "PENDING",
    "EXPIRED",
    "RE_QUEUEING",
    "CREATING_INPUT_DATASET",
    "IDLE",
    "CANCELLING",
    "EARLY_STOPPED",
    "PAUSED",
    "DELETED",
    "ARCHIVED",
    "ROLLOUT",
    "EVALUATION",
    "FAILED_CLEANING_UP",
    "POLICY_UPDATE",
    "EXPIRED_CLEANING_UP",
    "CREATING_DEPENDENCIES",
]

# The classification table of fireworks-api.md §2, verbatim.
TABLE = {
    StateCategory.SUCCESS: {"COMPLETED"},
    StateCategory.PARTIAL: {"EXPIRED"},
    StateCategory.FAILURE: {"FAILED", "FAILED_CLEANING_UP", "EXPIRED_CLEANING_UP"},
    StateCategory.CANCELLED: {"CANCELLED", "EARLY_STOPPED"},
    StateCategory.GONE: {"DELETED", "ARCHIVED", "DELETING", "DELETING_CLEANING_UP"},
    StateCategory.ENDING: {"CANCELLING", "WRITING_RESULTS"},
    StateCategory.PAUSED: {"PAUSED"},
}

FINISHED = {
    StateCategory.SUCCESS,
    StateCategory.PARTIAL,
    StateCategory.FAILURE,
    StateCategory.CANCELLED,
    StateCategory.GONE,
}

# The seed page's precision options.
DOCUMENTED_PRECISIONS = [
    "PRECISION_UNSPECIFIED",
    "FP16",
    "FP8",
    "FP8_MM",
    "FP8_AR",
    "FP8_MM_KV_ATTN",
    "FP8_KV",
    "FP8_MM_V2",
    "FP8_V2",
    "FP8_MM_KV_ATTN_V2",
    "NF4",
    "FP4",
    "BF16",
    "FP4_BLOCKSCALED_MM",
    "FP4_MX_MOE",
]


def test_every_documented_state_is_known() -> None:
    assert len(DOCUMENTED_STATES) == 26
    assert {member.value for member in JobState} == {f"JOB_STATE_{name}" for name in DOCUMENTED_STATES}
    assert all(JobState(f"JOB_STATE_{name}").is_known for name in DOCUMENTED_STATES)


@pytest.mark.parametrize("name", DOCUMENTED_STATES)
def test_classification_follows_the_documented_table(name: str) -> None:
    state = JobState(f"JOB_STATE_{name}")
    expected = next((category for category, names in TABLE.items() if name in names), StateCategory.ACTIVE)
    assert state.category is expected
    assert state.is_finished == (expected in FINISHED)
    flags = {
        StateCategory.SUCCESS: state.is_success,
        StateCategory.PARTIAL: state.is_partial,
        StateCategory.FAILURE: state.is_failure,
        StateCategory.CANCELLED: state.is_cancelled,
        StateCategory.GONE: state.is_gone,
        StateCategory.ENDING: state.is_ending,
        StateCategory.PAUSED: state.is_paused,
        StateCategory.ACTIVE: state.is_active,
    }
    assert [category for category, flag in flags.items() if flag] == [expected]


def test_an_unknown_state_is_kept_visible_and_counts_as_active() -> None:
    state = JobState("JOB_STATE_WARMING_UP")
    assert isinstance(state, JobState)
    assert state.value == "JOB_STATE_WARMING_UP"
    assert state == "JOB_STATE_WARMING_UP"
    assert state.short_name == "WARMING_UP"
    assert not state.is_known
    assert not state.is_finished
    assert state.is_active
    assert "JOB_STATE_WARMING_UP" in repr(state)
    assert pickle.loads(pickle.dumps(state)) == state
    assert JobState("JOB_STATE_WARMING_UP") == state


@pytest.mark.parametrize("bad", ["", 3, None, b"JOB_STATE_RUNNING"])
def test_only_non_empty_strings_become_unknown_states(bad: object) -> None:
    with pytest.raises(ValueError, match="not a valid JobState"):
        JobState(bad)  # type: ignore[arg-type]


def test_from_name_accepts_short_and_full_names_case_insensitively() -> None:
    assert JobState.from_name("running") is JobState.RUNNING
    assert JobState.from_name(" JOB_STATE_completed ") is JobState.COMPLETED
    with pytest.raises(ValueError, match="unknown job state 'runing'"):
        JobState.from_name("runing")


def test_every_documented_precision_is_known_and_unknown_ones_are_kept() -> None:
    assert {member.value for member in Precision} == set(DOCUMENTED_PRECISIONS)
    future = Precision("FP2")
    assert not future.is_known
    assert future.value == "FP2"
    assert Precision("BF16") is Precision.BF16
