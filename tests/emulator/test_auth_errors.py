"""Authentication, unknown resources and paths, error bodies, the Date header and the admin endpoint."""

from __future__ import annotations

import email.utils

import orjson
import pytest

from fwbatch_async.emulator import JobSpec, Realism, Scenario

from . import schemas
from .conftest import Serve
from .helpers import Api, error_of

ENDPOINT_PATHS = ["job", "logs", "list", "batch_job", "delete"]
BAD_KEYS = [
    (None, "CREDENTIALS_MISSING"),
    ("Bearer wrong-key", "API_KEY_INVALID"),
    ("Basic dGVzdC1rZXk6", "API_KEY_INVALID"),
    ("test-key", "API_KEY_INVALID"),
    ("Bearer", "API_KEY_INVALID"),
]
NOT_FOUND = {"code": 5, "details": [], "message": "resource not found"}


def path_of(api: Api, endpoint: str, job_id: str = "job-1", account: str | None = None) -> str:
    if endpoint in {"job", "delete"}:
        return api.job_path(job_id, account)
    if endpoint == "logs":
        return api.logs_path(job_id, account)
    if endpoint == "batch_job":
        return api.batch_job_path(job_id, account)
    return api.list_path(account)


async def small(serve: Serve, realism: Realism | None = None) -> Api:
    return await serve(Scenario(account="test-account", jobs=[JobSpec(id="job-1")]), realism=realism)


@pytest.mark.parametrize("endpoint", ENDPOINT_PATHS)
@pytest.mark.parametrize(("header", "reason"), BAD_KEYS)
async def test_missing_or_wrong_key_is_403_unauthorized_as_live(
    serve: Serve, endpoint: str, header: str | None, reason: str
) -> None:
    api = await small(serve)
    method = "DELETE" if endpoint == "delete" else "GET"
    reply = await api.get(path_of(api, endpoint), auth=header, method=method)
    assert reply.status == 403
    error = reply.data["error"]
    assert (error["code"], error["type"], error["param"]) == ("UNAUTHORIZED", "error", None)
    assert ("missing" in error["message"]) == (header is None)
    assert reply.data["request_id"]
    assert api.emu.job("job-1")["state"] == "JOB_STATE_VALIDATING"  # a refused DELETE deletes nothing


async def test_each_refusal_has_its_own_request_id_drawn_from_the_seed(serve: Serve) -> None:
    ids = []
    for _ in range(2):
        api = await small(serve)
        ids.append([(await api.get(api.job_path("job-1"), auth=None)).data["request_id"] for _ in range(3)])
        await api.emu.close()
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3


@pytest.mark.parametrize("endpoint", ENDPOINT_PATHS)
@pytest.mark.parametrize(("header", "reason"), BAD_KEYS)
async def test_auth_401_switch_answers_unauthenticated_with_a_status_body(
    serve: Serve, endpoint: str, header: str | None, reason: str
) -> None:
    api = await small(serve, Realism(auth_401=True))
    method = "DELETE" if endpoint == "delete" else "GET"
    reply = await api.get(path_of(api, endpoint), auth=header, method=method)
    assert reply.status == 401
    assert error_of(reply) == (16, reason)
    assert reply.data["details"][0]["domain"] == "fireworks.ai"


async def test_the_bearer_scheme_is_case_insensitive(serve: Serve) -> None:
    api = await small(serve)
    assert (await api.get(api.job_path("job-1"), auth="bearer test-key")).status == 200


@pytest.mark.parametrize("endpoint", ENDPOINT_PATHS)
async def test_unknown_account_is_404_as_live(serve: Serve, endpoint: str) -> None:
    api = await small(serve)
    method = "DELETE" if endpoint == "delete" else "GET"
    reply = await api.get(path_of(api, endpoint, account="someone-else"), method=method)
    assert reply.status == 404
    assert reply.data == NOT_FOUND


@pytest.mark.parametrize("endpoint", ["job", "logs", "batch_job", "delete"])
async def test_unknown_job_is_404_with_the_live_body(serve: Serve, endpoint: str) -> None:
    api = await small(serve)
    method = "DELETE" if endpoint == "delete" else "GET"
    reply = await api.get(path_of(api, endpoint, job_id="no-such-job"), method=method)
    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.body == b'{"code":5,"details":[],"message":"resource not found"}'


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v2/accounts/test-account/batchInferenceJobs",
        "/v1/accounts/test-account/batchJobs",
        "/v1/accounts/test-account/clusters/emulator-cluster/batchJobs",
        "/favicon.ico",
    ],
)
async def test_unknown_path_is_404_with_the_same_body_shape(serve: Serve, path: str) -> None:
    api = await small(serve)
    reply = await api.get(path)
    assert reply.status == 404
    schemas.validate(reply.data, schemas.NOT_FOUND_SCHEMA)
    assert path in reply.data["message"]


@pytest.mark.parametrize(
    ("method", "endpoint"), [("POST", "job"), ("PUT", "job"), ("DELETE", "logs"), ("DELETE", "list")]
)
async def test_other_methods_are_405(serve: Serve, method: str, endpoint: str) -> None:
    api = await small(serve)
    headers = {"Authorization": "Bearer test-key"}
    url = api.emu.base_url + path_of(api, endpoint)
    async with api.session.request(method, url, headers=headers) as response:
        assert response.status == 405
        data = orjson.loads(await response.read())
    schemas.validate(data, schemas.ERROR_SCHEMA)
    assert data["code"] == 12


async def test_parameters_are_checked_before_the_job_exists(serve: Serve) -> None:
    api = await small(serve)
    assert (await api.get(api.logs_path("missing"), {"pageSize": "-1"})).status == 400


async def test_date_header_follows_the_emulated_clock(serve: Serve) -> None:
    api = await small(serve)
    api.emu.clock.advance(86_400 * 3 + 3661.9)
    for path in (api.job_path("job-1"), api.logs_path("job-1"), api.list_path(), "/nowhere"):
        reply = await api.get(path)
        when = email.utils.parsedate_to_datetime(reply.headers["Date"])
        assert when.isoformat() == "2026-01-04T01:01:01+00:00"


async def test_admin_stats_endpoint_is_unauthenticated_json(serve: Serve) -> None:
    api = await small(serve)
    api.emu.clock.advance(300)
    await api.job("job-1")
    await api.logs("job-1", {"pageSize": "7"})
    await api.get(api.job_path("job-1"), auth=None)
    async with api.session.get(api.emu.base_url + "/_emulator/stats") as response:
        assert response.status == 200
        stats = orjson.loads(await response.read())
    assert stats["requests"] == {"job": 2, "logs": 1, "admin": 1}
    assert stats["responses"] == {"200": 2, "403": 1}  # a snapshot taken before its own response
    assert api.emu.stats.to_json() == stats | {"responses": {"200": 3, "403": 1}}
    assert stats["pagesServed"] == 1
    assert stats["perSecond"] == {"300": 3}  # API requests by emulated second, the refused one included
    assert stats["entriesServed"] == 7
