"""Every benchmark of design §4 in one run: one table of ratios (ours / reference), printed and written as JSON.

Run ``python benchmarks/bench.py`` (or ``nox -s bench``). Parts: ``read`` (targets 1-3: ``iter_logs`` against the
raw aiohttp + orjson loop and the official SDK), ``follow`` (4: catching up on 1,000,000 lines), ``fanout``
(5: 1,000 jobs followed at once, about 3 minutes a round), ``rate`` (requests as the scarce resource: a budget, an
account cap, random faults; about 10 minutes a round) and ``import`` (6). ``--smoke`` runs every part with tiny
sizes and one round, to check that the benchmarks work; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import fanout
import follow_catchup
import import_time
import read_throughput
import send_rate
from harness import HERE, Row, Settings, machine, print_table, write_json

PARTS: dict[str, Callable[[Settings], list[Row]]] = {
    "read": read_throughput.measure,
    "follow": follow_catchup.measure,
    "fanout": fanout.measure,
    "rate": send_rate.measure,
    "import": import_time.measure,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each contender; the median is kept")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one round: a check, not a measure")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where the table goes")
    args = parser.parse_args()
    parts = [part for part in args.parts.split(",") if part]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)}")
    settings = Settings(rounds=1 if args.smoke else args.rounds, smoke=args.smoke)
    meta: dict[str, object] = {"machine_before": machine(), "rounds": settings.rounds, "smoke": settings.smoke}
    started = time.monotonic()
    rows: list[Row] = []
    for part in parts:
        print(f"measuring {part} ...", flush=True)
        rows += PARTS[part](settings)
    meta["seconds"] = round(time.monotonic() - started)
    meta["load_average_after"] = machine()["load_average"]
    print_table(rows)
    write_json(rows, args.json, meta)
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
