"""Properties over random queries: any page size, cut, direction and rank subset reassembles exactly."""

from __future__ import annotations

import asyncio

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fwbatch_async.emulator import Emulator, JobSpec, LateLines, ManualClock, Realism, Scenario

from .helpers import Api, ns_of

SCENARIO = Scenario(
    account="test-account",
    seed=5,
    jobs=[
        JobSpec(
            id="j",
            duration=60.0,
            start_after=-100.0,
            ranks=3,
            lines_per_second=30.0,
            duplicates=0.1,
            burst_every=15.0,
            burst_size=40,
            late=LateLines(fraction=0.0),
        )
    ],
)


async def reassemble(
    *, page_size: int, cut: float, head: bool, ranks: list[int], realism: Realism
) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    async with Emulator(SCENARIO, clock=ManualClock(), realism=realism) as emu, aiohttp.ClientSession() as session:
        api = Api(session, emu)
        truth = emu.logs("j")
        start = truth[int(cut * (len(truth) - 1))][0]
        params = [("pageSize", str(page_size)), ("startTime", start), ("startFromHead", str(head).lower())]
        params += [("ranks", str(r)) for r in ranks]
        got, _ = await api.read_all("j", params)
        expected = [e for e in truth if ns_of(e[0]) >= ns_of(start) and (not ranks or e[1] in ranks)]
        return got, expected if head else expected[::-1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    page_size=st.integers(1, 400),
    cut=st.floats(0, 1),
    head=st.booleans(),
    ranks=st.lists(st.integers(0, 3), max_size=3, unique=True),
    empty=st.sampled_from([0.0, 0.3]),
    repeat=st.booleans(),
)
def test_random_queries_reassemble_to_the_log(
    *, page_size: int, cut: float, head: bool, ranks: list[int], empty: float, repeat: bool
) -> None:
    realism = Realism(empty_pages_with_token=empty, repeat_end_token=repeat, fraction_digits={0, 3, 6, 9})
    got, expected = asyncio.run(reassemble(page_size=page_size, cut=cut, head=head, ranks=ranks, realism=realism))
    assert got == expected
