"""JSON Schemas of the responses, translated from the seed pages (OpenAPI) and fireworks-api.md.

- getLogs: ``gatewayGetBatchJobLogsResponse`` and ``gatewayLogEntry`` from the seed page of Get Batch Job Logs.
- job: the response fields of the seed page of Get Batch Inference Job, with its state and precision enums, and
  the newer fields of fireworks-api.md section 6 (expireTime, maxJobDuration, lifecycle, placement, ...).
- list: ``{"batchInferenceJobs": [job], "nextPageToken", "totalSize"}`` (fireworks-api.md section 2).
- batch job: ``accounts/{a}/clusters/{c}/batchJobs/{id}`` with its own bare state enum (section 6).
- errors: google.rpc.Status with a numeric code and ErrorInfo details (section 3); as captured live (section 6):
  404 ``{"code": 5, "details": [], "message"}``, 403 ``{"error": {... "code": "UNAUTHORIZED"}, "request_id"}`` and
  429 ``{"error": "Too Many Requests"}``.

``strict`` adds ``additionalProperties: false`` (the emulator sends nothing undocumented unless asked to);
``complete`` requires every field, as the live server writes defaults out (off for the omit-defaults switch);
``int64_strings`` lets counters be decimal strings (the hostile switch); ``any_state`` accepts unknown states.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema

SEED_STATES = [
    "JOB_STATE_UNSPECIFIED",
    "JOB_STATE_CREATING",
    "JOB_STATE_RUNNING",
    "JOB_STATE_COMPLETED",
    "JOB_STATE_FAILED",
    "JOB_STATE_CANCELLED",
    "JOB_STATE_DELETING",
    "JOB_STATE_WRITING_RESULTS",
    "JOB_STATE_VALIDATING",
    "JOB_STATE_DELETING_CLEANING_UP",
    "JOB_STATE_PENDING",
    "JOB_STATE_EXPIRED",
    "JOB_STATE_RE_QUEUEING",
    "JOB_STATE_CREATING_INPUT_DATASET",
    "JOB_STATE_IDLE",
]
SEED_PRECISIONS = [
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
RPC_CODE_NAMES = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]
BATCH_JOB_STATES = [
    "STATE_UNSPECIFIED",
    "CREATING",
    "QUEUED",
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CANCELLING",
    "CANCELLED",
    "DELETING",
]
INT64_PROGRESS = [
    "totalInputRequests",
    "totalProcessedRequests",
    "successfullyProcessedRequests",
    "failedRequests",
    "outputRows",
    "inputTokens",
    "outputTokens",
    "cachedInputTokenCount",
]
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")

FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or RFC3339.fullmatch(value) is not None)

INT32: dict[str, Any] = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
STRING: dict[str, Any] = {"type": "string"}
DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
DURATION: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{3}|\.[0-9]{6}|\.[0-9]{9})?s$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [{"type": "null"}, schema]}


def _object(
    properties: dict[str, Any], *, strict: bool, required: list[str] | None = None, complete: bool = False
) -> dict[str, Any]:
    """An object schema; ``complete`` requires every property (defaults written out)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if strict:
        schema["additionalProperties"] = False
    if complete:
        required = list(properties)
    if required:
        schema["required"] = required
    return schema


def log_entry_schema(*, strict: bool = True, complete: bool = True) -> dict[str, Any]:
    return _object({"logTime": DATE_TIME, "rank": INT32, "message": STRING}, strict=strict, complete=complete)


def logs_response_schema(*, strict: bool = True, complete: bool = True) -> dict[str, Any]:
    return _object(
        {
            "entries": {"type": "array", "items": log_entry_schema(strict=strict, complete=complete)},
            "nextPageToken": STRING,
        },
        strict=strict,
        complete=complete,
    )


