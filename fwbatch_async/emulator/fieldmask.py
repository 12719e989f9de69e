"""``readMask`` field masks: comma-separated paths, camelCase or snake_case, dotted for nested fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from fwbatch_async.emulator.wire import ApiError

__all__ = ["BATCH_JOB_FIELDS", "INT64_PROGRESS_FIELDS", "JOB_FIELDS", "LOG_ENTRY_FIELDS", "apply_mask", "parse_mask"]

# jobProgress counters the int64-as-strings switch writes as strings (int32 in the published schema: numbers live).
INT64_PROGRESS_FIELDS: Final = frozenset(
    {
        "totalInputRequests",
        "totalProcessedRequests",
        "successfullyProcessedRequests",
        "failedRequests",
        "outputRows",
        "inputTokens",
        "outputTokens",
        "cachedInputTokenCount",
    }
)

# The documented fields (seed page and fireworks-api.md section 6): top-level name -> its subfields (empty for
# scalars).
JOB_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "name": frozenset(),
    "displayName": frozenset(),
    "createTime": frozenset(),
    "createdBy": frozenset(),
    "state": frozenset(),
    "status": frozenset({"code", "message"}),
    "model": frozenset(),
    "inputDatasetId": frozenset(),
    "outputDatasetId": frozenset(),
    "inferenceParameters": frozenset({"maxTokens", "temperature", "topP", "n", "extraBody", "topK"}),
    "updateTime": frozenset(),
    "precision": frozenset(),
    "jobProgress": INT64_PROGRESS_FIELDS | {"percent", "epoch"},
    "continuedFromJobName": frozenset(),
    "expireTime": frozenset(),
    "maxJobDuration": frozenset(),
    "lifecycle": frozenset({"validatedTime", "runStartTime", "endTime"}),
    "placement": frozenset({"region", "multiRegion", "regions"}),
    "systemPrompt": frozenset(),
    "waitingOnCapacity": frozenset(),
}
BATCH_JOB_FIELDS: Final[Mapping[str, frozenset[str]]] = dict.fromkeys(
    ("name", "createTime", "startTime", "endTime", "createdBy", "numRanks", "state", "status"), frozenset()
)
LOG_ENTRY_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "logTime": frozenset(),
    "rank": frozenset(),
    "message": frozenset(),
}

# A mask: top-level field -> None for the whole field, or the set of subfields wanted.
Mask = dict[str, set[str] | None]


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def parse_mask(text: str, fields: Mapping[str, frozenset[str]], prefix: str = "") -> Mask | None:
    """Parse a readMask against the known ``fields``; None means every field.

    ``prefix`` is an optional leading path segment (``"entries"`` for log entries) that may precede each path.

    Raises:
        ApiError: INVALID_ARGUMENT for a path that names no known field.
    """
    paths = [p.strip() for p in text.split(",") if p.strip()]
    if not paths or "*" in paths:
        return None
    mask: Mask = {}
    for path in paths:
        parts = [_camel(part) for part in path.split(".")]
        if prefix and len(parts) > 1 and parts[0] == prefix:
            parts = parts[1:]
        match parts:
            case [top] if top in fields:
                mask[top] = None
            case [top, sub] if top in fields and sub in fields[top]:
                wanted = mask.get(top, set())
                if wanted is not None:  # None: the whole field is already wanted
                    wanted.add(sub)
                    mask[top] = wanted
            case _:
                raise ApiError("INVALID_ARGUMENT", f"invalid read_mask path {path!r}", "INVALID_READ_MASK")
    return mask


def apply_mask(resource: Mapping[str, Any], mask: Mask | None) -> dict[str, Any]:
    """Keep only the masked fields of ``resource``; fields absent from it stay absent."""
    if mask is None:
        return dict(resource)
    out: dict[str, Any] = {}
    for top, subfields in mask.items():
        if top not in resource:
            continue
        value = resource[top]
        if subfields is None or not isinstance(value, Mapping):  # a null sub-object stays null
            out[top] = value
        else:
            kept = {k: v for k, v in value.items() if k in subfields}
            if kept:
                out[top] = kept
    return out