def job_schema(
    *, strict: bool = True, complete: bool = True, int64_strings: bool = False, any_state: bool = False
) -> dict[str, Any]:
    counter: dict[str, Any] = (
        {"anyOf": [INT32, {"type": "string", "pattern": r"^-?[0-9]+$"}]} if int64_strings else INT32
    )
    progress = {"percent": INT32, "epoch": INT32} | dict.fromkeys(INT64_PROGRESS, counter)
    state = {"type": "string", "pattern": "^JOB_STATE_[A-Z_]+$"} if any_state else {"enum": SEED_STATES}
    return _object(
        {
            "name": STRING,
            "displayName": STRING,
            "createTime": DATE_TIME,
            "createdBy": STRING,
            "state": state,
            "status": _object({"code": {"enum": RPC_CODE_NAMES}, "message": STRING}, strict=strict, complete=complete),
            "model": STRING,
            "inputDatasetId": STRING,
            "outputDatasetId": STRING,
            "inferenceParameters": _object(
                {
                    "maxTokens": INT32,
                    "temperature": {"type": "number"},
                    "topP": {"type": "number"},
                    "n": INT32,
                    "extraBody": STRING,
                    "topK": INT32,
                },
                strict=strict,
                complete=complete,
            ),
            "updateTime": DATE_TIME,
            "precision": {"enum": SEED_PRECISIONS},
            "jobProgress": _nullable(_object(progress, strict=strict, complete=complete)),
            "continuedFromJobName": STRING,
            "expireTime": DATE_TIME,
            "maxJobDuration": _nullable(DURATION),
            "lifecycle": _nullable(
                _object(
                    dict.fromkeys(("validatedTime", "runStartTime", "endTime"), _nullable(DATE_TIME)),
                    strict=strict,
                    complete=complete,
                )
            ),
            "placement": _nullable(
                _object(
                    {"region": STRING, "multiRegion": STRING, "regions": {"type": "array", "items": STRING}},
                    strict=strict,
                )
            ),
            "systemPrompt": STRING,
            "waitingOnCapacity": {"type": "boolean"},
        },
        strict=strict,
        complete=complete,
    )


def list_response_schema(**job_options: bool) -> dict[str, Any]:
    return _object(
        {
            "batchInferenceJobs": {"type": "array", "items": job_schema(**job_options)},
            "nextPageToken": STRING,
            "totalSize": INT32,
        },
        strict=job_options.get("strict", True),
        complete=job_options.get("complete", True),
    )


def batch_job_schema(*, strict: bool = True, complete: bool = True) -> dict[str, Any]:
    return _object(
        {
            "name": {"type": "string", "pattern": "^accounts/[^/]+/clusters/[^/]+/batchJobs/[^/]+$"},
            "createTime": DATE_TIME,
            "startTime": _nullable(DATE_TIME),
            "endTime": _nullable(DATE_TIME),
            "createdBy": STRING,
            "numRanks": INT32,
            "state": {"enum": BATCH_JOB_STATES},
            "status": STRING,
        },
        strict=strict,
        complete=complete,
    )


ERROR_SCHEMA: dict[str, Any] = _object(
    {
        "code": {"type": "integer", "minimum": 1, "maximum": 16},
        "message": STRING,
        "details": {
            "type": "array",
            "items": _object(
                {
                    "@type": {"const": "type.googleapis.com/google.rpc.ErrorInfo"},
                    "reason": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
                    "domain": STRING,
                    "metadata": {"type": "object", "additionalProperties": STRING},
                },
                strict=True,
                required=["@type", "reason", "domain"],
            ),
            "minItems": 1,
        },
    },
    strict=True,
    required=["code", "message", "details"],
)


NOT_FOUND_SCHEMA: dict[str, Any] = _object(
    {"code": {"const": 5}, "details": {"const": []}, "message": STRING}, strict=True, complete=True
)
AUTH_ERROR_SCHEMA: dict[str, Any] = _object(
    {
        "error": _object(
            {
                "message": STRING,
                "param": {"type": "null"},
                "code": {"const": "UNAUTHORIZED"},
                "type": {"const": "error"},
            },
            strict=True,
            complete=True,
        ),
        "request_id": {"type": "string", "minLength": 1},
    },
    strict=True,
    complete=True,
)
PLAIN_429_SCHEMA: dict[str, Any] = _object({"error": {"const": "Too Many Requests"}}, strict=True, complete=True)
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "maxProperties": 0}


def error_schema(status: int) -> dict[str, Any]:
    """The error body a status comes with: the live shapes for 403, 404 and some 429s; google.rpc.Status else."""
    if status == 404:
        return NOT_FOUND_SCHEMA
    if status == 403:
        return AUTH_ERROR_SCHEMA
    if status == 429:
        return {"anyOf": [ERROR_SCHEMA, PLAIN_429_SCHEMA]}
    return ERROR_SCHEMA


def validate(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(instance, schema, format_checker=FORMATS)
